"""Broken optimizers for the rate claims (convergence/rates.py, convergence/allen_zhu_rate.py)
and the claims that must catch them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rnnverify.contract import Optimizer
from rnnverify.optimizers.allen_zhu_gd import _allen_zhu_gd
from rnnverify.optimizers.rate_references import AZ_RATE_FAMILY, READOUT_FAMILY, _readout_newton
from rnnverify.problems import RNNProblem
from rnnverify.tree import Params


def readout_newton_small_step() -> Optimizer:
    """Damped Newton with α = 0.05, 10× smaller than the reference's 0.5: it converges at
    (1 − 0.05)² = 0.9025 per step, not at the claimed ≤ 0.5."""
    return _readout_newton(0.05)


def readout_newton_stalls() -> Optimizer:
    """Damped Newton (α = 0.5) that stops moving after 3 steps, far from f*."""
    return _readout_newton(0.5, stall_after=3)


KILLS = {
    "rate.linear": [
        (readout_newton_small_step, READOUT_FAMILY, "rate.linear,factor=0.5"),
        (readout_newton_stalls, READOUT_FAMILY, "rate.linear,factor=0.5"),
    ],
}


# ---------------------------------------------------------------------------------------
# Allen-Zhu GD (convergence/allen_zhu_rate.py)
# ---------------------------------------------------------------------------------------


def _with_grad_scale(inner: Optimizer, scale: Callable[[int], float]) -> Optimizer:
    """``inner`` (Allen-Zhu GD) whose state's gradient is ∇f·scale(m): the gradient it
    reports *and* descends along."""

    def init(problem: RNNProblem, params: Params) -> Any:
        st = inner.init(problem, params)
        return st._replace(grad=st.grad * scale(st.W.shape[0]))

    def step(problem: RNNProblem, params: Params, state: Any) -> tuple[Params, Any]:
        out, st = inner.step(problem, params, state)
        return out, st._replace(grad=st.grad * scale(st.W.shape[0]))

    return Optimizer(init=init, step=step, diagnostics=inner.diagnostics)


def az_gradient_over_m() -> Optimizer:
    """Allen-Zhu GD whose gradient is divided by m (a mean over hidden units instead of
    the sum): r = ‖∇f‖²/(m f) ∝ 1/m², a 16× drift from m = 64 to 256."""
    return _with_grad_scale(_allen_zhu_gd(0.25), lambda m: 1.0 / m)


def az_lr_not_scaled() -> Optimizer:
    """Allen-Zhu GD with η = 0.25 instead of 0.25/m (the step forgets the 1/m): the
    reported gradient is right, the step is m× too long."""
    inner = _allen_zhu_gd(0.25)

    def step(problem: RNNProblem, params: Params, state: Any) -> tuple[Params, Any]:
        m = state.W.shape[0]
        return inner.step(problem, params, state._replace(grad=state.grad * m))

    return Optimizer(init=inner.init, step=step, diagnostics=inner.diagnostics)


KILLS["az.gradient_loss_ratio"] = [
    (az_gradient_over_m, AZ_RATE_FAMILY, "az.gradient_loss_ratio"),
]
KILLS["az.linear_rate_lazy"] = [
    (az_lr_not_scaled, AZ_RATE_FAMILY, "az.linear_rate_lazy"),
]


# ---------------------------------------------------------------------------------------
# rate.sublinear
# ---------------------------------------------------------------------------------------


def readout_newton_harmonic_small_step() -> Optimizer:
    """α_k = 0.1/(k + 2), 10× too small: the gap decays like k^{−0.2}, not k^{−2}."""
    return _readout_newton(1.0, schedule=0.1)


def readout_newton_harmonic_stalls() -> Optimizer:
    """α_k = 1/(k + 2) for 3 steps, then no movement."""
    return _readout_newton(1.0, schedule=1.0, stall_after=3)


KILLS["rate.sublinear"] = [
    (readout_newton_harmonic_small_step, READOUT_FAMILY, "rate.sublinear,order=2"),
    (readout_newton_harmonic_stalls, READOUT_FAMILY, "rate.sublinear,order=2"),
]
