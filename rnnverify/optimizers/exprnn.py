"""expRNN with dynamic trivialization (Lezcano-Casado & Martínez-Rubio 2019; dtriv 2019).

Column convention (theory/orthogonal.md §0.1): the stored ``W_hh`` acts as ``h ↦ W·h``;
``G = ∂L/∂W_hh`` is indexed like it, so the formulas of §6.1 (written for expRNN's row
convention) hold unchanged for the stored matrix. Symbols::

    A       = triu(R, 1) − triu(R, 1)ᵀ              R: the raw parameter (n×n)
    W       = base·exp(A)                            base: W_hh at init (R = 0)
    G_A     = dexp_{Aᵀ}(baseᵀ·G)                      Fréchet derivative of exp at Aᵀ (= −A)
    ∇_R L   = triu(G_A − G_Aᵀ, 1)                     the raw gradient
    R_{k+1} = R_k − η·∇_R L,   W_{k+1} = base·exp(A(R_{k+1}))

``dexp_X(E)`` is the upper-right block of ``exp([[X, E], [0, X]])`` (§6.1, the block
identity; expRNN ``expm32.differential``), computed by :func:`expm_taylor` — scaling and
squaring with a degree-18 Taylor polynomial, no scipy. ``init`` starts from the problem's
(Haar) ``W_hh`` with base = W_hh and R = 0: dtriv right after a rebase, where the raw
gradient is ``2·triu(Ω, 1)``, Ω = skew(WᵀG) (§6.1, §9 item 2). No rebase is done later, so
``det W = det(base)`` throughout. ``diagnostics``: ``norm_A`` = ‖A‖₂ of the W just
produced (the expm drift bound of §7 needs it). Real cells only.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.contract import Optimizer
from rnnverify.manifolds import expm_skew
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params

TAYLOR_DEGREE = 18
SCALING_THETA = 0.5
"""Scale X by 2^-s until ‖X/2^s‖₁ ≤ θ = 1/2. The degree-m Taylor remainder is then at most
θ^(m+1)/(m+1)!·e^θ ≈ 2.6e-23 relative (m = 18): far below ε, so the error of
:func:`expm_taylor` is rounding only — about m·ε per Horner step and, through the s
squarings, an amplification bounded by the condition of exp at X (for the block
[[X, E], [0, X]] with skew X the diagonal blocks stay orthogonal; measured agreement with
the Daleckii–Krein form of the Fréchet derivative: ≤ 1e-14 relative at ‖X‖₂ ≤ 10,
tests/test_retraction.py)."""


def expm_taylor(X: NDArray[Any]) -> NDArray[Any]:
    """``exp(X)`` for a general square matrix by scaling and squaring with a degree-18
    Taylor polynomial (Horner form): ``exp(X) = (T_18(X/2^s))^(2^s)``."""
    norm1 = float(np.max(np.sum(np.abs(X), axis=0))) if X.size else 0.0
    s = max(0, math.ceil(math.log2(norm1 / SCALING_THETA))) if norm1 > SCALING_THETA else 0
    Y = X / 2.0**s
    eye = np.eye(X.shape[0], dtype=X.dtype)
    P = eye.copy()
    for k in range(TAYLOR_DEGREE, 0, -1):
        P = eye + (Y @ P) / k
    for _ in range(s):
        P = P @ P
    return P


def dexp(X: NDArray[Any], E: NDArray[Any]) -> NDArray[Any]:
    """The Fréchet derivative of exp at X applied to E: the upper-right block of
    ``exp([[X, E], [0, X]])`` (orthogonal.md §6.1)."""
    n = X.shape[0]
    Z = np.zeros((2 * n, 2 * n), dtype=np.result_type(X, E))
    Z[:n, :n] = X
    Z[n:, n:] = X
    Z[:n, n:] = E
    return expm_taylor(Z)[:n, n:]


def skew_from_raw(R: NDArray[Any]) -> NDArray[Any]:
    """``A = triu(R, 1) − triu(R, 1)ᵀ``."""
    U = np.triu(R, 1)
    return U - U.T


def raw_gradient(A: NDArray[Any], base: NDArray[Any], G: NDArray[Any]) -> NDArray[Any]:
    """``triu(G_A − G_Aᵀ, 1)`` with ``G_A = dexp_{Aᵀ}(baseᵀ·G)`` (§6.1)."""
    G_A = dexp(A.T, base.T @ G)
    return np.triu(G_A - G_A.T, 1)


class ExpRNNState(NamedTuple):
    """``base``; the raw parameter ``R``; ``grad_R``: the raw gradient of the last step
    (zeros before the first)."""

    base: NDArray[Any]
    R: NDArray[Any]
    grad_R: NDArray[Any]


def exprnn(lr: float = 0.05, *, target: str = "W_hh") -> Optimizer:
    """expRNN on ``target`` (η = ``lr`` on the raw parameter R), gradient descent
    elsewhere."""
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")

    def init(problem: RNNProblem, params: Params) -> ExpRNNState:
        W = params[target]
        if np.iscomplexobj(W):
            raise ValueError(f"{target}: dtype {W.dtype}; exprnn needs a real matrix")
        return ExpRNNState(W.copy(), np.zeros_like(W), np.zeros_like(W))

    def step(problem: RNNProblem, params: Params, state: ExpRNNState) -> tuple[Params, ExpRNNState]:
        g = problem.grad(params)
        out = {k: (v - lr * g[k]).astype(v.dtype) for k, v in params.items() if k != target}
        W = params[target]
        A = skew_from_raw(state.R)
        grad_R = raw_gradient(A, state.base, g[target]).astype(W.dtype)
        R = (state.R - lr * grad_R).astype(W.dtype)
        out[target] = (state.base @ expm_skew(skew_from_raw(R))).astype(W.dtype)
        return {k: out[k] for k in params}, ExpRNNState(state.base.copy(), R, grad_R)

    def diagnostics(state: ExpRNNState) -> dict[str, float]:
        A = skew_from_raw(state.R)
        return {"norm_A": float(np.linalg.norm(A, 2)) if A.size else 0.0}

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


CASES = [
    Case(
        exprnn,
        {"lr": 0.05},
        claims=refs(
            "orthogonal.preserved:W_hh,drift=expm",
            "orthogonal.det_fixed:W_hh,drift=expm",
            "expm.gradient:W_hh",
            "expm.gradient_at_zero:W_hh",
        ),
        problems=ProblemFamily(recurrent=("orthogonal",)),
    ),
]
