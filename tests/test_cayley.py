"""scoRNN / scuRNN reference optimizers, their sympy derivations, and the cayley claims.

* the sympy derivations (rnnverify/derivations/cayley.py) prove the real gradient for
  n = 2, 3 and the complex one at random rationals for n = 2, and their lambdified
  partials equal the numbers the optimizers compute;
* the scuRNN formula with real A, D and the Wirtinger G = G_real/2 is half the scoRNN one
  (theory/orthogonal.md §9 item 4);
* the starting representations W₀ = C(A₀)D are exact and well conditioned;
* a cayley claim on an optimizer without the state fields is an ERROR that says what is
  missing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnverify.derivations.cayley import (
    complex_partials_oracle,
    complex_residuals_at,
    random_rational_point,
    real_gradient_oracle,
    real_gradient_residuals,
)
from rnnverify.manifolds import cayley
from rnnverify.optimizers import sgd
from rnnverify.optimizers.scornn import (
    EXHAUSTIVE_MAX,
    cayley_D,
    cayley_gradient,
    representation,
    scornn,
)
from rnnverify.optimizers.scurnn import (
    cayley_phase,
    complex_cayley_gradients,
    phase_representation,
    scurnn,
)
from rnnverify.problems import ProblemFamily, haar
from rnnverify.verdict import Status
from tests.helpers import check, subject

EPS = float(np.finfo(np.float64).eps)


def _skew(n: int, rng: np.random.Generator, complex_: bool = False) -> np.ndarray:
    X = rng.standard_normal((n, n))
    if complex_:
        X = X + 1j * rng.standard_normal((n, n))
    return (X - X.conj().T) / 2


# ---------------------------------------------------------------------------------------
# sympy
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, D", [(2, (1, -1)), (3, (1, 1, -1))])
def test_sympy_proves_the_real_cayley_gradient(n, D):
    """simplify(∂⟨G, C(A)D⟩/∂a_ij − (Vᵀ − V)_ij) == 0 and WᵀW == I symbolically."""
    assert all(r == 0 for r in real_gradient_residuals(n, D))


@pytest.mark.parametrize("n, D", [(2, (1, -1)), (3, (1, 1, -1)), (3, (-1, -1, 1))])
def test_scornn_gradient_equals_the_sympy_oracle(n, D):
    """The optimizer's DFA equals sympy's derivative at random points, to rounding:
    both are O(1) sums of products through one solve with κ(I + A) ≤ sqrt(1 + ‖A‖²)."""
    rng = np.random.default_rng(n)
    oracle = real_gradient_oracle(n, D)
    for _ in range(5):
        A, G = _skew(n, rng), rng.standard_normal((n, n))
        got = cayley_gradient(A, np.array(D, dtype=float), G)
        want = oracle(A, G)
        kappa = math.sqrt(1 + np.linalg.norm(A, 2) ** 2)
        scale = np.linalg.norm(G) * kappa**2
        np.testing.assert_allclose(got, want, rtol=0, atol=100 * n * EPS * scale)


@pytest.mark.parametrize("seed", [0, 1])
def test_sympy_confirms_the_complex_formulas_at_random_rationals(seed):
    """The six residuals of §2.2 (n = 2) vanish at a random rational point (30 digits)."""
    residuals = complex_residuals_at(random_rational_point(np.random.default_rng(seed)))
    assert max(residuals.values()) < 1e-25, residuals


def test_scurnn_gradients_equal_the_sympy_partials():
    """∂L/∂q = 2 Re DFA₀₁, ∂L/∂r = 2 Im DFA₀₁, ∂L/∂p = Im DFA₀₀, ∂L/∂s = Im DFA₁₁,
    ∂L/∂t_j = grad_theta_j: the numbers the optimizer computes vs sympy's derivatives."""
    oracle = complex_partials_oracle()
    rng = np.random.default_rng(7)
    for _ in range(5):
        p, q, r, s, t1, t2 = rng.uniform(-1, 1, 6)
        A = np.array([[1j * p, q + 1j * r], [-q + 1j * r, 1j * s]])
        G = rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))
        DFA, g_theta = complex_cayley_gradients(A, np.array([t1, t2]), G)
        want = oracle(p, q, r, s, t1, t2, G)
        got = {
            "q": 2 * DFA[0, 1].real,
            "r": 2 * DFA[0, 1].imag,
            "p": DFA[0, 0].imag,
            "s": DFA[1, 1].imag,
            "t1": g_theta[0],
            "t2": g_theta[1],
        }
        for c in want:
            assert got[c] == pytest.approx(want[c], abs=1e-12), c


