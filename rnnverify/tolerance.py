"""Tolerances derived from eps, dimension, step count and conditioning.

A :class:`Tolerance` carries its value *and* the derivation that produced it, so that a
verdict can print both. Nothing here is tuned to make a test pass: each function states
the error model it bounds (see docs/tolerances.md and theory/orthogonal.md §7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from rnnverify.problems import RNNProblem


@dataclass(frozen=True)
class Tolerance:
    """A tolerance value with its derivation and the terms it was built from."""

    value: float
    derivation: str
    terms: Mapping[str, float] = field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)

    def describe(self) -> str:
        terms = ", ".join(f"{k}={v:.3g}" for k, v in self.terms.items())
        return f"{self.value:.3g} = {self.derivation}" + (f" [{terms}]" if terms else "")


def eps(dtype: DTypeLike) -> float:
    """Machine epsilon of ``dtype`` (of its real part for complex dtypes)."""
    dt = np.dtype(dtype)
    if dt.kind == "c":
        dt = np.empty(0, dt).real.dtype
    return float(np.finfo(dt).eps)


def gamma(k: int, dtype: DTypeLike) -> float:
    """Higham's γ_k = k·u/(1 − k·u), u = eps/2: the relative error bound of a length-k
    accumulation (dot product, sum) in floating point (Higham, *Accuracy and Stability of
    Numerical Algorithms*, 2nd ed., Lemma 3.1)."""
    u = eps(dtype) / 2
    if k * u >= 1:
        return float("inf")
    return k * u / (1 - k * u)


def accumulation_length(problem: RNNProblem) -> int:
    """Length of the longest chain of roundings in one loss evaluation.

    Each time step accumulates a dot product of length ``n + m`` (``W_hh h + W_ih x``)
    and one activation; the readout adds a length ``n_feat + 1`` dot product and the loss
    a sum over ``p·B`` (and ``T``) residuals. Errors of the recurrence add along the ``T``
    steps, so the chain is ``T·(n + m + 2) + n_feat + 1 + p·B·T_loss``.
    """
    s = problem.spec
    n_feat = 2 * s.hidden if s.is_complex else s.hidden
    t_loss = s.steps if s.loss == "every" else 1
    return s.steps * (s.hidden + s.inputs + 2) + n_feat + 1 + s.outputs * s.batch * t_loss


def loss_scale(problem: RNNProblem, params: Mapping[str, Any]) -> float:
    """``½·w·Σ(|ŷ| + |y|)²``: the magnitude of the terms summed into the loss, which the
    rounding error of the loss is relative to (it can be ≫ |L| when ŷ ≈ y)."""
    fwd = problem.forward(params)
    s = problem.spec
    w = 1.0 / (s.batch * (s.steps if s.loss == "every" else 1))
    total = 0.0
    for t, yhat in enumerate(fwd.yhat):
        y = (
            problem.data.y[t]
            if s.loss == "every"
            else (problem.data.y if t == s.steps - 1 else None)
        )
        if y is not None:
            total += 0.5 * w * float(np.sum((np.abs(yhat) + np.abs(y)) ** 2))
    return total


def loss_rounding(problem: RNNProblem, params: Mapping[str, Any]) -> Tolerance:
    """Bound on the rounding error of one evaluation of the loss:
    ``δ_f = γ_K·scale`` with ``K`` = :func:`accumulation_length`, ``scale`` =
    :func:`loss_scale`. Worst-case (Higham), so usually pessimistic by 10–100×."""
    K = accumulation_length(problem)
    scale = loss_scale(problem, params)
    g = gamma(K, problem.spec.real_dtype)
    return Tolerance(
        value=g * scale,
        derivation="γ_K·Σ(|ŷ|+|y|)²/2 (worst-case rounding of one loss evaluation)",
        terms={"K": K, "gamma_K": g, "scale": scale},
    )


TAYLOR_SLOPE_DELTA = 0.1
"""Slack on the Taylor slope. On the window of smallest steps the remainder of a gradient
with directional error ``c`` is ``e(t) = |c·t + a·t²|`` whose log-log slope is
``1 + a·t/(c + a·t)``: a slope ≥ 2 − δ certifies ``|c| ≤ a·t_min·δ/(1 − δ)`` (with δ = 0.1,
``|c| ≤ a·t_min/9``), while any gradient error that dominates ``a·t`` at the smallest
resolvable step gives a slope near 1. Rounding contributes < 0.01 to the slope because
only points with ``e ≥ 100·floor`` are fitted (see properties/gradient.py)."""


def taylor_slope_tolerance() -> Tolerance:
    return Tolerance(
        value=TAYLOR_SLOPE_DELTA,
        derivation=(
            "slope of |c·t + a·t²| on the smallest-step window is 1 + a·t/(c + a·t); "
            "≥ 2 − δ certifies |c| ≤ a·t_min·δ/(1 − δ); fitted points have e ≥ 100·floor "
            "so rounding moves the slope by < 0.01"
        ),
        terms={"delta": TAYLOR_SLOPE_DELTA},
    )


def central_difference_step(dtype: DTypeLike) -> float:
    """``h = eps^(1/3)``: balances the rounding error ``δ_f/h`` (δ_f ∝ eps) of a central
    difference against its truncation error ``h²·|f'''|/6`` for O(1) ``f`` and ``f'''``."""
    return float(eps(dtype) ** (1.0 / 3.0))


def central_difference_tolerance(
    delta_f: float, h: float, richardson: float, directional: float, dtype: DTypeLike, K: int
) -> Tolerance:
    """Tolerance of ``|D(h) − ⟨g, d⟩|`` for a central difference ``D(h)``.

    ``D(h) − f'(0) = δ_f/h·θ + h²f'''/6 + O(h⁴)`` with |θ| ≤ 1 (each of the two
    evaluations is off by at most δ_f). The truncation term is estimated by Richardson:
    ``|D(2h) − D(h)| ≈ 3·h²|f'''|/6``, so it is ``|D(2h) − D(h)|/3`` — but that difference
    also carries rounding, up to ``1.5·δ_f/h``, hence the rounding term is counted
    ``1 + 1.5/3 = 1.5`` times; the analytic side ``⟨g, d⟩`` adds ``γ_K·|⟨g, d⟩|``. A factor
    2 covers the next Richardson term (O(h⁴), one order smaller at h = eps^(1/3)).
    """
    rounding = 1.5 * delta_f / h
    truncation = richardson / 3.0
    analytic = gamma(K, dtype) * abs(directional)
    value = 2.0 * (rounding + truncation + analytic)
    return Tolerance(
        value=value,
        derivation="2·(1.5·δ_f/h + |D(2h) − D(h)|/3 + γ_K·|⟨g,d⟩|)",
        terms={"delta_f": delta_f, "h": h, "richardson": richardson, "gamma_K": gamma(K, dtype)},
    )
