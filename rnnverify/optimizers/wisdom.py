"""The Cayley retraction of the full-capacity unitary RNN (Wisdom et al., NIPS 2016).

With ``G = ∂L/∂Re W + i·∂L/∂Im W`` (= 2∂L/∂W̄, the problem's gradient convention for
complex W; ``G = ∂L/∂W`` for real W; theory/orthogonal.md §0.4, §6.3) and λ = ``lr``::

    A       = G·Wᴴ − W·Gᴴ                               skew-Hermitian, eq. (8)
    W_{k+1} = (I + (λ/2)·A)⁻¹ (I − (λ/2)·A) W_k          eq. (9); one LU solve, O(n³)

Real cells use the real analogue (ᴴ → ᵀ). ``I + (λ/2)A`` is always invertible (its
eigenvalues are 1 + iμ) and the Cayley factor is unitary, so ``W_{k+1}`` is unitary for
*any* G; descent needs the right G: d/dλ L(W(λ))|₀ = −‖A‖_F²/2, and ``AW = 2WS`` with
``S = (WᴴG − GᴴW)/2`` (§9 item 3: a doubled RGD step to first order). The convention of
W (column, §0.1) does not matter: the formulas hold for the G of the stored W. Every
other parameter takes a gradient step ``−λ·g``. Errors accumulate multiplicatively (§7).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnverify.contract import Optimizer
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params


def wisdom_generator(W: NDArray[Any], G: NDArray[Any]) -> NDArray[Any]:
    """``A = G·Wᴴ − W·Gᴴ`` (eq. (8))."""
    return G @ W.conj().T - W @ G.conj().T


def cayley_retraction(W: NDArray[Any], A: NDArray[Any], lam: float) -> NDArray[Any]:
    """``(I + (λ/2)A)⁻¹(I − (λ/2)A)·W`` by one solve (eq. (9))."""
    eye = np.eye(W.shape[0], dtype=W.dtype)
    B = (lam / 2) * A
    return np.linalg.solve(eye + B, (eye - B) @ W)


def wisdom(lr: float = 0.05, *, target: str = "W_hh") -> Optimizer:
    """Wisdom et al.'s Cayley retraction on ``target`` (λ = ``lr``), gradient descent
    elsewhere."""
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")

    def init(problem: RNNProblem, params: Params) -> tuple[()]:
        return ()

    def step(problem: RNNProblem, params: Params, state: tuple[()]) -> tuple[Params, tuple[()]]:
        g = problem.grad(params)
        out = {k: (v - lr * g[k]).astype(v.dtype) for k, v in params.items() if k != target}
        W = params[target]
        A = wisdom_generator(W, g[target])
        out[target] = cayley_retraction(W, A, lr).astype(W.dtype)
        return {k: out[k] for k in params}, state

    return Optimizer(init=init, step=step)


CASES = [
    Case(
        wisdom,
        {"lr": 0.05},
        claims=refs(
            "orthogonal.preserved:W_hh,drift=multiplicative",
            "orthogonal.det_fixed:W_hh,drift=multiplicative",
            "unitary.preserved:W_hh,drift=multiplicative",
            "wisdom.unitary_any_g:W_hh",
            "wisdom.descent:W_hh",
        ),
        problems=ProblemFamily(cells=("elman", "complex"), recurrent=("orthogonal",)),
    ),
]
