"""Every claim catches at least one deliberately broken optimizer, and the references
that make the claim pass it (a check that cannot fail is a defect)."""

from __future__ import annotations

import pytest

from rnnverify.claims import all_claims
from rnnverify.registry import ClaimRef, cases_claiming
from rnnverify.verdict import Status
from tests.helpers import check, subject
from tests.mutants import all_kills

KILLS = all_kills()
MATRIX = [
    (claim, *kill) if len(kill) == 3 else (claim, *kill, claim)
    for claim, kills in KILLS.items()
    for kill in kills
]


def test_every_registered_claim_has_a_mutant_and_a_reference():
    claims = set(all_claims())
    assert claims == set(KILLS), f"claims without mutants: {sorted(claims - set(KILLS))}"
    for claim in claims:
        assert cases_claiming(claim), f"no reference case makes {claim}"


@pytest.mark.parametrize(
    "claim, factory, family, label",
    MATRIX,
    ids=[f"{c}-{f.__name__}" for c, f, _, _ in MATRIX],
)
def test_mutant_is_caught(claim, factory, family, label):
    """Caught by the right claim: a contract breach is an ERROR, a broken theorem a FAIL."""
    ref = ClaimRef.parse(label)
    subj = subject(
        factory, family=family, time_limit=2.0, target=ref.target, options=dict(ref.options)
    )
    verdict = check(claim, subj, max_examples=25)
    expected = Status.ERROR if claim == "contract.pure" else Status.FAIL
    assert verdict.status is expected, verdict.render()
    assert verdict.problem is not None and verdict.reproduce is not None


@pytest.mark.parametrize(
    "case, ref",
    [
        (case, ref)
        for claim in sorted(KILLS)
        for case in cases_claiming(claim)
        for ref in case.claims
        if ref.claim == claim
    ],
    ids=lambda x: str(x),
)
def test_reference_passes(case, ref):
    verdict = check(ref.claim, case.subject(ref))
    expected = Status.XFAIL if str(ref) in case.known_failures else Status.PASS
    if expected is Status.XFAIL:
        assert verdict.status.failed, verdict.render()
    else:
        assert verdict.status is Status.PASS, verdict.render()
        assert verdict.examples > verdict.inapplicable
