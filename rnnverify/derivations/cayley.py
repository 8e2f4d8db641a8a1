"""The Cayley-parametrization gradients of scoRNN and scuRNN, derived by sympy.

Real (theory/orthogonal.md §1.2, "sympy proof for fixed n"). With a skew ``A`` built from
symbols ``a_ij`` (i < j, ``A_ji = −a_ij``), a fully symbolic ``G`` (symbols ``g_ij``) and a
fixed ``D = diag(±1)``::

    W = (I + A)⁻¹(I − A)D,     L = Σ_ij G_ij W_ij = ⟨G, W⟩
    V = (I + A)⁻ᵀ G (D + Wᵀ),  Γ = Vᵀ − V

:func:`real_gradient_residuals` returns ``simplify(∂L/∂a_ij − Γ_ij)`` for every i < j and
``simplify(WᵀW − I)``: all zero. L is linear in G, so by the chain rule this proves the
formula for every loss whose ``∂L/∂W = G``. (n = 2: ~0.4 s; n = 3: ~3 s.)

:func:`real_gradient_oracle` lambdifies ``∂⟨G, C(A)D⟩/∂a_ij`` (sympy's derivative, no
formula from the optimizer): a numeric oracle ``(A, G) -> Γ`` for the test suite.

Complex, n = 2 (§2.2). ``A = [[i·p, q + i·r], [−q + i·r, i·s]]``, ``D = diag(e^{i·t₁},
e^{i·t₂})``, ``G = Gr + i·Gi`` symbolic, ``L = 2·Re Σ G_ij W_ij`` so that the Wirtinger
``∂L/∂W = G``. The claims of §2.2 are, with ``DFA = Vᵀ − conj(V)``::

    ∂L/∂q = 2·Re DFA₀₁,  ∂L/∂r = 2·Im DFA₀₁,  ∂L/∂p = Im DFA₀₀,  ∂L/∂s = Im DFA₁₁,
    ∂L/∂t_j = 2·Re(i·e^{i·t_j}(GᵀK)_jj),  K = (I + A)⁻¹(I − A)

:func:`complex_residuals_at` substitutes a point (random rationals) into the six residuals
and evaluates them to 30 digits: ``simplify`` with conjugates is slow (§8).
:func:`complex_partials_oracle` lambdifies sympy's six partial derivatives of L.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

__all__ = [
    "complex_partials_oracle",
    "complex_residuals_at",
    "real_gradient_oracle",
    "real_gradient_residuals",
]


def _real_setup(n: int, D: Sequence[int]) -> tuple[Any, Any, Any, Any, list[tuple[int, int]]]:
    pairs = list(itertools.combinations(range(n), 2))
    a = {p: sp.Symbol(f"a_{p[0]}{p[1]}", real=True) for p in pairs}
    A = sp.zeros(n, n)
    for (i, j), s in a.items():
        A[i, j], A[j, i] = s, -s
    G = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"g_{i}{j}", real=True))
    Dm = sp.diag(*[sp.Integer(d) for d in D])
    eye = sp.eye(n)
    W = (eye + A).inv() * (eye - A) * Dm
    L = sum(G[i, j] * W[i, j] for i in range(n) for j in range(n))
    return a, A, G, (W, Dm, L), pairs


def real_gradient_residuals(n: int, D: Sequence[int]) -> list[Any]:
    """``simplify(∂L/∂a_ij − (Vᵀ − V)_ij)`` for i < j, then the entries of
    ``simplify(WᵀW − I)``: a list of sympy expressions that must all be 0."""
    a, A, G, (W, Dm, L), pairs = _real_setup(n, D)
    eye = sp.eye(n)
    V = (eye + A).inv().T * G * (Dm + W.T)
    Gamma = V.T - V
    out = [sp.simplify(sp.diff(L, a[(i, j)]) - Gamma[i, j]) for i, j in pairs]
    out.extend(sp.simplify(W.T * W - eye))
    return out


@functools.lru_cache(maxsize=16)
def real_gradient_oracle(n: int, D: tuple[int, ...]) -> Callable[[Any, Any], Any]:
    """``(A, G) -> Γ``: sympy's ``∂⟨G, C(A)D⟩/∂a_ij`` (i < j) as a skew numpy matrix."""
    a, _, G, (_, _, L), pairs = _real_setup(n, D)
    args = [a[p] for p in pairs] + list(G)
    derivs = [sp.diff(L, a[p]) for p in pairs]
    fn = sp.lambdify(args, derivs, modules="numpy")

    def oracle(A_num: Any, G_num: Any) -> Any:
        vals = [A_num[i, j] for i, j in pairs] + list(np.asarray(G_num).ravel())
        Gamma = np.zeros((n, n))
        for (i, j), v in zip(pairs, fn(*vals), strict=True):
            Gamma[i, j], Gamma[j, i] = v, -v
        return Gamma

    return oracle


