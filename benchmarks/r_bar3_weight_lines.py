"""Search (run once) for the r̄(3) weight-line data shipped in hmoe_theory/data/r_systems/weight_lines.csv.

The r-system P_1..P_6 for m = 3 (hmoe_theory.interactions.r_systems.system) with the normalisations a_1 = 1
(scale u -> u / a_1 after a permutation making a_1 != 0) and w = (1, t, k) on the weight line w_3 = k is a
system in (a2, a3, b1, b2, b3, t). For each k this script asks Singular (Debian package ``singular``, not a
project dependency) for

* E(t), a generator of the elimination ideal <P_1..P_6> ∩ Q[t], factored over Q;
* for each factor f with a positive real root: the reduced lex Gröbner basis of <P_1..P_6, f>
  (a2 > a3 > b1 > b2 > b3 > t), expected in the shape f(t), b3^2 + B(t) b3 + C(t), b2 - .., b1 - .., a3 - .., a2 - ..

and writes one CSV row per term. hmoe_theory.interactions.r_bar_lines replays the real-root part of the argument
in ball arithmetic. Usage: python benchmarks/r_bar3_weight_lines.py [k ...]  (default k = 1/4 1/2 1 2, the shipped lines).
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import sympy as sp

from hmoe_theory.interactions.r_systems import system

OUT = Path(__file__).resolve().parent.parent / "hmoe_theory" / "data" / "r_systems" / "weight_lines.csv"
VARIABLES = sp.symbols("a2 a3 b1 b2 b3 t")
SCRIPT = """
ring R=0,(a2,a3,b1,b2,b3,t),dp;
ideal I={ideal};
option(redSB);
ideal G=std(I);
poly E=eliminate(G, a2*a3*b1*b2*b3)[1];
list F=factorize(E);
int i; int j;
for (i=1; i<=size(F[1]); i++) {{ print("FACTOR"); print(F[1][i]); }}
int n=size(F[1]);
ring S=0,(a2,a3,b1,b2,b3,t),lp;
setring R;
for (i=1; i<=n; i++) {{
  ideal J=std(I+ideal(F[1][i]));
  if (dim(J) == 0) {{
    setring S; ideal L=fglm(R, J);
    print("BASIS " + string(i));
    for (j=1; j<=size(L); j++) {{ print(L[j]); }}
    kill L; setring R;
  }} else {{ print("POSDIM " + string(i)); }}
  kill J;
}}
quit;
"""


def _singular_input(k: Fraction) -> str:
    a2, a3, b1, b2, b3, t = VARIABLES
    equations = system(3, 6, [1, a2, a3], [b1, b2, b3], [1, t, sp.Rational(k.numerator, k.denominator)])
    cleared = [sp.Poly(e, *VARIABLES).clear_denoms()[1].as_expr() for e in equations]
    return SCRIPT.format(ideal=",".join(str(e).replace("**", "^") for e in cleared))


def _parse(text: str) -> sp.Poly:
    return sp.Poly(sp.sympify(text.replace("^", "**"), locals={str(v): v for v in VARIABLES}), *VARIABLES)


def run_line(k: Fraction) -> tuple[list[sp.Poly], dict[int, list[sp.Poly]], float]:
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile("w", suffix=".sing", delete=False) as handle:
        handle.write(_singular_input(k))
    out = subprocess.run(["Singular", "-q", handle.name], capture_output=True, text=True, check=True).stdout
    factors, bases = [], {}
    lines = out.splitlines()
    mode, buffer = None, []
    for line in lines + ["END"]:
        if line.startswith(("FACTOR", "BASIS", "POSDIM", "END")):
            if mode == "factor":
                factors.append(_parse("".join(buffer)))
            elif mode is not None:
                bases.setdefault(mode, []).extend(buffer)
            buffer = []
            mode = "factor" if line.startswith("FACTOR") else (int(line.split()[1]) if line.startswith("BASIS") else None)
        else:
            buffer.append(line.strip())
    parsed = {i: [_parse(p) for p in polys] for i, polys in bases.items()}
    return factors, parsed, time.perf_counter() - started


def main(ks: list[Fraction]) -> None:
    rows = []
    for k in ks:
        factors, bases, seconds = run_line(k)
        t = VARIABLES[-1]
        print(f"k = {k}: {len(factors)} factors of degrees {[f.degree(t) for f in factors]}, {seconds:.1f} s", flush=True)
        for index, factor in enumerate(factors, 1):
            if factor.is_ground:
                continue
            positive = [r for r in sp.Poly(factor.as_expr(), t).real_roots() if r > 0]
            polys = [factor] if not positive else bases[index]
            for position, poly in enumerate(polys):
                for monomial, coefficient in poly.terms():
                    rows.append([str(k), index, position, *monomial, str(coefficient)])
    with OUT.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["k", "factor", "polynomial", *map(str, VARIABLES), "coefficient"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} terms to {OUT}")


if __name__ == "__main__":
    main([Fraction(a) for a in sys.argv[1:]] or [Fraction(1, 4), Fraction(1, 2), Fraction(1), Fraction(2)])
