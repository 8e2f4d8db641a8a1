"""expRNN's gradient through the matrix exponential for n = 2, derived by sympy
(theory/orthogonal.md §6.1, ``expm.gradient``).

For ``A = [[0, a], [−a, 0]]`` (raw parameter a = R₀₁), ``exp(τA)`` is the rotation
``[[cos τa, sin τa], [−sin τa, cos τa]]``. The Fréchet derivative of exp at X in the
direction E has the integral form ``dexp_X(E) = ∫₀¹ exp((1 − τ)X)·E·exp(τX) dτ``; sympy
integrates it in closed form for X = ±A and a symbolic 2×2 E. With ``L(a) = tr(Gᵀ·exp(A))``
(linear in exp(A), so it covers every loss by the chain rule, G = ∂L/∂exp(A)):

* ``dL/da = (G_A − G_Aᵀ)₀₁`` with ``G_A = dexp_{Aᵀ}(G)`` — the expRNN raw gradient;
* with ``dexp_A(G)`` instead the result differs (by ``tr(E₁₂ᵀ(e^A − e^{−A})G)``) unless
  a = 0 or G is special: the mutant of ``expm.gradient``.

Numeric oracle: :func:`dexp2` (the lambdified closed form of ``dexp_X(E)``, X skew 2×2).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import NDArray


def _symbols() -> tuple[sp.Symbol, sp.Matrix, sp.Symbol]:
    x = sp.symbols("x", real=True)
    E = sp.Matrix(2, 2, lambda r, c: sp.Symbol(f"e{r}{c}", real=True))
    tau = sp.symbols("tau", real=True)
    return x, E, tau


def _rot(z: sp.Expr) -> sp.Matrix:
    """``exp([[0, z], [−z, 0]])`` in closed form (rnnverify.derivations.givens)."""
    return sp.Matrix([[sp.cos(z), sp.sin(z)], [-sp.sin(z), sp.cos(z)]])


def closed_form_dexp() -> tuple[sp.Symbol, sp.Matrix, sp.Matrix]:
    """``(x, E, dexp_X(E))`` for ``X = [[0, x], [−x, 0]]`` by the integral form."""
    x, E, tau = _symbols()
    integrand = _rot((1 - tau) * x) * E * _rot(tau * x)
    L = integrand.applyfunc(
        lambda z: sp.simplify(sp.integrate(sp.expand(z), (tau, 0, 1), conds="none"))
    )
    return x, E, L


def derive_gradient_residuals() -> tuple[sp.Expr, sp.Expr]:
    """``(dL/da − raw(dexp_{Aᵀ}), dL/da − raw(dexp_A))`` for ``L = tr(Gᵀ exp(A))``: the
    first simplifies to 0, the second does not."""
    x, E, L = closed_form_dexp()
    a = sp.symbols("a", real=True)
    G = E  # the direction of the Fréchet derivative is G
    loss = (G.T * _rot(a)).trace()
    dL = sp.diff(loss, a)
    at_AT = L.subs(x, -a)  # Aᵀ = [[0, −a], [a, 0]]
    at_A = L.subs(x, a)
    raw_T = at_AT[0, 1] - at_AT[1, 0]
    raw_A = at_A[0, 1] - at_A[1, 0]
    return sp.simplify(dL - raw_T), sp.simplify(dL - raw_A)


@lru_cache(maxsize=1)
def _dexp_fn() -> Callable[..., Any]:
    x, E, L = closed_form_dexp()
    return sp.lambdify((x, *list(E)), L, modules="numpy")


def dexp2(X: NDArray[Any], E: NDArray[Any]) -> NDArray[np.float64]:
    """``dexp_X(E)`` for a real skew 2×2 ``X = [[0, x], [−x, 0]]`` from the closed form
    (which divides by x: at x = 0 it is ``dexp_0(E) = E``)."""
    if X[0, 1] == 0:
        return np.asarray(E, dtype=float).copy()
    return np.asarray(_dexp_fn()(float(X[0, 1]), *(float(v) for v in np.ravel(E))), dtype=float)
