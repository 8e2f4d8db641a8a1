"""Unit tests of the MomentumRNN model (rnnverify/momentum.py; theory/orthogonal.md §5)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnverify.momentum import (
    augmented,
    coefficients,
    forward,
    jacobians,
    momentum_cell,
    value_and_grad,
)
from rnnverify.problems import make_problem

SPEC = "elman-tanh(n=3,m=2,p=2,T=4,B=2,loss=every,dtype=float64,seed=3)"


def test_coefficients_are_the_paper_cell():
    # z = Uh + μv + sWx, v = μv + sWx (§5.1)
    np.testing.assert_array_equal(
        coefficients(momentum_cell, 0.6, 0.3), [[1.0, 0.3, 0.6], [0.0, 0.3, 0.6]]
    )


def test_jacobians_match_the_closed_forms_of_5_2_item_4():
    pb = make_problem(SPEC)
    p = dict(pb.params0)
    U, W, b = p["W_hh"], p["W_ih"], p["b"]
    mu, s = 0.6, 0.3
    d = pb.data
    fwd = forward(momentum_cell, U, W, b, d.x, d.h0, mu, s, pb.activation)
    J_h, J_x = jacobians(momentum_cell, U, W, b, d.x, d.h0, mu, s, pb.activation, fwd)
    T = pb.spec.steps
    Sig = [np.diag(1 - fwd.H[k][:, 0] ** 2) for k in range(T + 1)]  # Σ_k = σ'(z_k), k ≥ 1

    def chain(a: int) -> np.ndarray:  # Π_{k=a+1}^{T} Σ_k U
        P = np.eye(3)
        for k in range(a + 1, T + 1):
            P = Sig[k] @ U @ P
        return P

    for t in range(T):
        np.testing.assert_allclose(J_h[t], chain(t), rtol=1e-12, atol=1e-14)
        ts = t + 1  # J_x[t] = ∂h_T/∂x_{t+1}
        closed = sum(chain(j) @ Sig[j] * mu ** (j - ts) * s @ W for j in range(ts, T + 1))
        np.testing.assert_allclose(J_x[t], closed, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mu", [0.0, 0.3, 0.9])
def test_augmented_spectrum(mu):
    U = make_problem(SPEC).params0["W_hh"]
    A = augmented(momentum_cell, U, mu, 0.3)
    np.testing.assert_array_equal(A[:3, :3], U)
    np.testing.assert_array_equal(A[:3, 3:], mu * np.eye(3))
    np.testing.assert_array_equal(A[3:], np.hstack([np.zeros((3, 3)), mu * np.eye(3)]))


def test_gradient_matches_finite_differences():
    pb = make_problem(SPEC)
    p = {k: np.array(v) for k, v in pb.params0.items()}
    _, g, _ = value_and_grad(momentum_cell, pb, p, 0.6, 0.3)
    rng = np.random.default_rng(0)
    for name in p:
        D = rng.standard_normal(p[name].shape)
        h = 1e-6

        def f(t: float, name: str = name, D: np.ndarray = D) -> float:
            q = dict(p)
            q[name] = p[name] + t * D
            return value_and_grad(momentum_cell, pb, q, 0.6, 0.3)[0]

        fd = (f(h) - f(-h)) / (2 * h)
        assert abs(fd - float(np.sum(g[name] * D))) <= 1e-8 * (1 + abs(fd)), name


def test_mu0_s1_gradient_is_the_elman_gradient():
    pb = make_problem(SPEC)
    p = dict(pb.params0)
    loss, g, _ = value_and_grad(momentum_cell, pb, p, 0.0, 1.0)
    assert loss == pytest.approx(pb.loss(p), rel=1e-14)
    ref = pb.grad(p)
    for k in p:
        np.testing.assert_allclose(g[k], ref[k], rtol=1e-12, atol=1e-15)
