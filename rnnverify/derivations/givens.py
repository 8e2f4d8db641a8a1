"""The Givens rotation and its coordinate derivative, derived by sympy
(theory/orthogonal.md §4.1–4.2, CD-1, CD-2).

1. ``expm(α·E₁₂) = [[cos α, sin α], [−sin α, cos α]]`` with ``E₁₂ = e₁e₂ᵀ − e₂e₁ᵀ``:
   sympy's matrix exponential of ``[[0, α], [−α, 0]]``, rewritten in trigonometric form.
2. For ``φ(t) = f(Q·expm(t·E_ij))`` with ``G = ∂f/∂Q``: ``φ'(0) = (QᵀG)_ij − (QᵀG)_ji
   = 2·Ω_ij``, Ω = skew(QᵀG). Since ``dφ = ⟨G, dQ⟩``, it suffices to take the linear
   ``f(Q) = tr(GᵀQ)`` with a fully symbolic G and Q (n = 2, i, j = 0, 1; and n = 3 for
   every pair, the rotation embedded in the identity).

Numeric oracle: :func:`rotation` (the lambdified closed form of item 1).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import NDArray


def closed_form_rotation() -> tuple[sp.Symbol, sp.Matrix]:
    """``(α, expm(αE₁₂))`` with the exponential simplified to cos/sin."""
    a = sp.symbols("alpha", real=True)
    E = sp.Matrix([[0, 1], [-1, 0]])
    R = (a * E).exp().applyfunc(lambda z: sp.simplify(sp.expand_complex(z).rewrite(sp.cos)))
    return a, R


def derive_rotation_identity() -> sp.Matrix:
    """``expm(αE₁₂) − [[cos α, sin α], [−sin α, cos α]]`` (must be the zero matrix)."""
    a, R = closed_form_rotation()
    target = sp.Matrix([[sp.cos(a), sp.sin(a)], [-sp.sin(a), sp.cos(a)]])
    return (R - target).applyfunc(sp.simplify)


def derive_coordinate_derivative(n: int = 3) -> list[sp.Expr]:
    """For every pair i < j: ``d/dt tr(Gᵀ·Q·expm(tE_ij))|₀ − 2·Ω_ij`` (must all be 0),
    with symbolic n×n Q and G."""
    t = sp.symbols("t", real=True)
    Q = sp.Matrix(n, n, lambda r, c: sp.Symbol(f"q{r}{c}", real=True))
    G = sp.Matrix(n, n, lambda r, c: sp.Symbol(f"g{r}{c}", real=True))
    Omega = (Q.T * G - G.T * Q) / 2
    residuals = []
    for i in range(n):
        for j in range(i + 1, n):
            rot = sp.eye(n)
            rot[i, i], rot[i, j], rot[j, i], rot[j, j] = sp.cos(t), sp.sin(t), -sp.sin(t), sp.cos(t)
            phi = (G.T * Q * rot).trace()
            residuals.append(sp.simplify(sp.diff(phi, t).subs(t, 0) - 2 * Omega[i, j]))
    return residuals


@lru_cache(maxsize=1)
def _rotation_fn() -> Callable[..., Any]:
    a, R = closed_form_rotation()
    return sp.lambdify(a, R, modules="numpy")


def rotation(alpha: float) -> NDArray[np.float64]:
    """``expm(α·E₁₂)`` from the sympy closed form, as a 2×2 float64 array."""
    return np.asarray(_rotation_fn()(float(alpha)), dtype=np.float64)
