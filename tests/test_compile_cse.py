"""The structural common-subexpression pass of hmoe_theory.compile (sympy.cse's format, linear in the DAG)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from hmoe_theory.compile import compile_exprs, shared_subexpressions


def test_shared_subexpressions_substitute_back_and_give_the_same_kernel_values():
    x, y = sp.symbols("x y", real=True)
    exprs = [sp.exp(x * y) * (x + 1), sp.exp(x * y) + sp.Abs(x + 1) / (x + 1) ** 2, x, sp.exp(x * y) * (x + 1)]
    replacements, reduced = shared_subexpressions(exprs)
    assert [value for _, value in replacements][:2] == [x + 1, sp.exp(x * y)]  # defined before use, children first
    back = reduced
    for symbol, value in reversed(replacements):
        back = [e.xreplace({symbol: value}) for e in back]
    assert back == exprs
    points = (np.array([0.5, -1.0, 2.0]), np.array([2.0, 3.0, -0.25]))
    np.testing.assert_allclose(compile_exprs(exprs, [x, y], cse=shared_subexpressions)(*points),
                               compile_exprs(exprs, [x, y])(*points), rtol=1e-15)
