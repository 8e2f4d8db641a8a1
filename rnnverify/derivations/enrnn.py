"""The derivative of a simple eigenvalue, derived by sympy on a 2×2 matrix (ENRNN §3.3).

For ``M = [[a, b], [c, d]]`` with the real dominant eigenvalue
``λ = (a + d)/2 + sqrt(((a − d)/2)² + bc)`` (discriminant > 0), sympy differentiates λ
entrywise and compares with the eigenvector formula of theory/orthogonal.md §3.3::

    ∂λ/∂M = v uᵀ/(vᵀu),    u = (b, λ − a) (Mu = λu),    v = (c, λ − a) (vᵀM = λvᵀ)

:func:`eigenvalue_derivative_identity` returns the simplified difference (the zero
matrix); :func:`eigenvalue_derivative_2x2` hands out the lambdified ``sympy.diff``
of λ, which the tests compare with the optimizer's ``P`` (rnnverify/optimizers/enrnn.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp


@functools.cache
def _symbols() -> tuple[Any, ...]:
    a, b, c, d = sp.symbols("a b c d", real=True)
    lam = (a + d) / 2 + sp.sqrt(((a - d) / 2) ** 2 + b * c)
    grad = sp.Matrix([[sp.diff(lam, a), sp.diff(lam, b)], [sp.diff(lam, c), sp.diff(lam, d)]])
    u = sp.Matrix([b, lam - a])
    v = sp.Matrix([c, lam - a])
    formula = (v * u.T) / (v.T * u)[0, 0]
    return a, b, c, d, lam, grad, formula


def eigenvalue_derivative_identity() -> Any:
    """``sympy.diff(λ, M) − v uᵀ/(vᵀu)``, simplified (a 2×2 zero matrix)."""
    *_, grad, formula = _symbols()
    return sp.simplify(grad - formula)


@functools.cache
def eigenvalue_derivative_2x2() -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``M -> (λ, ∂λ/∂M)`` from ``sympy.diff`` (2×2, real dominant eigenvalue)."""
    a, b, c, d, lam, grad, _ = _symbols()
    f_lam = sp.lambdify((a, b, c, d), lam, modules="numpy")
    f_grad = sp.lambdify((a, b, c, d), grad, modules="numpy")

    def evaluate(M: np.ndarray) -> tuple[float, np.ndarray]:
        args = (M[0, 0], M[0, 1], M[1, 0], M[1, 1])
        return float(f_lam(*args)), np.asarray(f_grad(*args), dtype=np.float64)

    return evaluate
