"""adaQN and the L-BFGS building blocks (theory/adaqn.md): sympy proof of the two-loop
identity, the numeric helpers against the sympy oracle, the optimizer's bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rnnverify.contract import run
from rnnverify.derivations.bfgs import dense_oracle, secant_residual, two_loop_residual
from rnnverify.optimizers.adaqn import adaqn, flatten, subproblem
from rnnverify.problems import make_problem
from rnnverify.quasi_newton import (
    dense_inverse_bfgs,
    fisher_product,
    passes_test,
    two_loop,
    two_loop_tolerance,
)
from tests.mutants_adaqn import _two_loop_swapped


@pytest.mark.parametrize("n, m", [(2, 1), (2, 2)])
def test_sympy_two_loop_equals_dense_bfgs(n, m):
    assert all(e == 0 for e in two_loop_residual(n, m))
    assert all(e == 0 for e in secant_residual(n, m))


def _pairs(seed: int, n: int, m: int, scale: float):
    rng = np.random.default_rng(seed)
    S = scale * rng.standard_normal((m, n))
    A = rng.standard_normal((n, n))
    Y = S @ (A @ A.T + np.eye(n))  # SPD curvature: every sᵀy > 0
    h0 = rng.uniform(0.1, 2.0, n)
    return S, Y, h0, rng.standard_normal(n)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 3),
    m=st.integers(1, 2),
    scale=st.floats(0.1, 2.0),
)
def test_numeric_helpers_match_the_sympy_oracle(seed, n, m, scale):
    S, Y, h0, g = _pairs(seed, n, m, scale)
    assume(all(float(s @ y) > 1e-12 for s, y in zip(S, Y, strict=True)))
    H_sym = dense_oracle(n, m)(S, Y, h0)
    H = dense_inverse_bfgs(S, Y, h0)
    tol, _ = two_loop_tolerance(g, S, Y, h0)
    assert np.linalg.norm(H @ g - H_sym @ g) <= tol
    assert np.linalg.norm(two_loop(g, S, Y, h0) - H_sym @ g) <= tol
    assert (
        np.linalg.norm(two_loop(Y[-1], S, Y, h0) - S[-1]) <= two_loop_tolerance(Y[-1], S, Y, h0)[0]
    )
    assert np.all(np.linalg.eigvalsh((H + H.T) / 2) > 0)


def test_secant_fails_for_older_pairs_and_swapped_loops_exceed_the_tolerance():
    S, Y, h0, g = _pairs(3, 4, 3, 1.0)
    H = dense_inverse_bfgs(S, Y, h0)
    assert np.linalg.norm(H @ Y[0] - S[0]) > 1e-3  # not a claim (adaqn.md §3)
    tol, _ = two_loop_tolerance(g, S, Y, h0)
    assert np.linalg.norm(_two_loop_swapped(g, S, Y, h0) - H @ g) > 100 * tol


def test_fisher_pair_and_acceptance_tests():
    rng = np.random.default_rng(0)
    F, s = rng.standard_normal((5, 4)), rng.standard_normal(4)
    y = fisher_product(F, s)
    np.testing.assert_allclose(y, sum(np.outer(f, f) for f in F) @ s / 5, rtol=1e-12)
    assert float(s @ y) >= 0
    assert passes_test(s, y, "sts") and passes_test(s, y, "yty")
    assert not passes_test(s, -y, "sts")
    with pytest.raises(ValueError, match="test='foo'"):
        passes_test(s, y, "foo")


def test_subproblem_on_the_whole_batch_is_the_problem():
    problem = make_problem("elman-tanh(n=3,m=2,p=1,T=4,B=3,loss=every,dtype=float64,seed=5)")
    sub = subproblem(problem, np.arange(3))
    assert sub.loss(problem.params0) == problem.loss(problem.params0)
    parts = [subproblem(problem, np.array([i])).loss(problem.params0) for i in range(3)]
    np.testing.assert_allclose(np.mean(parts), problem.loss(problem.params0), rtol=1e-13)


def test_reference_trajectory_exercises_pairs_windows_and_resets():
    pairs = resets = windows = 0
    for seed in range(6):
        problem = make_problem(
            f"elman-tanh(n=3,m=2,p=1,T=4,B=4,loss=every,dtype=float64,seed={seed})"
        )
        traj = run(adaqn(0.1, L=3, memory=3), problem, 12)
        assert traj.ok, traj.violation
        pairs += sum(s.pair_stored for s in traj.states)
        resets += sum(s.reset for s in traj.states)
        windows += sum(s.averaged for s in traj.states)
        assert all(np.all(s.h0 > 0) for s in traj.states)
        assert flatten(traj.params[-1]).size == traj.states[-1].S.shape[1]
    assert pairs > 0 and resets > 0 and windows == 6 * 4


@pytest.mark.parametrize(
    "kwargs, match",
    [({"lr": -1.0}, "lr=-1.0"), ({"L": 0}, "L=0"), ({"test": "x"}, "test='x'")],
)
def test_bad_hyperparameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        adaqn(**kwargs)
