"""Unit tests of the ENRNN pieces: the sympy eigenvalue derivative, P, the gradient."""

from __future__ import annotations

import numpy as np
import pytest

from rnnverify.optimizers.enrnn import dominant, en_gradient


def test_sympy_eigenvalue_derivative_simplifies_to_zero():
    from rnnverify.derivations.enrnn import eigenvalue_derivative_identity

    assert all(entry == 0 for entry in eigenvalue_derivative_identity())


@pytest.mark.parametrize("seed", range(10))
def test_optimizer_P_is_sympy_derivative(seed):
    from rnnverify.derivations.enrnn import eigenvalue_derivative_2x2

    rng = np.random.default_rng(seed)
    M = rng.standard_normal((2, 2))
    M[0, 1], M[1, 0] = abs(M[0, 1]), abs(M[1, 0])  # bc > 0: real eigenvalues
    lam_sym, grad_sym = eigenvalue_derivative_2x2()(M)
    lam_all = np.linalg.eigvals(M)
    eig = dominant(M)
    if eig.lam.real < 0:  # the sympy branch is the larger root; pick it
        M = -M
        lam_sym, grad_sym = eigenvalue_derivative_2x2()(M)
        eig = dominant(M)
    assert lam_sym == pytest.approx(eig.lam.real, rel=1e-13), lam_all
    np.testing.assert_allclose(eig.P.real, grad_sym, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(eig.P.imag)) == 0


def test_P_is_invariant_to_eigenvector_scaling():
    """EN-6: P = conj(v)uᵀ/(vᴴu) does not change under u → cu, v → dv."""
    rng = np.random.default_rng(3)
    M = rng.standard_normal((4, 4))
    lam, X = np.linalg.eig(M)
    i = int(np.argmax(np.abs(lam)))
    u, w = X[:, i], np.linalg.inv(X)[i]
    P = np.outer(w, u) / (w @ u)
    c, d = 2.5 - 1j, -0.3j
    np.testing.assert_allclose(np.outer(d * w, c * u) / ((d * w) @ (c * u)), P, atol=1e-14)
    np.testing.assert_allclose(dominant(M).P, P, atol=1e-14)


def test_gradient_is_tangent_to_the_scaling():
    """EN-3 on a random matrix: ⟨∂L/∂M, M⟩ = 0 for any Ḡ."""
    rng = np.random.default_rng(4)
    M = rng.standard_normal((5, 5))
    eig = dominant(M)
    G = rng.standard_normal((5, 5))
    g = en_gradient(G, M / eig.sigma, eig, True)
    assert abs(np.sum(g * M)) <= 1e-13 * np.linalg.norm(g) * np.linalg.norm(M) * 25
