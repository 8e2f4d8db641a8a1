"""The ADMM formulation's block gradients, closed-form block minimizers and identities, by sympy.

theory/admm.md §3.3, §5, §6, §12. The augmented Lagrangian of rnnverify/admm.py is built
symbolically for a tiny unfolded problem (every weight, auxiliary, dual and data entry a
symbol; ν, ρ positive symbols; w = 1/(B·|S|))::

    L = (w/2)Σ_{t∈S}‖o_t − y_t‖² + (ν/2)Σ_t(‖a_t − Ux_t − Wh_{t−1} − b‖² + ‖h_t − tanh a_t‖²)
        + Σ_{t∈S}⟨λ_t, o_t − Vh_t − c⟩ + (ρ/2)Σ_{t∈S}‖o_t − Vh_t − c‖²

and sympy differentiates and solves it; nothing here uses the numeric code.

* :func:`gradient_oracle` — ``∂L/∂X`` for a block X, lambdified: the reference for
  ``rnnverify.admm.block_gradient`` (the harness's closed forms).
* :func:`minimizer_oracle` — ``argmin_X L`` for the quadratic blocks b, c, h (all h_t
  jointly) and o (exact prox of the squared loss), by solving ``∂L/∂X = 0``: the reference
  for the optimizer's exact block updates.
* :func:`lagrangian_oracle` — L itself, for the harness's evaluation.
* :func:`dual_identity_residual` — substitute the o-update into the dual step:
  ``λ⁺ + ∇R(o^k)`` (linearized o) and ``λ⁺ + ∇R(o⁺)`` (exact o) simplify to 0.
* :func:`tanh_sech2_max` — ``max_a |tanh a·sech² a| = 2/(3√3)``, the constant in the
  a-block's Lipschitz bound.

Argument order of the oracles: :func:`arguments` (the point's arrays, then x, y, h0, ν, ρ),
each array flattened in C order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

__all__ = [
    "arguments",
    "dual_identity_residual",
    "gradient_oracle",
    "lagrangian_oracle",
    "minimizer_oracle",
    "tanh_sech2_max",
]

POINT_FIELDS = ("U", "W", "b", "V", "c", "a", "h", "o", "lam")


class Model(NamedTuple):
    L: Any
    arrays: dict[str, np.ndarray]  # name -> object array of symbols, numpy layout
    nu: Any
    rho: Any


def _array(name: str, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = sp.Symbol(f"{name}_{'_'.join(map(str, idx))}", real=True)
    return out


@functools.cache
def model(n: int, m: int, p: int, T: int, B: int, loss: str) -> Model:
    """The symbolic L for sizes (n, m, p, T, B) and loss ``last``/``every``."""
    S = list(range(T)) if loss == "every" else [T - 1]
    k = len(S)
    A = {
        "U": _array("U", (n, m)), "W": _array("W", (n, n)), "b": _array("b", (n,)),
        "V": _array("V", (p, n)), "c": _array("c", (p,)), "a": _array("a", (T, n, B)),
        "h": _array("h", (T, n, B)), "o": _array("o", (k, p, B)), "lam": _array("lam", (k, p, B)),
        "x": _array("x", (T, m, B)), "y": _array("y", (k, p, B)), "h0": _array("h0", (n, B)),
    }  # fmt: skip
    nu, rho = sp.Symbol("nu", positive=True), sp.Symbol("rho", positive=True)
    w = sp.Rational(1, B * k)
    U, W, V = sp.Matrix(A["U"]), sp.Matrix(A["W"]), sp.Matrix(A["V"])
    b, c = sp.Matrix(A["b"]), sp.Matrix(A["c"])
    ones = sp.ones(1, B)

    def sq(M: Any) -> Any:
        return sum(e**2 for e in M)

    L = sp.Integer(0)
    for t in range(T):
        hp = sp.Matrix(A["h0"]) if t == 0 else sp.Matrix(A["h"][t - 1])
        at, ht = sp.Matrix(A["a"][t]), sp.Matrix(A["h"][t])
        r1 = at - U * sp.Matrix(A["x"][t]) - W * hp - b * ones
        r2 = ht - at.applyfunc(sp.tanh)
        L += nu / 2 * (sq(r1) + sq(r2))
    for i, t in enumerate(S):
        oi = sp.Matrix(A["o"][i])
        r3 = oi - V * sp.Matrix(A["h"][t]) - c * ones
        L += w / 2 * sq(oi - sp.Matrix(A["y"][i]))
        L += sum(lv * rv for lv, rv in zip(sp.Matrix(A["lam"][i]), r3, strict=True))
        L += rho / 2 * sq(r3)
    return Model(L, A, nu, rho)


def arguments(point: Any, x: np.ndarray, y: np.ndarray, h0: np.ndarray, nu: float,
              rho: float) -> list[float]:  # fmt: skip
    """The oracles' flat argument list: the point's arrays (:data:`POINT_FIELDS`), x, y
    ((|S|, p, B)), h0, ν, ρ."""
    vals: list[float] = []
    for f in POINT_FIELDS:
        vals.extend(np.asarray(getattr(point, f), dtype=np.float64).ravel().tolist())
    for arr in (x, y, h0):
        vals.extend(np.asarray(arr, dtype=np.float64).ravel().tolist())
    return [*vals, float(nu), float(rho)]


def _symbols(mod: Model) -> list[Any]:
    out: list[Any] = []
    for f in (*POINT_FIELDS, "x", "y", "h0"):
        out.extend(mod.arrays[f].ravel().tolist())
    return [*out, mod.nu, mod.rho]


Sizes = tuple[int, int, int, int, int, str]


@functools.cache
def lagrangian_oracle(sizes: Sizes) -> Callable[..., float]:
    mod = model(*sizes)
    f: Callable[..., float] = sp.lambdify(_symbols(mod), mod.L, "numpy")
    return f


@functools.cache
def gradient_oracle(sizes: Sizes, block: str) -> Callable[..., np.ndarray]:
    """``args -> ∂L/∂X`` in X's numpy layout."""
    mod = model(*sizes)
    Xs = mod.arrays[block]
    grads = [sp.diff(mod.L, s) for s in Xs.ravel()]
    f = sp.lambdify(_symbols(mod), grads, "numpy")

    def oracle(*args: float) -> np.ndarray:
        return np.asarray(f(*args), dtype=np.float64).reshape(Xs.shape)

    return oracle


