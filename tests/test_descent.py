"""descent.sufficient: gradient descent passes, an ascent step is caught."""

from __future__ import annotations

import pytest

from convergence.descent import ARMIJO_C
from rnnverify.claims import replay
from rnnverify.optimizers import sgd
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.registry import cases_claiming
from rnnverify.tree import axpy, inner
from rnnverify.verdict import Status
from tests import mutants
from tests.helpers import check, subject


@pytest.mark.parametrize("case", cases_claiming("descent.sufficient"), ids=str)
def test_reference_decrease_ratio_respects_the_descent_lemma(case):
    """η·L_s ≤ 1 gives Armijo with c = 1/2: the smallest measured ratio must be ≥ 1/2
    (up to the rounding of f, far below 1e-6 here)."""
    ref = next(r for r in case.claims if r.claim == "descent.sufficient")
    verdict = check("descent.sufficient", case.subject(ref))
    assert verdict.status is Status.PASS, verdict.render()
    assert verdict.measured is not None and verdict.measured >= 0.5 - 1e-6


def test_ascent_is_caught_as_not_a_descent_direction():
    verdict = check("descent.sufficient", subject(mutants.sgd_ascent))
    assert verdict.status is Status.FAIL, verdict.render()
    assert "not a descent direction" in verdict.summary
    assert verdict.entry == "step 0"
    assert verdict.quantities["<grad f, s>"] > 0


def test_steps_outside_the_precondition_are_not_judged():
    """A gradient step with η·L_s ≫ 1 overshoots (Armijo is violated) but is outside the
    theorem, so it is not judged: the verdict is n.a., not FAIL."""
    spec = ProblemSpec.parse("elman-tanh(n=2,m=1,p=1,T=2,B=1,loss=last,seed=3)")
    problem = make_problem(spec)
    x = dict(problem.params0)
    g = problem.grad(x)
    lr = 50.0
    f1 = problem.loss(axpy(-lr, g, x))
    assert f1 > problem.loss(x) - ARMIJO_C * lr * inner(g, g), "the step must overshoot"
    verdict = replay("descent.sufficient", subject(lambda: sgd(lr), name="big", steps=1), spec)
    assert verdict.status is Status.NA, verdict.render()
