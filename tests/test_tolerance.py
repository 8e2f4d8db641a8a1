"""The derived tolerances bound what they claim to bound."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from properties.strategies import problem_specs
from rnnverify.problems import ProblemFamily, make_problem
from rnnverify.tolerance import central_difference_step, eps, gamma, loss_rounding


def test_eps_and_gamma():
    assert eps(np.float64) == 2.0**-52
    assert eps(np.complex64) == eps(np.float32)
    assert gamma(10, np.float64) == 10 * 2.0**-53 / (1 - 10 * 2.0**-53)
    assert gamma(2**60, np.float64) == float("inf")
    assert central_difference_step(np.float64) == (2.0**-52) ** (1 / 3)


def _loss_longdouble(problem, params):
    """The loss recomputed in extended precision (x87 80-bit where available)."""
    ld = np.longdouble
    p = {k: v.astype(np.clongdouble if np.iscomplexobj(v) else ld) for k, v in params.items()}
    x, y = problem.data.x.astype(ld), problem.data.y.astype(ld)
    h = problem.data.h0.astype(p["W_hh"].dtype)
    b = p["b"][:, None]
    total = ld(0)
    s = problem.spec
    w = ld(1) / ld(s.batch * (s.steps if s.loss == "every" else 1))
    for t in range(s.steps):
        z = p["W_hh"] @ h + p["W_ih"] @ x[t]
        h = problem.activation.forward(z, b)
        feat = np.concatenate([h.real, h.imag]) if s.is_complex else h
        yhat = p["V"] @ feat + p["c"][:, None]
        target = y[t] if s.loss == "every" else (y if t == s.steps - 1 else None)
        if target is not None:
            total += ld(0.5) * w * np.sum((yhat - target) ** 2)
    return total


@given(problem_specs(ProblemFamily(cells=("elman", "complex"))))
def test_loss_rounding_bounds_the_actual_rounding_error(spec):
    """|L_float64 − L_extended| ≤ δ_f (the extended-precision loss is exact to ~1e-19
    relative, far below δ_f)."""
    if np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps:
        return  # no extended precision on this platform: nothing to compare against
    problem = make_problem(spec)
    x = dict(problem.params0)
    err = abs(float(problem.loss(x) - _loss_longdouble(problem, x)))
    assert err <= loss_rounding(problem, x).value
