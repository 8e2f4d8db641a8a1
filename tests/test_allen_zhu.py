"""Unit tests of the Allen-Zhu–Li–Song model (rnnverify/allen_zhu.py; theory/allen-zhu.md)."""

from __future__ import annotations

import math

import numpy as np

from rnnverify.allen_zhu import fact_2_5, forward, loss, normalize_inputs, paper_init
from rnnverify.claims import Subject, get_claim
from rnnverify.optimizers.allen_zhu_gd import _allen_zhu_gd
from rnnverify.problems import ProblemSpec
from rnnverify.verdict import Status


def _model(seed: int = 0, m: int = 6, d_x: int = 3, d: int = 2, L: int = 4, n: int = 2):
    rng = np.random.default_rng(seed)
    W, A, B = paper_init(m, d_x, d, rng)
    X = normalize_inputs(rng.standard_normal((n, L, d_x)))
    Y = rng.standard_normal((n, L, d))
    return W, A, B, X, Y


def test_input_normalization_of_section_2_1():
    X = normalize_inputs(np.random.default_rng(1).standard_normal((3, 5, 4)) * 3)
    np.testing.assert_allclose(np.linalg.norm(X[:, 0], axis=1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(X[:, 0, -1], 1 / math.sqrt(2))
    assert np.all(np.linalg.norm(X, axis=2) <= 1 + 1e-15)


def test_fact_2_5_matches_central_differences():
    W, A, B, X, Y = _model()
    g = fact_2_5(W, A, B, X, Y)
    D = np.random.default_rng(2).standard_normal(W.shape)
    h = 1e-6
    fd = (loss(W + h * D, A, B, X, Y) - loss(W - h * D, A, B, X, Y)) / (2 * h)
    assert abs(fd - np.sum(g * D)) <= 1e-7 * (1 + abs(fd))


def test_loss_from_l1_is_an_equivalent_mutant():
    """h_{i,1} = φ(A x_{i,1}) does not depend on W: including l = 1 in the loss leaves
    Fact 2.5 bitwise unchanged (tests/mutants_allen_zhu.py:az_loss_from_l1)."""
    W, A, B, X, Y = _model(3)
    np.testing.assert_array_equal(fact_2_5(W, A, B, X, Y, first=1), fact_2_5(W, A, B, X, Y))
    np.testing.assert_array_equal(forward(W, A, X).H[:, 0], forward(2 * W, A, X).H[:, 0])


def test_no_explosion_also_catches_vanishing_init():
    """Variance 1/m: ‖Π₁₀ D W‖₂ ≈ 0.24 (§7), below the window."""
    subj = Subject(name="var1", optimizer=_allen_zhu_gd(0.001, w_var=1.0))
    obs = get_claim("init.no_explosion").evaluate(
        subj, ProblemSpec(activation="relu", inputs=2, seed=0)
    )
    assert obs.status is Status.FAIL and "vanishes" in obs.summary, obs.summary
