"""Unit tests of properties/allen_zhu_bounds.py (theory/allen-zhu.md §10 Z3, Z5–Z7, Z9)."""

from __future__ import annotations

from rnnverify.claims import Subject, get_claim
from rnnverify.optimizers.allen_zhu_gd import _allen_zhu_gd
from rnnverify.problems import ProblemSpec
from rnnverify.verdict import Status
from tests.mutants_allen_zhu_bounds import az_h_twice, az_trains_b

SPEC = ProblemSpec(activation="relu", inputs=3, outputs=2, hidden=4, steps=5, batch=2, seed=0)


def _eval(claim: str, opt, spec: ProblemSpec = SPEC):
    return get_claim(claim).evaluate(Subject(name="x", optimizer=opt, steps=3), spec)


def test_only_w_trained_passes_reference_and_names_b_for_the_mutant():
    assert _eval("az.only_w_trained", _allen_zhu_gd(0.001)).status is Status.PASS
    obs = _eval("az.only_w_trained", az_trains_b())
    assert obs.status is Status.FAIL and "frozen B" in obs.summary, obs.summary


def test_forward_bounds_h_twice_explodes():
    obs = _eval("init.forward_bounds", az_h_twice())
    assert obs.status is Status.FAIL and obs.score > 10, obs.summary


def test_backward_bounded_also_catches_vanishing_init():
    """Variance 1/m: the backward ratio shrinks like (1/√2)^{a − l}."""
    obs = _eval("init.backward_bounded", _allen_zhu_gd(0.001, w_var=1.0))
    assert obs.status is Status.FAIL and "vanishes" in obs.summary, obs.summary


def test_forward_bounds_violation_at_tiny_m_is_soft():
    """At m = 2 the reference's own init breaks ‖h_{1,10}‖ ≤ 22 (ratio 3.46): a
    with-high-probability statement says nothing at m/L² = 0.02, so the claim reports it and
    passes, because the bound holds at m = 256 (docs/claims/init.forward_bounds.md)."""
    spec = ProblemSpec(activation="relu", inputs=3, outputs=2, hidden=2, steps=10, batch=4, seed=1)
    obs = _eval("init.forward_bounds", _allen_zhu_gd(0.001), spec)
    assert obs.status is Status.PASS and "soft violation at generated m = 2" in obs.summary, (
        obs.summary
    )
