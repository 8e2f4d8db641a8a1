"""Rate claims (convergence/rates.py, convergence/allen_zhu_rate.py): the fit, the
reference with a known rate, and the options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convergence.rates import continue_minimizing, fit_order, fit_rate
from rnnverify.claims import Subject, replay
from rnnverify.contract import run
from rnnverify.optimizers.allen_zhu_gd import _allen_zhu_gd
from rnnverify.optimizers.rate_references import readout_features, readout_newton
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.registry import ClaimRef, get_case
from rnnverify.tolerance import loss_rounding
from rnnverify.verdict import Status
from tests.mutants_rates import _with_grad_scale


def test_fit_recovers_an_exact_geometric_rate_and_stops_at_the_floor():
    gaps = [3.0 * 0.7**k for k in range(40)] + [1e-20] * 5
    q_hat, N, c_N = fit_rate(gaps, floor=3.0 * 0.7**20)
    assert N == 21
    assert q_hat == pytest.approx(0.7, rel=1e-12)
    # c_N = Σ|k − k̄|/Σ(k − k̄)² for k = 0..20
    k = np.arange(21) - 10.0
    assert c_N == pytest.approx(np.sum(np.abs(k)) / np.sum(k * k))


def test_fit_needs_three_points():
    assert fit_rate([1.0, 0.5, 1e-30], floor=1e-10)[1] == 2
    assert math.isnan(fit_rate([1.0, 0.5, 1e-30], floor=1e-10)[0])


@pytest.mark.parametrize("alpha", [0.5, 0.05])
def test_damped_newton_contracts_the_gap_by_exactly_one_minus_alpha_squared(alpha):
    """rate_references.py: f_{k+1} − f* = (1 − α)²(f_k − f*), f* = (w/2)‖Y(I − P)‖²."""
    spec = ProblemSpec(
        activation="tanh", hidden=3, inputs=2, outputs=2, steps=4, batch=2, loss="every", seed=7
    )
    problem = make_problem(spec)
    traj = run(readout_newton(alpha), problem, 6)
    Ft, Y = readout_features(problem, dict(problem.params0))
    P = np.linalg.pinv(Ft) @ Ft
    w = 1.0 / (spec.batch * spec.steps)
    f_star = 0.5 * w * float(np.sum((Y - Y @ P) ** 2))
    gaps = np.array(traj.losses) - f_star
    delta = loss_rounding(problem, problem.params0).value
    for k in range(5):
        if gaps[k + 1] > 100 * delta:
            assert gaps[k + 1] / gaps[k] == pytest.approx((1 - alpha) ** 2, rel=1e-6)


def test_continuation_reaches_the_readout_minimum():
    """The harness's own minimizer (BB + Armijo) finds f* of the readout quadratic."""
    spec = ProblemSpec(activation="relu", hidden=4, inputs=2, outputs=1, steps=3, batch=3, seed=2)
    problem = make_problem(spec)
    x = dict(problem.params0)
    Ft, Y = readout_features(problem, x)
    P = np.linalg.pinv(Ft) @ Ft
    f_star = 0.5 / spec.batch * float(np.sum((Y - Y @ P) ** 2))
    delta = loss_rounding(problem, x).value
    f_ref = continue_minimizing(problem, x, ["V", "c"], delta)
    assert f_star - 2 * delta <= f_ref <= f_star + 1e-8 * problem.loss(x)


def test_factor_option_is_validated():
    ClaimRef.parse("rate.linear,factor=0.9")
    with pytest.raises(ValueError, match="factor"):
        ClaimRef.parse("rate.linear,factor=0.7")


def test_order_fit_recovers_an_exact_power_law():
    gaps = [5.0 / (k + 1) ** 2 for k in range(100)]
    slope, N, _ = fit_order(gaps, floor=1e-12)
    assert N == 99
    assert slope == pytest.approx(-2.0, abs=1e-12)


# -- az.gradient_loss_ratio: the drift test's noise --------------------------------------

NOISY_AZ = "elman-relu(n=1,m=4,p=1,T=4,B=3,loss=last,dtype=float64,seed=676065)"
"""With 8 inits per width the reference drifted ×2.17 here (per-init r over [2.8, 28] at
m = 64; 400 inits give the problem's drift as 0.93): the tail of the estimator."""


def _az_subject(scale_exponent: float | None):
    opt = _allen_zhu_gd(0.25)
    if scale_exponent is not None:
        opt = _with_grad_scale(opt, lambda m: float(m) ** scale_exponent)
    return Subject(name=f"az_grad_times_m^{scale_exponent}", optimizer=opt)


def test_az_ratio_replays_the_8_init_counterexample_as_a_pass():
    case = get_case("allen_zhu_gd(lr=0.25)")
    ref = next(r for r in case.claims if r.claim == "az.gradient_loss_ratio")
    verdict = replay("az.gradient_loss_ratio", case.subject(ref), ProblemSpec.parse(NOISY_AZ))
    assert verdict.status is Status.PASS, verdict.render()
    # the design: the decision is made where the band's edges are ≥ 3 standard errors of the
    # log drift away (first look, 32 inits) or with 96 inits (se ≤ log 2/4.4 on the noisiest
    # problems measured, two-sided 1e-5); 8 inits gave se 0.27 here, ≈ log 2/2.6
    assert verdict.quantities["standard error of log drift"] <= math.log(2) / 4.4


@pytest.mark.parametrize("exponent, drift", [(-0.5, 1 / 4), (0.5, 4.0)])
def test_az_ratio_catches_a_gradient_off_by_root_m_on_the_noisy_problem(exponent, drift):
    """‖∇f‖ off by m^(±1/2): r off by m^(±1), a 4× drift between m = 64 and 256 — the
    smallest drift the band is designed to catch — caught on the noisy problem too."""
    verdict = replay("az.gradient_loss_ratio", _az_subject(exponent), ProblemSpec.parse(NOISY_AZ))
    assert verdict.status is Status.FAIL, verdict.render()
    assert verdict.quantities["drift r(256)/r(64)"] == pytest.approx(drift, rel=0.5)
