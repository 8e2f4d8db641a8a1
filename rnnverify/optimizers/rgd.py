"""Riemannian gradient descent on the orthogonal (unitary) group for the recurrent matrix.

Update (theory/orthogonal.md §4.1, the RGD baseline of Massart & Abrol), with
``G = ∂L/∂W`` for real W (``G = ∂L/∂Re W + i·∂L/∂Im W`` for complex W, §0.4)::

    Ω      = skew(WᴴG) = (WᴴG − GᴴW)/2         Riemannian gradient: W·Ω, ‖grad f‖ = ‖Ω‖_F
    W_{k+1} = W_k · expm(−η·Ω)                  stays on O(n) (U(n)): expm of a skew matrix
    θ_{k+1} = θ_k − η·∂L/∂θ                     every other parameter: plain gradient descent

First-order decrease ``f(W_{k+1}) − f(W_k) = −η·‖Ω‖_F² + O(η²)``. Errors of the
orthogonality accumulate multiplicatively (about √k in practice, at most linearly: §7),
and ``det W`` never changes (expm(−ηΩ) ∈ SO(n)). Cost O(n³) per step.

``expm`` of the skew(-Hermitian) Ω: :func:`rnnverify.manifolds.expm_skew`.
"""

from __future__ import annotations

import math

from rnnverify.contract import Optimizer
from rnnverify.manifolds import expm_skew, skew
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params


def rgd(lr: float = 0.05, *, target: str = "W_hh") -> Optimizer:
    """Riemannian gradient descent on ``target`` (η = ``lr``), gradient descent elsewhere."""
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")

    def init(problem: RNNProblem, params: Params) -> tuple[()]:
        return ()

    def step(problem: RNNProblem, params: Params, state: tuple[()]) -> tuple[Params, tuple[()]]:
        g = problem.grad(params)
        out = {k: (v - lr * g[k]).astype(v.dtype) for k, v in params.items() if k != target}
        W = params[target]
        Omega = skew(W.conj().T @ g[target])
        out[target] = (W @ expm_skew(-lr * Omega)).astype(W.dtype)
        return {k: out[k] for k in params}, state

    return Optimizer(init=init, step=step)


CASES = [
    Case(
        rgd,
        {"lr": 0.05},
        claims=refs(
            "orthogonal.preserved:W_hh,drift=multiplicative",
            "orthogonal.det_fixed:W_hh,drift=multiplicative",
            "unitary.preserved:W_hh,drift=multiplicative",
            "orthogonal.jacobian_isometry:W_hh,drift=multiplicative",
            "rgd.descent:W_hh",
        ),
        problems=ProblemFamily(cells=("elman", "complex"), recurrent=("orthogonal",)),
    ),
]