@functools.cache
def minimizer_oracle(sizes: Sizes, block: str) -> Callable[..., np.ndarray]:
    """``args -> argmin_X L`` for X ∈ {b, c, h, o}: the unique solution of ``∂L/∂X = 0``
    (L is a positive-definite quadratic in each of these blocks), in X's layout. The
    arguments' own values of X are ignored."""
    if block not in ("b", "c", "h", "o"):
        raise ValueError(f"block {block!r}: closed forms exist for b, c, h, o")
    mod = model(*sizes)
    Xs = mod.arrays[block].ravel().tolist()
    # ∂L/∂X = 0 is linear in X: M·X = r; sympy's LU solve of the symbolic system
    M, r = sp.linear_eq_to_matrix([sp.expand(sp.diff(mod.L, s)) for s in Xs], Xs)
    exprs = list(M.LUsolve(r))
    f = sp.lambdify(_symbols(mod), exprs, "numpy")
    shape = mod.arrays[block].shape

    def oracle(*args: float) -> np.ndarray:
        return np.asarray(f(*args), dtype=np.float64).reshape(shape)

    return oracle


def dual_identity_residual() -> Mapping[str, Any]:
    """``λ⁺ + ∇R(·)`` after substituting the o-update into the dual step, simplified, for
    a scalar o with ``R(o) = (w/2)(o − y)²``, ``q = Vh + c``: linearized
    ``o⁺ = q − (λ + w(o − y))/ρ`` gives ``λ⁺ + ∇R(o)``; exact
    ``o⁺ = (wy + ρq − λ)/(w + ρ)`` gives ``λ⁺ + ∇R(o⁺)``. Both are 0."""
    o, y, q, lam = sp.symbols("o y q lam", real=True)
    w, rho = sp.symbols("w rho", positive=True)
    o_lin = q - (lam + w * (o - y)) / rho
    lin = sp.simplify(lam + rho * (o_lin - q) + w * (o - y))
    o_ex = (w * y + rho * q - lam) / (w + rho)
    ex = sp.simplify(lam + rho * (o_ex - q) + w * (o_ex - y))
    return {"linearized": lin, "exact": ex}


def tanh_sech2_max() -> Any:
    """``max_a |tanh(a)·sech²(a)|`` in closed form: with u = tanh a the function is
    ``u(1 − u²)`` on (−1, 1), stationary at u² = 1/3."""
    u = sp.Symbol("u", real=True)
    f = u * (1 - u**2)
    crit = [r for r in sp.solve(sp.diff(f, u), u) if r.is_real and abs(r) < 1]
    return sp.nsimplify(max(sp.Abs(f.subs(u, r)) for r in crit))
