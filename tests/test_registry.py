"""Cases, claim references, known failures."""

from __future__ import annotations

import pytest

from rnnverify.api import apply_known_failure, matrix, verify_case
from rnnverify.optimizers import sgd
from rnnverify.registry import Case, ClaimRef, call_id, cases, get_case
from rnnverify.verdict import Status, Verdict
from tests.mutants import sgd_ascent


def test_case_ids_are_readable_calls_without_addresses():
    assert call_id(sgd, {"lr": 0.05}) == "sgd(lr=0.05)"
    for case in cases():
        assert "0x" not in case.id and case.id.endswith(")")
        assert get_case(case.id) is case


def test_every_case_makes_the_contract_claim_implicitly():
    case = Case(sgd, {"lr": 0.1}, claims=("grad.taylor_slope",))
    assert [str(r) for r in case.claims] == ["contract.pure", "grad.taylor_slope"]


def test_claim_refs_parse_targets_and_reject_unknown_ids_listing_the_valid_ones():
    assert ClaimRef.parse("descent.sufficient") == ClaimRef("descent.sufficient")
    assert ClaimRef.parse("grad.taylor_slope:W_hh") == ClaimRef("grad.taylor_slope", "W_hh")
    with pytest.raises(ValueError, match=r"unknown claim 'orthogonal\.nope'.*grad\.taylor_slope"):
        ClaimRef.parse("orthogonal.nope:W_hh")
    with pytest.raises(ValueError, match="expected CLAIM_ID or CLAIM_ID:PARAMETER"):
        ClaimRef.parse("descent.sufficient:W hh")


def test_known_failure_must_be_a_claim_of_the_case():
    with pytest.raises(ValueError, match=r"known failure 'grad\.sympy_bptt'"):
        Case(sgd, claims=("descent.sufficient",), known_failures={"grad.sympy_bptt": "why"})


def test_known_failures_become_xfail_and_stale_ones_xpass():
    failing = Case(
        sgd_ascent,
        claims=("descent.sufficient",),
        known_failures={"descent.sufficient": "flipped sign, kept as a demo"},
    )
    (descent,) = verify_case(failing, claims=["descent.sufficient"], seed=0)
    assert descent.status is Status.XFAIL and descent.reason == "flipped sign, kept as a demo"
    assert not descent.status.failed

    stale = Case(
        sgd,
        {"lr": 0.05},
        claims=("descent.sufficient",),
        known_failures={"descent.sufficient": "no longer true"},
    )
    ref = stale.claims[1]
    passed = Verdict("descent.sufficient", stale.id, Status.PASS)
    assert apply_known_failure(stale, ref, passed).status is Status.XPASS
    assert Status.XPASS.failed


def test_matrix_has_a_row_per_claim_and_a_column_per_optimizer():
    vs = [
        Verdict("a.b", "x()", Status.PASS, figure="1.0"),
        Verdict("a.b", "y()", Status.FAIL),
        Verdict("c.d", "x()", Status.NA),
    ]
    lines = matrix(vs).splitlines()
    assert lines[0].split() == ["claim", "x()", "y()"]
    assert lines[2].split() == ["a.b", "pass", "1.0", "FAIL"]
    assert lines[3].split() == ["c.d", "n.a.", "—"]


def test_claim_options_are_validated_by_the_claim():
    with pytest.raises(ValueError, match=r"unknown option 'drift'; grad\.taylor_slope accepts"):
        ClaimRef.parse("grad.taylor_slope,drift=cayley")
    with pytest.raises(ValueError, match="expected CLAIM_ID"):
        ClaimRef.parse("grad.taylor_slope,drift")


def test_a_wide_matrix_gets_numbered_columns_and_a_legend():
    vs = [Verdict("a.b", f"optimizer_{i}(lr=0.1)", Status.PASS, figure="1.0") for i in range(8)]
    text = matrix(vs, width=60)
    assert text.splitlines()[0].split() == ["claim", *(f"[{i}]" for i in range(1, 9))]
    assert "[8] optimizer_7(lr=0.1)" in text
    assert matrix(vs).splitlines()[0].split()[1] == "optimizer_0(lr=0.1)"
