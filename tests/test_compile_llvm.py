"""compile.compile_llvm_rows: the machine-code row kernel (symengine LLVM) against sympy, and its refusal."""

import numpy as np
import pytest
import sympy as sp

from hmoe_theory import compile as compile_module
from hmoe_theory.compile import compile_exprs, compile_llvm_rows
from hmoe_theory.errors import ModelError

x, a, b = sp.symbols("x a b")
EXPRS = [sp.exp(a * x) / (1 + sp.exp(a * x + b)), a * x**2 - b, sp.tanh(b * x)]


def test_rows_kernel_matches_the_numpy_kernel():
    rows = np.random.default_rng(0).normal(size=(257, 3))
    out = np.empty((257, len(EXPRS)))
    compile_llvm_rows(EXPRS, [x, a, b])(rows, out=out)
    expected = compile_exprs(EXPRS, [x, a, b])(*rows.T).T
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-15)


def test_a_symengine_without_llvm_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(compile_module.se, "have_llvm", False)
    with pytest.raises(ModelError, match="without LLVM") as caught:
        compile_llvm_rows(EXPRS, [x, a, b])
    assert "\n" not in str(caught.value)
