"""Hypothesis strategies: RNN problems and structured matrices.

Every strategy is valid by construction (no filtering) and shrinks toward tiny, simple
cases: sizes toward their lower bound, the first cell/activation/loss of the family,
seed 0 for the numeric content, and the simplest matrix of each kind (identity, zero)
where one exists. A strategy whose arguments admit nothing raises
:class:`hypothesis.errors.InvalidArgument` naming the offending value.

Numeric content is drawn from a seed (``numpy.random.default_rng``): every problem is
then reproduced from its printed :class:`~rnnverify.problems.ProblemSpec` alone, and
degenerate draws (exact zeros on a ReLU kink) have probability zero.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from properties.matrices import (
    orthogonal_matrices,
    skew_hermitian_matrices,
    skew_matrices,
    spd_matrices,
    spectral_radius_matrices,
    unitary_matrices,
)
from rnnverify.problems import ProblemFamily, ProblemSpec, RNNProblem, make_problem

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def problem_specs(family: ProblemFamily | None = None) -> st.SearchStrategy[ProblemSpec]:
    """Problem specs drawn from ``family`` (default: :class:`ProblemFamily`'s defaults)."""
    if family is None:
        family = ProblemFamily()
    if not isinstance(family, ProblemFamily):
        raise InvalidArgument(f"family={family!r}: expected a ProblemFamily")
    combos = family.combinations()

    @st.composite
    def specs(draw: st.DrawFn) -> ProblemSpec:
        cell, activation = draw(st.sampled_from(combos))
        return ProblemSpec(
            cell=cell,
            activation=activation,
            hidden=draw(st.integers(*family.hidden)),
            inputs=draw(st.integers(*family.inputs)),
            outputs=draw(st.integers(*family.outputs)),
            steps=draw(st.integers(*family.steps)),
            batch=draw(st.integers(*family.batch)),
            loss=draw(st.sampled_from(family.losses)),
            dtype=draw(st.sampled_from(family.dtypes)),
            seed=draw(SEEDS),
            recurrent=draw(st.sampled_from(family.recurrent)),
        )

    return specs()


def rnn_problems(family: ProblemFamily | None = None) -> st.SearchStrategy[RNNProblem]:
    """:class:`~rnnverify.problems.RNNProblem` instances drawn from ``family``."""
    return problem_specs(family).map(make_problem)


__all__ = [
    "SEEDS",
    "orthogonal_matrices",
    "problem_specs",
    "rnn_problems",
    "skew_hermitian_matrices",
    "skew_matrices",
    "spd_matrices",
    "spectral_radius_matrices",
    "unitary_matrices",
]
