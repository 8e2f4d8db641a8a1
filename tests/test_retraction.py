"""Unit tests of the retraction optimizers, their sympy derivations and the numeric
helpers the retraction claims rely on (theory/orthogonal.md §4, §6.1, §6.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from properties.retraction import chi2_critical, frechet_exp_skew, procrustes_min
from rnnverify.claims import Subject, replay
from rnnverify.contract import Optimizer, as_optimizer, run
from rnnverify.manifolds import expm_skew, haar, skew
from rnnverify.optimizers.exprnn import dexp, expm_taylor, exprnn, raw_gradient
from rnnverify.optimizers.givens import givens, rotate_columns
from rnnverify.optimizers.wisdom import cayley_retraction, wisdom_generator
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.registry import ClaimRef, get_case
from rnnverify.verdict import Status
from tests.mutants_retraction import wisdom_flipped_sign

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


# -- wisdom.descent at a step far outside the first-order regime ---------------------------

SATURATED = "complex-modrelu(n=2,m=3,p=1,T=9,B=1,loss=last,dtype=float64,seed=1304772,W=orthogonal)"
"""The counterexample of the first-order comparison (X = (W⁺ − W)Wᴴ against −λ̂A): a
gradient of norm 110 gives λ‖A‖₂ = 10.6 at λ = 0.05, where the Cayley factor saturates."""


def _wisdom_subject(factory, name: str):
    return Subject(name=name, optimizer=as_optimizer(factory()), target="W_hh")


def test_wisdom_descent_replays_the_saturated_counterexample_as_a_pass():
    case = get_case("wisdom(lr=0.05)")
    ref = next(r for r in case.claims if r.claim == "wisdom.descent")
    spec = ProblemSpec.parse(SATURATED)
    verdict = replay("wisdom.descent", case.subject(ref), spec)
    assert verdict.status is Status.PASS, verdict.render()
    q = verdict.quantities
    assert q["λ̂‖A‖₂"] > 10  # far outside the first-order regime λ‖A‖₂ ≤ 1
    # the Cayley coordinate recovers the true λ whatever the step length
    assert q["lambda_hat"] == pytest.approx(0.05, rel=1e-12)
    # the first-order comparison is what failed here: its fit is 26× too small
    problem = make_problem(spec)
    W = problem.params0["W_hh"]
    A = wisdom_generator(W, problem.grad(problem.params0)["W_hh"])
    X = (cayley_retraction(W, A, 0.05) - W) @ W.conj().T
    assert -np.real(np.vdot(A, X)) / np.real(np.vdot(A, A)) < 0.05 / 20


def test_wisdom_descent_catches_the_flipped_sign_on_the_saturated_problem():
    subj = _wisdom_subject(wisdom_flipped_sign, "wisdom_flipped_sign")
    verdict = replay("wisdom.descent", subj, ProblemSpec.parse(SATURATED))
    assert verdict.status is Status.FAIL, verdict.render()
    assert verdict.quantities["lambda_hat"] == pytest.approx(-0.05, rel=1e-12)


def test_wisdom_descent_tells_cayley_from_an_exponential_step():
    """W·expm(−λA) has the first-order direction of the Cayley step but Cayley coordinate
    i·tan(λα/2) on an eigenvalue iα of A: not a multiple of A when the |α| differ (here
    α = −13.6, −212; λ = 0.005 keeps λ|α|/2 ≤ 0.53 < π/2, no wrap-around)."""

    def wisdom_expm() -> Optimizer:
        def step(problem, params, state):
            out = {k: v.copy() for k, v in params.items()}
            W = params["W_hh"]
            A = wisdom_generator(W, problem.grad(params)["W_hh"])
            mu, V = np.linalg.eigh(1j * A)  # A = V·diag(−iμ)·Vᴴ
            out["W_hh"] = (V * np.exp(1j * 0.005 * mu)) @ V.conj().T @ W
            return out, state

        return Optimizer(init=lambda problem, params: (), step=step)

    subj = _wisdom_subject(wisdom_expm, "wisdom_expm")
    verdict = replay("wisdom.descent", subj, ProblemSpec.parse(SATURATED))
    assert verdict.status is Status.FAIL, verdict.render()
    assert verdict.quantities["lambda_hat"] > 0  # a descent step, on another curve
    assert "no Cayley step along −A" in verdict.summary


def test_rgd_descent_reads_a_step_that_turns_by_more_than_pi():
    """η‖Ω‖₂ > π on this problem (‖G‖ ≈ 110): the fitted first-order check used to fail the
    correct reference here; in Ω's eigenbasis the step is expm(−0.05·Ω) exactly."""
    spec = ProblemSpec.parse(
        "complex-modrelu(n=2,m=3,p=1,T=9,B=1,loss=last,dtype=float64,seed=1304772,W=orthogonal)"
    )
    case = get_case("rgd(lr=0.05)")
    verdict = replay("rgd.descent", case.subject(ClaimRef.parse("rgd.descent:W_hh")), spec)
    assert verdict.status is Status.PASS, verdict.render()
    assert verdict.measured == pytest.approx(0.05, rel=1e-12)
    assert verdict.quantities["‖Ω‖₂"] * 0.05 > math.pi
