"""The L-BFGS two-loop recursion equals the dense inverse-BFGS update, proved by sympy.

theory/adaqn.md §2–§3 (Q1, Q2). With symbolic pairs ``s_i, y_i ∈ ℝⁿ`` (symbols
``s{i}_{k}``, ``y{i}_{k}``), a symbolic diagonal ``H₀ = diag(h_k)`` and a symbolic vector
``g``, for memory m::

    H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ,   ρ = 1/(yᵀs)     (oldest → newest)
    TwoLoop(g)  (Nocedal & Wright Alg. 7.4)

:func:`two_loop_residual` returns ``simplify(TwoLoop(g) − H g)`` (all zero) and
:func:`secant_residual` ``simplify(H y_m − s_m)`` (all zero) — identities of rational
functions, valid wherever every yᵀs ≠ 0. m = 1, 2 with n = 2 (~1 s); n = 3, m = 2 is
slower and is not run in the suite.

:func:`dense_oracle` lambdifies the symbolic dense H (sympy's matrix algebra, none of the
numeric code): ``(S, Y, h0) -> H`` for the test suite to compare with
:func:`rnnverify.quasi_newton.dense_inverse_bfgs` and ``two_loop``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

__all__ = ["dense_oracle", "secant_residual", "two_loop_residual"]


def _symbols(n: int, m: int) -> tuple[list[Any], list[Any], Any, Any]:
    S = [sp.Matrix([sp.Symbol(f"s{i}_{k}", real=True) for k in range(n)]) for i in range(m)]
    Y = [sp.Matrix([sp.Symbol(f"y{i}_{k}", real=True) for k in range(n)]) for i in range(m)]
    h = sp.Matrix([sp.Symbol(f"h_{k}", positive=True) for k in range(n)])
    g = sp.Matrix([sp.Symbol(f"g_{k}", real=True) for k in range(n)])
    return S, Y, h, g


def _dense(S: list[Any], Y: list[Any], h: Any) -> Any:
    n = h.shape[0]
    H = sp.diag(*h)
    eye = sp.eye(n)
    for s, y in zip(S, Y, strict=True):
        rho = 1 / (y.T * s)[0, 0]
        H = (eye - rho * s * y.T) * H * (eye - rho * y * s.T) + rho * s * s.T
    return H


def _two_loop(g: Any, S: list[Any], Y: list[Any], h: Any) -> Any:
    m = len(S)
    rho = [1 / (Y[i].T * S[i])[0, 0] for i in range(m)]
    a: list[Any] = [0] * m
    q = g
    for i in reversed(range(m)):
        a[i] = rho[i] * (S[i].T * q)[0, 0]
        q = q - a[i] * Y[i]
    r = sp.Matrix([h[k] * q[k] for k in range(h.shape[0])])
    for i in range(m):
        beta = rho[i] * (Y[i].T * r)[0, 0]
        r = r + S[i] * (a[i] - beta)
    return r


@functools.cache
def two_loop_residual(n: int, m: int) -> tuple[Any, ...]:
    """``simplify(TwoLoop(g) − H_dense g)``, entry by entry (all zero)."""
    S, Y, h, g = _symbols(n, m)
    diff = _two_loop(g, S, Y, h) - _dense(S, Y, h) * g
    return tuple(sp.simplify(sp.together(e)) for e in diff)


@functools.cache
def secant_residual(n: int, m: int) -> tuple[Any, ...]:
    """``simplify(H_dense y_newest − s_newest)`` (all zero); older pairs are not zero."""
    S, Y, h, _ = _symbols(n, m)
    diff = _dense(S, Y, h) * Y[-1] - S[-1]
    return tuple(sp.simplify(sp.together(e)) for e in diff)


@functools.cache
def dense_oracle(n: int, m: int) -> Callable[[Any, Any, Any], Any]:
    """Lambdified symbolic dense inverse-BFGS matrix: ``(S, Y, h0) -> H`` (S, Y rows)."""
    S, Y, h, _ = _symbols(n, m)
    args = [*(x for s in S for x in s), *(x for y in Y for x in y), *h]
    fn = sp.lambdify(args, _dense(S, Y, h), modules="numpy")

    def oracle(S_: Any, Y_: Any, h0: Any) -> Any:
        flat = [*np.ravel(S_), *np.ravel(Y_), *np.broadcast_to(h0, (n,))]
        return np.asarray(fn(*flat), dtype=np.float64)

    return oracle
