"""Reference optimizers whose convergence rate is known exactly (for ``rate.*`` claims).

``readout_newton(alpha)`` — damped Newton on the readout ``(V, c)`` of a real cell, with
the recurrent part (``W_hh``, ``W_ih``, ``b``) frozen. With the features ``F̃ = [φ(h); 1]``
((n_feat + 1) × N, the N = k·B columns the loss uses), ``Θ = [V c]`` and the residual
``R = ΘF̃ − Y``, the loss is the convex quadratic ``f(Θ) = (w/2)‖ΘF̃ − Y‖_F²`` and the step
is::

    Θ⁺ = Θ − α·R·F̃⁺                     (F̃⁺ the pseudo-inverse; = Θ − α·∇f·(∇²f)⁺)

Why the rate is known: ``R⁺ = R − α·R·P`` with ``P = F̃⁺F̃`` the orthogonal projector onto
the row space of F̃. The part ``R(I − P) = −Y(I − P)`` cannot change (it is the optimal
residual), so ``f* = (w/2)‖Y(I − P)‖²`` and ``RP ← (1 − α)·RP``, i.e. exactly

    f(Θ_{k+1}) − f* = (1 − α)²·(f(Θ_k) − f*)       for every k,

whatever the conditioning of F̃ (Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
§3.3: Newton's method on a quadratic; damped by α). With α = ½ the factor is ¼, so the
case claims ``rate.linear,factor=0.5`` with a margin of 2× in the factor.

It also registers ``allen_zhu_gd(lr=0.25)`` (η = 0.25/m) for the Theorem-3-shaped claims
``az.gradient_loss_ratio`` and ``az.linear_rate_lazy`` (convergence/allen_zhu_rate.py).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.contract import Optimizer
from rnnverify.optimizers.allen_zhu_gd import allen_zhu_gd
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params


class ReadoutState(NamedTuple):
    k: NDArray[Any]  # steps taken (0-d int array)


def readout_features(problem: RNNProblem, params: Params) -> tuple[NDArray[Any], NDArray[Any]]:
    """``F̃ = [h_t; 1]`` ((n + 1) × N) and the targets ``Y`` (p × N) at the steps the loss
    uses (real cells), steps side by side."""
    fwd = problem.forward(params)
    s = problem.spec
    if s.loss == "every":
        F = np.concatenate([np.asarray(h) for h in fwd.h[1:]], axis=1)
        Y = np.concatenate(list(np.asarray(problem.data.y)), axis=1)
    else:
        F, Y = np.asarray(fwd.h[-1]), np.asarray(problem.data.y)
    return np.vstack([F, np.ones((1, F.shape[1]))]), Y


def readout_newton(alpha: float = 0.5) -> Optimizer:
    """Damped Newton on ``(V, c)`` with step fraction ``alpha`` (α ∈ (0, 1]); see the
    module docstring: ``f − f*`` contracts by exactly (1 − α)² per step."""
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and 0 < alpha <= 1):
        raise ValueError(f"alpha={alpha!r}: expected a float in (0, 1]")
    return _readout_newton(float(alpha))


def readout_newton_harmonic(scale: float = 1.0) -> Optimizer:
    """Damped Newton on ``(V, c)`` with the decaying step fraction α_k = scale/(k + 2).

    With scale = 1 the reducible residual shrinks by Π_{j<k}(1 − 1/(j + 2)) = 1/(k + 1), so
    exactly ``f(Θ_k) − f* = (f(Θ_0) − f*)/(k + 1)²``: a sublinear rate of order 2 (the case
    claims ``rate.sublinear,order=2``). With scale s the product behaves like k^{−s}, and
    the gap like k^{−2s}."""
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and 0 < scale <= 1):
        raise ValueError(f"scale={scale!r}: expected a float in (0, 1]")
    return _readout_newton(1.0, schedule=float(scale))


def _readout_newton(
    alpha: float, *, stall_after: int | None = None, schedule: float | None = None
) -> Optimizer:
    """The optimizer; ``stall_after`` (a broken variant, tests/mutants_rates.py) stops
    moving after that many steps; ``schedule`` = s uses α_k = s/(k + 2) instead of α."""

    def init(problem: RNNProblem, params: Params) -> ReadoutState:
        if problem.spec.is_complex:
            raise ValueError("readout_newton: real cells only (features φ(h) = h)")
        return ReadoutState(np.asarray(0))

    def step(problem: RNNProblem, params: Params, state: ReadoutState) -> tuple[Params, Any]:
        out = {k: np.array(v, copy=True) for k, v in params.items()}
        k = int(state.k)
        if stall_after is None or k < stall_after:
            Ft, Y = readout_features(problem, params)
            theta = np.hstack([params["V"], params["c"][:, None]])
            R = theta @ Ft - Y
            # Δ = R·F̃⁺, as the least-squares solution of F̃ᵀΔᵀ = Rᵀ
            delta = np.linalg.lstsq(Ft.T, R.T, rcond=None)[0].T
            a = alpha if schedule is None else schedule / (k + 2)
            theta = theta - a * delta
            out["V"] = theta[:, :-1].astype(params["V"].dtype)
            out["c"] = theta[:, -1].astype(params["c"].dtype)
        return out, ReadoutState(np.asarray(k + 1))

    return Optimizer(init=init, step=step)


READOUT_FAMILY = ProblemFamily(cells=("elman",))

AZ_RATE_FAMILY = ProblemFamily(
    cells=("elman",),
    activations=("relu",),
    inputs=(2, 4),
    outputs=(1, 3),
    steps=(2, 4),
    batch=(1, 3),
)
"""The sizes the Theorem-3-shaped claims run at (m is set by the claims: 64 and 256)."""

CASES = [
    Case(
        readout_newton,
        {"alpha": 0.5},
        claims=refs("rate.linear,factor=0.5"),
        problems=READOUT_FAMILY,
    ),
    Case(
        readout_newton_harmonic,
        {"scale": 1.0},
        claims=refs("rate.sublinear,order=2"),
        problems=READOUT_FAMILY,
    ),
    # Allen-Zhu GD with η = 0.25/m: the step the Theorem-3-shaped claims are stated for
    # (convergence/allen_zhu_rate.py: C_LR); the lr = 0.001 case lives in allen_zhu_gd.py
    Case(
        allen_zhu_gd,
        {"lr": 0.25},
        claims=refs("az.gradient_loss_ratio", "az.linear_rate_lazy"),
        problems=AZ_RATE_FAMILY,
    ),
]