def test_complex_formula_reduces_to_the_real_one():
    """§9 item 4: real A, D = diag(±1) (θ ∈ {0, π}) and the Wirtinger G = G_real/2 give
    DFA_complex = DFA_real/2 (the coordinate gradient ∂L/∂a_ij = Re tr(DFAᴴE_ij) = 2·DFA_ij)."""
    rng = np.random.default_rng(3)
    n = 4
    A, G = _skew(n, rng), rng.standard_normal((n, n))
    D = np.array([1.0, -1.0, 1.0, -1.0])
    theta = np.where(D > 0, 0.0, np.pi)
    DFA_c, _ = complex_cayley_gradients(A.astype(complex), theta, G / 2)
    np.testing.assert_allclose(DFA_c, cayley_gradient(A, D, G) / 2, atol=1e-13)


# ---------------------------------------------------------------------------------------
# Starting representations
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 9))
def test_representation_theorem_start(n):
    """W = C(A)D exactly up to rounding, A bitwise skew, |a_ij| ≤ 1 (§1.3, SCO-9)."""
    rng = np.random.default_rng(n)
    for _ in range(5):
        W = haar(n, False, rng)
        A, D = representation(W)
        assert np.array_equal(A.T, -A)
        assert np.max(np.abs(A), initial=0.0) <= 1.0
        assert np.prod(D) == np.sign(np.linalg.det(W))
        np.testing.assert_allclose(cayley_D(A, D), W, atol=10 * n * EPS * math.sqrt(2))


def test_representation_greedy_beyond_the_exhaustive_search():
    n = EXHAUSTIVE_MAX + 2
    W = haar(n, False, np.random.default_rng(0))
    A, D = representation(W)
    assert np.array_equal(A.T, -A) and np.prod(D) == np.sign(np.linalg.det(W))
    kappa = math.sqrt(1 + np.linalg.norm(A, 2) ** 2)
    np.testing.assert_allclose(cayley_D(A, D), W, atol=100 * n * EPS * kappa)


def test_representation_with_n_neg():
    W = haar(4, False, np.random.default_rng(1))
    parity = 0 if np.linalg.det(W) > 0 else 1
    _, D = representation(W, n_neg=2 + parity)
    assert int(np.sum(D < 0)) == 2 + parity
    with pytest.raises(ValueError, match=r"n_neg=.*det W_hh"):
        representation(W, n_neg=1 - parity)


@pytest.mark.parametrize("n", range(1, 9))
def test_phase_representation_bounds_A(n):
    """‖A₀‖₂ ≤ cot(π/(2n)): −1 is the middle of the widest spectral gap (module docstring)."""
    rng = np.random.default_rng(10 + n)
    for _ in range(5):
        W = haar(n, True, rng)
        A, theta = phase_representation(W)
        assert np.array_equal(A.real.T, -A.real) and np.array_equal(A.imag.T, A.imag)
        bound = 1 / math.tan(math.pi / (2 * n)) if n > 1 else 0.0
        assert np.linalg.norm(A, 2) <= bound * (1 + 1e-12) + 1e-12
        np.testing.assert_allclose(cayley_phase(A, theta), W, atol=100 * n * EPS)


def test_cayley_is_an_involution_on_the_start():
    W = haar(5, False, np.random.default_rng(2))
    A, _ = representation(W)
    np.testing.assert_allclose(cayley(cayley(A)), A, atol=1e-13)


# ---------------------------------------------------------------------------------------
# Factories and claims
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [scornn, scurnn])
@pytest.mark.parametrize(
    "kwargs, match",
    [({"lr": -1.0}, "lr=-1.0"), ({"lr": 0.1, "optimizer": "adam"}, "optimizer='adam'")],
)
def test_factories_validate_arguments(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


def test_claim_on_an_optimizer_without_a_parametrization_is_an_error():
    verdict = check(
        "cayley.gradient",
        subject(lambda: sgd(0.05), family=ProblemFamily(), name="sgd_plain"),
        max_examples=3,
    )
    assert verdict.status is Status.ERROR
    assert "has no 'A'" in verdict.summary
