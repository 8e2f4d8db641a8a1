"""grad.* claims: what a failure reports (the mutation matrix checks that each is caught)."""

from __future__ import annotations

from rnnverify.problems import ProblemFamily
from rnnverify.verdict import Status
from tests import mutants
from tests.helpers import check, subject

MODRELU_ONLY = ProblemFamily(cells=("elman", "complex"), activations=("modrelu",))


def test_taylor_failure_names_the_broken_block_and_shrinks():
    verdict = check("grad.taylor_slope", subject(mutants.sgd_transposed_whh))
    assert verdict.status is Status.FAIL
    assert verdict.entry == "W_hh"
    assert verdict.measured is not None and verdict.measured < 1.9
    # shrinking reaches a small problem: a transposed 1×1 matrix is not wrong, so n = 2
    assert "(n=2," in verdict.problem


def test_finite_difference_failure_names_the_worst_entry():
    verdict = check("grad.finite_difference", subject(mutants.sgd_transposed_whh))
    assert verdict.status is Status.FAIL
    assert verdict.entry is not None and verdict.entry.startswith("W_hh[")
    assert verdict.violation is not None and verdict.violation > 0


def test_sympy_failure_names_the_entry():
    verdict = check("grad.sympy_bptt", subject(mutants.sgd_modrelu_wrong_sign, family=MODRELU_ONLY))
    assert verdict.status is Status.FAIL
    assert verdict.entry is not None and verdict.entry.startswith("b[")
