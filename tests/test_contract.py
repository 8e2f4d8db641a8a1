"""The runner turns every misbehaviour of an optimizer into a violation, never a crash."""

from __future__ import annotations

import time

import numpy as np
import pytest

from rnnverify.contract import (
    Optimizer,
    as_optimizer,
    from_gradient_transformation,
    run,
)
from rnnverify.optimizers import sgd
from rnnverify.problems import make_problem
from rnnverify.verdict import Status
from tests import mutants
from tests.helpers import check, subject

PROBLEM = "elman-tanh(n=3,m=2,p=1,T=3,B=2,loss=last,seed=1)"


@pytest.mark.parametrize("name", sorted(mutants.CONTRACT_MUTANTS))
def test_each_misbehaviour_is_a_one_line_violation(name):
    factory, kind, step = mutants.CONTRACT_MUTANTS[name]
    traj = run(factory(), make_problem(PROBLEM), 4)
    assert traj.violation is not None, f"{name} was not caught"
    assert traj.violation.kind == kind
    assert traj.violation.step == step
    line = traj.violation.one_line()
    assert "\n" not in line and kind in line
    assert ("init" if step < 0 else f"step {step}") in line
    # the trajectory keeps everything up to the violation
    assert traj.steps == max(step, 0)


@pytest.mark.parametrize(
    "name, entry",
    [
        ("returns_nan", "W_hh[0, 0]"),
        ("changes_shape", "b"),
        ("changes_dtype", "V"),
        ("drops_param", "c"),
        ("adds_param", "extra"),
        ("aliases_input", "params['c']"),
        ("unfreezes_and_writes", "params['b']"),
        ("non_deterministic", "params['W_hh']"),
    ],
)
def test_violations_name_the_parameter(name, entry):
    factory, _, _ = mutants.CONTRACT_MUTANTS[name]
    traj = run(factory(), make_problem(PROBLEM), 4)
    assert traj.violation is not None and traj.violation.entry is not None
    assert entry in traj.violation.entry


@pytest.mark.parametrize("factory", [mutants.hangs, mutants.spins], ids=["sleeps", "busy-loop"])
def test_a_hung_step_is_reported_within_the_time_limit(factory):
    t0 = time.perf_counter()
    traj = run(factory(), make_problem(PROBLEM), 3, time_limit=0.3)
    assert time.perf_counter() - t0 < 5
    assert traj.violation is not None and traj.violation.kind == "hung"
    assert "0.3 s" in traj.violation.message


def test_hung_step_is_reported_from_a_worker_thread_too():
    import threading

    box = {}
    worker = threading.Thread(
        target=lambda: box.setdefault(
            "t", run(mutants.hangs(2.0), make_problem(PROBLEM), 3, time_limit=0.3)
        )
    )
    worker.start()
    worker.join(10)
    assert box["t"].violation is not None and box["t"].violation.kind == "hung"


@pytest.mark.parametrize("name", sorted(mutants.CONTRACT_MUTANTS))
def test_contract_claim_reports_the_violation_as_an_error_verdict(name):
    factory, kind, _ = mutants.CONTRACT_MUTANTS[name]
    verdict = check("contract.pure", subject(factory, name=name), max_examples=5)
    assert verdict.status is Status.ERROR, verdict.render()
    assert verdict.summary.startswith(kind)
    assert verdict.reproduce and verdict.problem


def test_hang_is_not_shrunk_but_reported_once():
    t0 = time.perf_counter()
    verdict = check("contract.pure", subject(mutants.hangs, name="hangs", time_limit=0.2))
    assert time.perf_counter() - t0 < 5, "a hanging optimizer was re-run while shrinking"
    assert verdict.status is Status.ERROR and verdict.summary.startswith("hung at step 1")


def test_reference_sgd_is_pure_and_keeps_a_complete_trajectory():
    p = make_problem(PROBLEM)
    traj = run(sgd(0.05), p, 6, check_determinism=6)
    assert traj.ok and traj.steps == 6
    assert len(traj.losses) == len(traj.params) == 7
    assert traj.losses[0] == p.loss(dict(p.params0))
    for params in traj.params:
        assert all(not v.flags.writeable for v in params.values())


def test_divergence_of_a_faithful_optimizer_is_not_a_violation():
    """Gradient descent with η·L ≫ 2 on a linear RNN overflows: the run stops at the first
    step whose input already had a non-finite loss or gradient, without a violation."""
    p = make_problem("elman-identity(n=1,m=4,p=2,T=10,B=1,loss=last,seed=6263709)")
    traj = run(sgd(50.0), p, 40)
    assert traj.violation is None
    assert traj.diverged_at is not None and traj.steps == traj.diverged_at
    assert all(np.isfinite(v).all() for v in traj.params[-1].values())


def test_as_optimizer_accepts_objects_and_names_what_is_missing():
    class Mine:
        def init(self, problem, params):
            return ()

        def step(self, problem, params, state):
            return {k: v.copy() for k, v in params.items()}, state

    assert isinstance(as_optimizer(Mine()), Optimizer)
    assert run(Mine(), make_problem(PROBLEM), 2).ok
    with pytest.raises(TypeError, match="missing \\['step'\\]"):
        as_optimizer(type("NoStep", (), {"init": lambda self, p, x: ()})())


def test_gradient_transformation_is_lifted():
    """An optax-style ``scale(−η)`` lifted to the contract is plain gradient descent."""

    class Scale:
        def __init__(self, eta):
            self.eta = eta

        def init(self, params):
            return ()

        def update(self, grads, state, params=None):
            return {k: -self.eta * g for k, g in grads.items()}, state

    p = make_problem(PROBLEM)
    lifted = run(from_gradient_transformation(Scale(0.05)), p, 3)
    direct = run(sgd(0.05), p, 3)
    assert lifted.ok
    for a, b in zip(lifted.params, direct.params, strict=True):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    with pytest.raises(TypeError, match="gradient transformation"):
        from_gradient_transformation(object())


def test_light_runs_skip_only_the_purity_checks():
    """purity_checks=False (long runs of rate claims) still stops a hang, a raise and a
    NaN, but no longer looks at aliasing or determinism."""
    p = make_problem(PROBLEM)
    assert run(mutants.hangs(), p, 3, time_limit=0.3, purity_checks=False).violation.kind == "hung"
    assert run(mutants.raises(), p, 3, purity_checks=False).violation.kind == "raised"
    assert run(mutants.returns_nan(), p, 4, purity_checks=False).violation.kind == "non_finite"
    assert run(mutants.aliases_input(), p, 3, purity_checks=False).ok
    assert run(mutants.non_deterministic(), p, 3, purity_checks=False).ok
