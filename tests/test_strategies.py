"""problem_specs: valid by construction, inside the family, shrinking to the simplest."""

from __future__ import annotations

import pytest
from hypothesis import find, given
from hypothesis.errors import InvalidArgument

from properties.strategies import problem_specs, rnn_problems
from rnnverify.problems import ProblemFamily, ProblemSpec

FAMILY = ProblemFamily(cells=("elman", "complex"), hidden=(2, 5), steps=(3, 4), losses=("every",))


@given(problem_specs(FAMILY))
def test_specs_lie_in_their_family(spec):
    assert FAMILY.contains(spec)


@given(rnn_problems(FAMILY))
def test_problems_match_their_spec(problem):
    assert problem.params0["W_hh"].shape == (problem.spec.hidden,) * 2
    assert problem.data.x.shape == (problem.spec.steps, problem.spec.inputs, problem.spec.batch)


def test_specs_shrink_to_the_smallest_simplest_problem():
    assert find(problem_specs(), lambda s: True) == ProblemSpec(
        cell="elman",
        activation="tanh",
        hidden=1,
        inputs=1,
        outputs=1,
        steps=1,
        batch=1,
        loss="last",
        dtype="float64",
        seed=0,
    )
    # a failure that needs a complex cell with 3 units shrinks to exactly that
    found = find(
        problem_specs(ProblemFamily(cells=("elman", "complex"))),
        lambda s: s.is_complex and s.hidden >= 3,
    )
    assert (found.cell, found.hidden, found.steps, found.seed) == ("complex", 3, 1, 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden": (3, 2)}, "hidden=\\(3, 2\\)"),
        ({"cells": ("lstm",)}, "'lstm'"),
        ({"activations": ("sigmoid",)}, "'sigmoid'"),
        ({"losses": ()}, "must not be empty"),
        ({"cells": ("complex",), "activations": ("tanh",)}, "'tanh' is not an activation"),
    ],
)
def test_empty_or_invalid_families_raise_naming_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ProblemFamily(**kwargs)


def test_problem_specs_rejects_a_non_family():
    with pytest.raises(InvalidArgument, match="family=3"):
        problem_specs(3)  # type: ignore[arg-type]


def test_restricting_to_nothing_raises():
    with pytest.raises(ValueError, match="do not intersect"):
        ProblemFamily(hidden=(4, 8)).restrict(hidden=(1, 2))
