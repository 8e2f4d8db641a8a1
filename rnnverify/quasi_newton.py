"""L-BFGS building blocks shared by the adaQN optimizer and the quasi-Newton claims.

Pairs are stored as rows, oldest first: ``S[i] = s_i``, ``Y[i] = y_i`` (``i = 0`` the
oldest), with ``ρ_i = 1/(y_iᵀs_i)`` and a diagonal initial inverse Hessian ``H₀ = diag(h0)``.

Two-loop recursion (theory/adaqn.md §2; Nocedal & Wright, *Numerical Optimization*,
2nd ed., Algorithm 7.4)::

    q ← g
    for i = newest … oldest:  a_i ← ρ_i s_iᵀq;   q ← q − a_i y_i
    r ← h0 ⊙ q
    for i = oldest … newest:  β ← ρ_i y_iᵀr;     r ← r + s_i (a_i − β)
    return r                                     (= H g)

Dense recursive inverse-BFGS update, oldest to newest (adaqn.md §3)::

    H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ,     starting from diag(h0)

Both are the same matrix applied to g [derived; verified in float64 and by sympy for
memory ≤ 2, :mod:`rnnverify.derivations.bfgs`].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnverify.tolerance import gamma

CURVATURE_THRESHOLD = 1e-4
"""ε of the pair-acceptance test (adaqn.md §1.1, §4: both public codes use 1e-4)."""

ACCEPTANCE_TESTS = ("sts", "yty")
"""``sts``: sᵀy > ε·sᵀs (stochQN); ``yty``: sᵀy > ε·yᵀy (minSQN) — adaqn.md §4."""

Array = NDArray[Any]


def two_loop(g: Array, S: Array, Y: Array, h0: Array) -> Array:
    """``H g`` by the L-BFGS two-loop recursion (module docstring); ``S, Y`` of shape
    ``(m, n)`` oldest first, ``h0`` of shape ``(n,)`` (or a scalar)."""
    m = S.shape[0]
    rho = [1.0 / float(Y[i] @ S[i]) for i in range(m)]
    a = [0.0] * m
    q = np.array(g, dtype=np.float64, copy=True)
    for i in reversed(range(m)):
        a[i] = rho[i] * float(S[i] @ q)
        q = q - a[i] * Y[i]
    r = h0 * q
    for i in range(m):
        beta = rho[i] * float(Y[i] @ r)
        r = r + S[i] * (a[i] - beta)
    return np.asarray(r, dtype=np.float64)


def dense_inverse_bfgs(S: Array, Y: Array, h0: Array) -> Array:
    """The explicit inverse-BFGS matrix ``H`` (module docstring), shape ``(n, n)``."""
    n = S.shape[1]
    H = np.diag(np.broadcast_to(np.asarray(h0, dtype=np.float64), (n,))).copy()
    eye = np.eye(n)
    for s, y in zip(S, Y, strict=True):
        rho = 1.0 / float(y @ s)
        V = eye - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return H


def fisher_product(F: Array, s: Array) -> Array:
    """``y = (1/|F|) Fᵀ(F s)`` for gradients stored as the rows of ``F`` (adaqn.md §1.3,
    the normalized empirical Fisher: ``y = (1/|F|) Σ_i g_i g_iᵀ s``)."""
    return np.asarray(F.T @ (F @ s) / F.shape[0], dtype=np.float64)


def passes_test(s: Array, y: Array, test: str, threshold: float = CURVATURE_THRESHOLD) -> bool:
    """The declared pair-acceptance test: ``sᵀy > ε·sᵀs`` (``sts``) or ``> ε·yᵀy`` (``yty``)."""
    if test not in ACCEPTANCE_TESTS:
        raise ValueError(f"test={test!r}: expected one of {list(ACCEPTANCE_TESTS)}")
    ref = float(s @ s) if test == "sts" else float(y @ y)
    return float(s @ y) > threshold * ref


def pair_conditioning(S: Array, Y: Array) -> list[float]:
    """``κ_i = ‖s_i‖‖y_i‖/(s_iᵀy_i)`` (≥ 1 for an accepted pair): ``‖I − ρ_i y_i s_iᵀ‖₂ =
    ‖I − ρ_i s_i y_iᵀ‖₂ ≤ 1 + κ_i`` bounds how much one step of either loop amplifies an
    error."""
    return [
        float(np.linalg.norm(s) * np.linalg.norm(y) / abs(float(s @ y)))
        for s, y in zip(S, Y, strict=True)
    ]


def two_loop_tolerance(g: Array, S: Array, Y: Array, h0: Array) -> tuple[float, dict[str, float]]:
    """Forward-error bound for ``‖TwoLoop(g) − H_dense g‖``.

    Each of the 2m loop steps is a dot product of length n and an axpy (relative error
    γ_{n+2}), applied to a vector that the remaining factors ``(I − ρ y sᵀ)`` /
    ``(I − ρ s yᵀ)`` amplify by at most ``Π_i (1 + κ_i)`` per loop; the vectors carried
    are bounded by ``A = Π_i(1 + κ_i)² · (‖h0‖_∞ + Σ_i ρ_i‖s_i‖²) · ‖g‖``. So the two-loop
    error is ≤ 2m·γ_{n+2}·A (plus γ_1·A for ``h0 ⊙ q``), and the dense product (m
    triple products of n×n matrices, then H g) has the same bound with γ_{3n}. Their
    sum, ``(2m + 1)·(γ_{n+2} + γ_{3n})·A``, is the tolerance.
    """
    m, n = S.shape
    kappa = pair_conditioning(S, Y)
    amplification = float(np.prod([(1.0 + k) ** 2 for k in kappa])) if m else 1.0
    h0_max = float(np.max(np.abs(np.broadcast_to(h0, (n,))))) if n else 0.0
    s_terms = sum(float(s @ s) / abs(float(s @ y)) for s, y in zip(S, Y, strict=True))
    scale = amplification * (h0_max + s_terms) * float(np.linalg.norm(g))
    tol = (2 * m + 1) * (gamma(n + 2, np.float64) + gamma(3 * n, np.float64)) * scale
    return tol, {
        "m": float(m),
        "n": float(n),
        "prod(1+kappa)^2": amplification,
        "max kappa": max(kappa, default=1.0),
        "scale": scale,
    }


__all__ = [
    "ACCEPTANCE_TESTS",
    "CURVATURE_THRESHOLD",
    "dense_inverse_bfgs",
    "fisher_product",
    "pair_conditioning",
    "passes_test",
    "two_loop",
    "two_loop_tolerance",
]
