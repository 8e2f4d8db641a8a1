"""grad.* claims: the reference gradient passes, every broken gradient is caught."""

from __future__ import annotations

import pytest

from rnnverify.problems import ProblemFamily
from rnnverify.registry import cases_claiming
from rnnverify.verdict import Status
from tests import mutants
from tests.helpers import ALL_CELLS, check, subject

GRAD_CLAIMS = ("grad.taylor_slope", "grad.finite_difference", "grad.sympy_bptt")
MODRELU_ONLY = ProblemFamily(cells=("elman", "complex"), activations=("modrelu",))


@pytest.mark.parametrize("claim", GRAD_CLAIMS)
@pytest.mark.parametrize("case", [c for c in cases_claiming("grad.taylor_slope")], ids=str)
def test_reference_cases_pass(case, claim):
    if not case.makes(claim):
        pytest.skip(f"{case.id} does not claim {claim}")
    ref = next(r for r in case.claims if r.claim == claim)
    verdict = check(claim, case.subject(ref))
    assert verdict.status is Status.PASS, verdict.render()
    assert verdict.examples - verdict.inapplicable > 0


@pytest.mark.parametrize("claim", GRAD_CLAIMS)
@pytest.mark.parametrize(
    "mutant, family",
    [
        (mutants.sgd_bptt_missing_step, ALL_CELLS),
        (mutants.sgd_transposed_whh, ALL_CELLS),
        (mutants.sgd_modrelu_wrong_sign, MODRELU_ONLY),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_broken_gradients_are_caught(mutant, family, claim):
    verdict = check(claim, subject(mutant, family=family))
    assert verdict.status is Status.FAIL, verdict.render()
    assert verdict.problem is not None and verdict.reproduce and verdict.inputs
    assert verdict.reproduce.endswith(f"--problem '{verdict.problem}'")


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
