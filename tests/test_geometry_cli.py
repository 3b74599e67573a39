"""``hmoe curvature``: values, exact/reference outputs, one-line errors."""

import json

import pytest

from hmoe_theory.cli import main


def run(capsys, *argv):
    code = main(["curvature", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_sphere_json_gives_one_quarter(capsys):
    code, out, _ = run(
        capsys, "--map", "[R*cos(u)*cos(v), R*cos(u)*sin(v), R*sin(u)]", "--coords", "u,v",
        "--at", "u=0.1,v=0.2", "--set", "R=2", "--json",
    )
    result = json.loads(out)
    assert code == 0
    assert abs(result["gaussian_curvature"] - 0.25) < 1e-12
    assert abs(result["scalar_curvature"] - 0.5) < 1e-12
    assert abs(result["metric"][0][0] - 4) < 1e-12


def test_gated_witness_exact_and_reference(capsys):
    code, out, _ = run(
        capsys, "--map", "[sigmoid(-u-v+2), sigmoid(-u), sigmoid(-v-2)]", "--coords", "u,v",
        "--at", "u=0,v=0", "--exact", "--digits", "30", "--json",
    )
    result = json.loads(out)
    assert code == 0
    assert result["reference_gaussian_curvature"].startswith("1.95928834650579479103670288")
    # canonical form: a reduced fraction in exp(2), checked at 50 digits by the command itself
    assert result["exact"]["gaussian_curvature"] == "4*(-1 + exp(2))**2*(1 + exp(2))**6/(1 + 4*exp(2) + 14*exp(4) + 4*exp(6) + exp(8))**2"
    assert "50 digits" in result["exact"]["check"]


def test_sigma_and_plane_options(capsys):
    code, out, _ = run(capsys, "--map", "[u, v, u*v]", "--coords", "u,v", "--at", "u=0,v=0", "--sigma", "[1,2,3]", "--json")
    assert code == 0 and abs(json.loads(out)["gaussian_curvature"] + 2 / 3) < 1e-12
    code, out, _ = run(
        capsys, "--map", "[x, y, z, x*y*z]", "--coords", "x,y,z", "--at", "x=1,y=2,z=0.5",
        "--plane", "1,0,0;0,1,1", "--exact", "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["exact"]["scalar_curvature"] == "-72/625"
    assert abs(result["scalar_curvature"] + 72 / 625) < 1e-12


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--map", "[u, u, u]", "--coords", "u,v", "--at", "u=0,v=0"], "rank-deficient"),
        (["--map", "[u, v, w]", "--coords", "u,v", "--at", "u=0,v=0"], "unknown name 'w'"),
        (["--map", "[u, v, u*v]", "--coords", "u,v", "--at", "u=0"], "no value for parameter(s) v"),
        (["--map", "[u, v, u*v]", "--coords", "u,v", "--at", "u=0,v=0,w=1"], "not coordinates"),
        (["--map", "[u, v]", "--coords", "u,v", "--at", "u=0,v=0", "--sigma", "1,2,2,1"], "not positive definite"),
        (["--map", "[u, v, u*v]", "--coords", "u,v", "--at", "u=0,v=0", "--plane", "1,0"], "two vectors"),
        (["--map", "[u, v, __class__]", "--coords", "u,v", "--at", "u=0,v=0"], "not allowed"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1