_COORDS = ("p", "q", "r", "s", "t1", "t2")


@functools.lru_cache(maxsize=1)
def _complex_setup() -> tuple[dict[str, Any], Any, Any, Any, dict[str, Any]]:
    """Symbols, the six partials of L, and the six formula values of §2.2 (n = 2)."""
    x = {c: sp.Symbol(c, real=True) for c in _COORDS}
    gr = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"gr_{i}{j}", real=True))
    gi = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"gi_{i}{j}", real=True))
    j_ = sp.I
    A = sp.Matrix([[j_ * x["p"], x["q"] + j_ * x["r"]], [-x["q"] + j_ * x["r"], j_ * x["s"]]])
    d = [sp.exp(j_ * x["t1"]), sp.exp(j_ * x["t2"])]
    Dm = sp.diag(*d)
    G = gr + j_ * gi
    eye = sp.eye(2)
    K = (eye + A).inv() * (eye - A)
    W = K * Dm
    # Re z = (z + z̄)/2, Im z = (z − z̄)/(2i): sympy's re/im on these rational functions of
    # exponentials expand them into real and imaginary parts, which is slow
    S = sum(G[i, j] * W[i, j] for i in range(2) for j in range(2))
    L = S + sp.conjugate(S)
    partials = {c: sp.diff(L, x[c]) for c in _COORDS}
    V = (eye + A).inv().T * G * (Dm + W.T)
    DFA = V.T - V.conjugate()
    GK = G.T * K

    def re(z: Any) -> Any:
        return (z + sp.conjugate(z)) / 2

    def im(z: Any) -> Any:
        return (z - sp.conjugate(z)) / (2 * j_)

    formula = {
        "q": 2 * re(DFA[0, 1]),
        "r": 2 * im(DFA[0, 1]),
        "p": im(DFA[0, 0]),
        "s": im(DFA[1, 1]),
        "t1": 2 * re(j_ * d[0] * GK[0, 0]),
        "t2": 2 * re(j_ * d[1] * GK[1, 1]),
    }
    return x, gr, gi, partials, formula


def random_rational_point(rng: np.random.Generator) -> dict[str, Fraction]:
    """Random rationals k/8 in [−1, 1] for the six coordinates and the eight entries of G."""
    names = list(_COORDS) + [
        f"{part}_{i}{j}" for part in ("gr", "gi") for i in (0, 1) for j in (0, 1)
    ]
    return {name: Fraction(int(rng.integers(-8, 9)), 8) for name in names}


def complex_residuals_at(point: dict[str, Fraction]) -> dict[str, float]:
    """``|∂L/∂c − formula_c|`` for c in (p, q, r, s, t₁, t₂) at ``point`` (exact rationals
    substituted, evaluated to 30 digits)."""
    x, gr, gi, partials, formula = _complex_setup()
    subs = {x[c]: sp.Rational(point[c].numerator, point[c].denominator) for c in _COORDS}
    for M, part in ((gr, "gr"), (gi, "gi")):
        for i in range(2):
            for j in range(2):
                v = point[f"{part}_{i}{j}"]
                subs[M[i, j]] = sp.Rational(v.numerator, v.denominator)
    return {c: float(abs(sp.N((partials[c] - formula[c]).subs(subs), 30))) for c in _COORDS}


@functools.lru_cache(maxsize=1)
def complex_partials_oracle() -> Callable[..., dict[str, float]]:
    """``(p, q, r, s, t1, t2, G) -> {coordinate: ∂L/∂coordinate}`` for the n = 2 setup,
    with ``G`` the complex 2×2 Wirtinger ``∂L/∂W`` (sympy's derivatives, lambdified)."""
    x, gr, gi, partials, _ = _complex_setup()
    args = [x[c] for c in _COORDS] + list(gr) + list(gi)
    fns = {c: sp.lambdify(args, partials[c], modules="numpy") for c in _COORDS}

    def oracle(
        p: float, q: float, r: float, s: float, t1: float, t2: float, G: Any
    ) -> dict[str, float]:
        G = np.asarray(G)
        vals = [p, q, r, s, t1, t2, *G.real.ravel(), *G.imag.ravel()]
        return {c: float(np.real(fn(*vals))) for c, fn in fns.items()}

    return oracle
