"""Rate claims (convergence/rates.py, convergence/allen_zhu_rate.py): the fit, the
reference with a known rate, and the options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convergence.rates import continue_minimizing, fit_order, fit_rate
from rnnverify.contract import run
from rnnverify.optimizers.rate_references import readout_features, readout_newton
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.registry import ClaimRef
from rnnverify.tolerance import loss_rounding


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
