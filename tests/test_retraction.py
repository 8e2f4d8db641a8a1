"""Unit tests of the retraction optimizers, their sympy derivations and the numeric
helpers the retraction claims rely on (theory/orthogonal.md §4, §6.1, §6.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from properties.retraction import chi2_critical, frechet_exp_skew, procrustes_min
from rnnverify.contract import run
from rnnverify.manifolds import expm_skew, haar, skew
from rnnverify.optimizers.exprnn import dexp, expm_taylor, exprnn, raw_gradient
from rnnverify.optimizers.givens import givens, rotate_columns
from rnnverify.optimizers.wisdom import cayley_retraction, wisdom_generator
from rnnverify.problems import ProblemSpec, make_problem

EPS = np.finfo(float).eps


def _skew(n: int, scale: float, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((n, n)) * scale
    return X - X.T


# -- sympy derivations, and their numbers against the ones the code uses ------------------


def test_sympy_givens_rotation_closed_form():
    from rnnverify.derivations.givens import derive_rotation_identity, rotation

    assert derive_rotation_identity().is_zero_matrix
    for alpha in (0.0, 0.3, -1.7, 3.0):
        Q = haar(5, False, np.random.default_rng(1))
        ours = rotate_columns(Q, 1, 3, alpha)
        oracle = Q.copy()
        oracle[:, [1, 3]] = Q[:, [1, 3]] @ rotation(alpha)
        E = np.zeros((5, 5))
        E[1, 3], E[3, 1] = 1.0, -1.0
        dense = Q @ expm_skew(alpha * E)
        assert np.max(np.abs(ours - oracle)) <= 4 * EPS
        assert np.max(np.abs(ours - dense)) <= 50 * 5 * EPS


def test_sympy_givens_coordinate_derivative():
    from rnnverify.derivations.givens import derive_coordinate_derivative

    assert all(r == 0 for r in derive_coordinate_derivative(3))


def test_sympy_dexp_at_transpose_is_the_gradient_and_at_a_is_not():
    import sympy as sp

    from rnnverify.derivations.dexp import derive_gradient_residuals, dexp2

    right, wrong = derive_gradient_residuals()
    assert right == 0
    assert sp.simplify(wrong) != 0
    X = np.array([[0.0, 0.7], [-0.7, 0.0]])
    E = np.random.default_rng(0).standard_normal((2, 2))
    assert np.max(np.abs(dexp2(X, E) - dexp(X, E))) <= 1e-14
    assert np.max(np.abs(dexp2(X, E) - frechet_exp_skew(X, E))) <= 1e-14


# -- the block exponential (no scipy) ---------------------------------------------------


@pytest.mark.parametrize("scale", [0.0, 0.1, 1.0, 3.0])
@pytest.mark.parametrize("n", [1, 3, 8])
def test_block_dexp_matches_daleckii_krein(n, scale):
    X = _skew(n, scale, n)
    E = np.random.default_rng(7).standard_normal((n, n))
    ref = frechet_exp_skew(X, E)
    err = np.max(np.abs(dexp(X, E) - ref)) / max(np.max(np.abs(ref)), 1.0)
    assert err <= 1e-13, err
    assert np.max(np.abs(expm_taylor(X) - expm_skew(X))) <= 1e-13


def test_raw_gradient_at_zero_is_twice_triu_omega():
    W = haar(6, False, np.random.default_rng(2))
    G = np.random.default_rng(3).standard_normal((6, 6))
    assert np.array_equal(raw_gradient(np.zeros((6, 6)), W, G), 2 * np.triu(skew(W.T @ G), 1))


# -- optimizers --------------------------------------------------------------------------


def test_givens_uniform_is_deterministic_and_uses_the_counter():
    problem = make_problem(ProblemSpec(hidden=5, recurrent="orthogonal", seed=3))
    a = run(givens(0.05, "uniform", seed=4), problem, 6)
    b = run(givens(0.05, "uniform", seed=4), problem, 6)
    pairs = [(d["i"], d["j"]) for d in a.diagnostics[1:]]
    assert pairs == [(d["i"], d["j"]) for d in b.diagnostics[1:]]
    assert len(set(pairs)) > 1


def test_wisdom_step_is_unitary_for_a_huge_random_g():
    rng = np.random.default_rng(0)
    W = haar(6, True, rng)
    G = (rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6))) * 1e3
    W1 = cayley_retraction(W, wisdom_generator(W, G), 0.05)
    # parametrized-Cayley drift (§7): 10nε·sqrt(1 + ‖λA/2‖²) plus the start's error
    B = np.linalg.norm(0.025 * wisdom_generator(W, G), 2)
    bound = 10 * 6 * EPS * math.sqrt(1 + B**2) + np.linalg.norm(W.conj().T @ W - np.eye(6))
    assert np.linalg.norm(W1.conj().T @ W1 - np.eye(6)) <= bound


def test_exprnn_keeps_det_of_base():
    problem = make_problem(ProblemSpec(hidden=4, recurrent="orthogonal", seed=5))
    traj = run(exprnn(0.1), problem, 4)
    d0 = np.linalg.det(traj.params[0]["W_hh"])
    assert all(abs(np.linalg.det(p["W_hh"]) - d0) < 1e-12 for p in traj.params)
    assert traj.diagnostics[-1]["norm_A"] > 0


# -- claim helpers -----------------------------------------------------------------------


def test_procrustes_minimum_on_each_component():
    rng = np.random.default_rng(0)
    C = rng.standard_normal((4, 4))
    for sign in (1.0, -1.0):
        best = -procrustes_min(C, sign)
        for _ in range(200):  # no orthogonal Q of that determinant does better
            Q = haar(4, False, rng)
            if np.sign(np.linalg.det(Q)) != sign:
                Q[:, 0] = -Q[:, 0]
            assert np.sum(C * Q) <= best + 1e-12


# χ²_k upper 1e-6 quantiles, scipy.stats.chi2.isf(1e-6, k) (scipy 1.17.1), recorded here
# so that the check runs without scipy (not a dependency)
CHI2_ISF_1E6 = {1: 23.928126976934827, 2: 27.631021115928547, 3: 30.664849706213598,
                5: 35.888186879672865, 10: 46.863046846784385, 27: 77.18817312479231}


def test_chi2_critical_values():
    """Exact for 1 and 2 degrees of freedom, conservative (above, within 15 %) beyond."""
    assert chi2_critical(2) == pytest.approx(27.631, abs=1e-3)
    for k, exact in CHI2_ISF_1E6.items():
        assert exact * (1 - 1e-9) <= chi2_critical(k) <= 1.15 * exact, (k, exact, chi2_critical(k))
