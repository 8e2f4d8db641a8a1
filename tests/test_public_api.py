"""The public API: ``rnnverify.check``, its Report, and ``parametrize_with_checks``."""

from __future__ import annotations

import re
from typing import Any

import pytest

import rnnverify
from rnnverify.optimizers.sgd import sgd
from rnnverify.problems import ProblemFamily
from rnnverify.registry import Case, refs
from rnnverify.testing import ClaimFailed, assert_verdict, checks, plan
from rnnverify.verdict import Status, Verdict
from tests import mutants

# small problems keep each search well under a second
SMALL = ProblemFamily(hidden=(1, 3), steps=(1, 3), batch=(1, 2))
SGD = Case(sgd, {"lr": 0.05}, claims=refs("descent.sufficient"), problems=SMALL)


def test_a_correct_optimizer_passes_with_a_figure_per_claim():
    report = rnnverify.check(SGD, seed=0)
    assert report.passed, str(report)
    assert [v.claim for v in report] == ["contract.pure", "descent.sufficient"]
    assert all(v.status is Status.PASS for v in report)
    assert report["descent.sufficient"].measured is not None
    assert report.optimizer == "sgd(lr=0.05)"
    assert report.summary().startswith("rnnverify: 2 held, 0 failed")
    report.raise_if_failed()


def test_a_broken_optimizer_fails_with_the_verdict_in_full():
    report = rnnverify.check(
        "tests.mutants:sgd_ascent", claims="descent.sufficient", family=SMALL, seed=0
    )
    assert not report.passed
    [verdict] = report.failures
    assert verdict.status is Status.FAIL
    assert verdict.reproduce is not None
    assert verdict.reproduce.startswith(
        "rnnverify check tests.mutants:sgd_ascent --claim descent.sufficient --problem 'elman-"
    )
    text = str(report)
    assert "FAIL" in text.splitlines()[2]  # the matrix row
    assert verdict.render() in text
    with pytest.raises(AssertionError) as raised:
        report.raise_if_failed()
    assert str(raised.value) == verdict.render()


def test_claims_select_the_declared_target_and_keep_known_failures():
    report = rnnverify.check("sgd(lr=0.05)", claims=["orthogonal.preserved"], family=SMALL, seed=0)
    [verdict] = report
    assert verdict.claim_label == "orthogonal.preserved:W_hh"
    assert verdict.status is Status.XFAIL and report.passed


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ("no.such_claim", "unknown claim 'no.such_claim'; expected one of ["),
        ("orthogonal.preserved:W hh", "expected CLAIM_ID or CLAIM_ID:PARAMETER"),
        ("qn.pair_acceptance,test=zz", "test='zz'; expected one of ['sts', 'yty']"),
        ("rate.linear", "sgd(lr=0.05) does not make it; it makes ["),
    ],
)
def test_bad_claims_are_value_errors_naming_them(claims, expected):
    with pytest.raises(ValueError) as raised:
        rnnverify.check("sgd(lr=0.05)", claims=claims)
    assert expected in str(raised.value)
    if "unknown claim" in expected:
        assert "'descent.sufficient'" in str(raised.value)  # the valid ids are listed


@pytest.mark.parametrize(
    ("optimizer", "expected"),
    [
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
        ("tests.mutants:no_such_factory", "'tests.mutants' has no attribute 'no_such_factory'"),
        ("rnnverify.contract:DEFAULT_STEP_TIME_LIMIT", "a float, expected a Case, an optimizer"),
        ("rnnverify.verdict:fmt", "calling the factory raised TypeError"),
        ("no_such_case", "expected pkg.module:factory or a built-in case id"),
        (42, "a int, expected a Case, an optimizer (init and step) or a factory"),
    ],
)
def test_bad_optimizers_are_value_errors_naming_them(optimizer, expected):
    with pytest.raises(ValueError) as raised:
        rnnverify.check(optimizer)
    assert expected in str(raised.value)


class Declaring:
    """An optimizer class that declares its claims and problems as attributes."""

    claims = ("descent.sufficient",)
    problems = SMALL

    def __init__(self) -> None:
        self._sgd = sgd(0.05)

    def init(self, problem: Any, params: Any) -> Any:
        return self._sgd.init(problem, params)

    def step(self, problem: Any, params: Any, state: Any) -> Any:
        return self._sgd.step(problem, params, state)


def test_an_optimizer_object_declares_claims_by_attribute():
    p = plan(Declaring())
    assert [str(r) for r in p.refs] == ["descent.sufficient"]
    assert p.case.problems == SMALL
    assert p.case.id == "Declaring"


def test_an_optimizer_that_declares_nothing_is_held_to_the_contract():
    """contract.pure always; the gradient claims only for one that brings its gradient."""
    assert [str(r) for r in plan(sgd(0.05)).refs] == ["contract.pure"]
    with_gradient = sgd(0.05, gradient=mutants.transposed_whh_gradient)
    assert [str(r) for r in plan(with_gradient).refs] == [
        "contract.pure",
        "grad.taylor_slope",
        "grad.finite_difference",
    ]
    assert plan(sgd(0.05)).case.id == "sgd"  # the factory that built it


def test_checks_give_one_readable_id_per_optimizer_and_claim():
    ids = [i for i, _, _ in checks([SGD, "tests.mutants:sgd_ascent"], claims=None)]
    assert ids == [
        "sgd(lr=0.05)-contract.pure",
        "sgd(lr=0.05)-descent.sufficient",
        "tests.mutants:sgd_ascent-contract.pure",
    ]


@rnnverify.parametrize_with_checks([SGD], seed=0)
def test_parametrize_with_checks(optimizer, check):
    verdict = check(optimizer)
    assert isinstance(verdict, Verdict) and verdict.status is Status.PASS


def test_parametrize_with_checks_names_the_tests():
    """The decorated test above is parametrized once per claim, with readable ids."""
    [mark] = test_parametrize_with_checks.pytestmark  # type: ignore[attr-defined]
    assert mark.args[0] == ("optimizer", "check")
    assert [p.id for p in mark.args[1]] == [
        "sgd(lr=0.05)-contract.pure",
        "sgd(lr=0.05)-descent.sufficient",
    ]


def test_a_failing_check_fails_its_test_with_the_verdict():
    [(_, p, check)] = checks(["tests.mutants:sgd_ascent"], "descent.sufficient", family=SMALL)
    with pytest.raises(ClaimFailed) as raised:
        check(p)
    message = str(raised.value)
    assert message.startswith("FAIL descent.sufficient [tests.mutants:sgd_ascent]: ")
    assert "reproduce   : rnnverify check tests.mutants:sgd_ascent" in message


def test_known_failures_are_xfails_and_inapplicable_claims_skips():
    known = Verdict("orthogonal.preserved", "sgd", Status.XFAIL, target="W_hh", reason="control")
    xfail = re.escape("orthogonal.preserved:W_hh: control")
    with pytest.raises(pytest.xfail.Exception, match=xfail):
        assert_verdict(known)
    na = Verdict("rate.linear", "sgd", Status.NA, summary="precondition held on none")
    with pytest.raises(pytest.skip.Exception, match=re.escape("rate.linear: n.a.: precondition")):
        assert_verdict(na)
    assert_verdict(Verdict("descent.sufficient", "sgd", Status.PASS))
