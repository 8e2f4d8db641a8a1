"""Broken scoRNN / scuRNN optimizers, and the cayley claims that must catch them.

Each mutant is the reference update (rnnverify/optimizers/scornn.py, scurnn.py) with one
deliberate error, built from the same public pieces. Plain SGD on W_hh, the negative
control of the orthogonality claims, lives in tests/mutants_orthogonal.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnverify.contract import Optimizer
from rnnverify.manifolds import cayley, cayley_torch
from rnnverify.optimizers.scornn import ScornnState, cayley_D, cayley_gradient, representation
from rnnverify.optimizers.scurnn import (
    ScurnnState,
    cayley_phase,
    complex_cayley_gradients,
    phase_representation,
    wirtinger,
)
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.tree import Params

Array = Any
LR = 0.05
REAL = ProblemFamily(recurrent=("orthogonal",))
COMPLEX = ProblemFamily(cells=("complex",), recurrent=("orthogonal",))


def _scornn_variant(
    gradient: Callable[[Array, Array, Array], Array] = cayley_gradient,
    W_of: Callable[[Array, Array], Array] = cayley_D,
    update: Callable[[Array, Array], Array] = lambda A, DFA: A - LR * DFA,
) -> Optimizer:
    """scoRNN with SGD on A, with ``gradient(A, D, G)``, ``W_of(A, D)`` and
    ``update(A, DFA)`` replaceable."""

    def init(problem: RNNProblem, params: Params) -> ScornnState:
        A, D = representation(params["W_hh"])
        return ScornnState(A, D, np.zeros_like(A), np.zeros_like(A))

    def step(problem: RNNProblem, params: Params, state: ScornnState) -> tuple[Params, Any]:
        g = problem.grad(params)
        out = {k: v - LR * g[k] for k, v in params.items()}
        DFA = gradient(state.A, state.D, g["W_hh"])
        A = update(state.A, DFA)
        out["W_hh"] = W_of(A, state.D)
        return out, ScornnState(A, state.D.copy(), state.ms.copy(), DFA)

    return Optimizer(init, step, lambda s: {"norm_A": float(np.linalg.norm(s.A, 2))})


def _no_transpose(A: Array, D: Array, G: Array) -> Array:
    n = A.shape[0]
    V = np.linalg.solve(np.eye(n) + A, G @ (np.diag(D) + cayley_D(A, D).T))
    return V.T - V


def scornn_missing_transpose() -> Optimizer:
    """V = (I + A)⁻¹G(D + Wᵀ): the transpose on (I + A)⁻ᵀ forgotten (§1.2 table, error 6.3)."""
    return _scornn_variant(gradient=_no_transpose)


def scornn_g_transposed() -> Optimizer:
    """Gᵀ fed to the formula instead of G (a row/column convention mix-up, §0.1)."""
    return _scornn_variant(gradient=lambda A, D, G: cayley_gradient(A, D, G.T.copy()))


def scornn_doubled_gradient() -> Optimizer:
    """DFA = 2(Vᵀ − V): the factor-2 mix-up of coordinate and Frobenius gradients (§0.3)."""
    return _scornn_variant(gradient=lambda A, D, G: 2 * cayley_gradient(A, D, G))


def scornn_row_normalized() -> Optimizer:
    """A ← A − η·diag(1/‖DFA_i,:‖)·DFA: a row-wise (non-elementwise) preconditioner, which
    breaks the exact skew symmetry of A (§1.3)."""

    def update(A: Array, DFA: Array) -> Array:
        rows = np.linalg.norm(DFA, axis=1, keepdims=True)
        return A - LR * DFA / np.where(rows > 0, rows, 1.0)

    return _scornn_variant(update=update)


def scornn_torch_cayley() -> Optimizer:
    """W = Cay(A)·D = (I − A/2)⁻¹(I + A/2)·D: PyTorch's Cayley map where scoRNN's C(A) is
    meant (§0.2: C(A) = Cay(−2A)); W stays orthogonal, its spectrum is wrong."""
    return _scornn_variant(W_of=lambda A, D: cayley_torch(A) * D[None, :])


def scornn_d_on_the_left() -> Optimizer:
    """W = D·C(A) instead of C(A)·D: orthogonal, same spectrum (similar matrices), but
    A is no longer C(W D⁻¹)."""
    return _scornn_variant(W_of=lambda A, D: D[:, None] * cayley(A))


def _scurnn_variant(
    gradients: Callable[[Array, Array, Array], tuple[Array, Array]] = complex_cayley_gradients,
) -> Optimizer:
    def init(problem: RNNProblem, params: Params) -> ScurnnState:
        A, theta = phase_representation(params["W_hh"])
        zr, zt = np.zeros(A.shape), np.zeros_like(theta)
        return ScurnnState(A, theta, zr, zr.copy(), zt, np.zeros_like(A), zt.copy())

    def step(problem: RNNProblem, params: Params, state: ScurnnState) -> tuple[Params, Any]:
        g = problem.grad(params)
        out = {k: v - LR * g[k] for k, v in params.items()}
        DFA, g_theta = gradients(state.A, state.theta, wirtinger(g["W_hh"]))
        A = (state.A.real - LR * DFA.real) + 1j * (state.A.imag - LR * DFA.imag)
        theta = state.theta - LR * g_theta
        out["W_hh"] = cayley_phase(A, theta)
        z = state.ms_re
        return out, ScurnnState(A, theta, z.copy(), z.copy(), state.ms_theta.copy(), DFA, g_theta)

    return Optimizer(init, step, lambda s: {"norm_A": float(np.linalg.norm(s.A, 2))})


def _conjugate_transpose(A: Array, theta: Array, G: Array) -> tuple[Array, Array]:
    n = A.shape[0]
    d = np.exp(1j * theta)
    W = cayley_phase(A, theta)
    V = np.linalg.solve((np.eye(n) + A).T, G @ (np.diag(d) + W.T))
    _, g_theta = complex_cayley_gradients(A, theta, G)
    return V.conj().T - V, g_theta


def scurnn_conjugate_transpose() -> Optimizer:
    """DFA = Vᴴ − V instead of Vᵀ − V̄ (§2.2: relative error ≈ 13); still skew-Hermitian."""
    return _scurnn_variant(_conjugate_transpose)


def _theta_missing_i(A: Array, theta: Array, G: Array) -> tuple[Array, Array]:
    DFA, _ = complex_cayley_gradients(A, theta, G)
    d = np.exp(1j * theta)
    K = cayley(A)
    return DFA, 2 * np.real(d * np.einsum("ij,ij->j", G, K))


def scurnn_theta_missing_i() -> Optimizer:
    """∂L/∂θ_j = 2·Re(e^{iθ_j}(GᵀK)_jj): the factor i of d e^{iθ}/dθ forgotten."""
    return _scurnn_variant(_theta_missing_i)


KILLS = {
    "cayley.gradient": [
        (scornn_missing_transpose, REAL, "cayley.gradient"),
        (scornn_g_transposed, REAL, "cayley.gradient"),
        (scornn_doubled_gradient, REAL, "cayley.gradient"),
    ],
    "cayley.descent": [(scornn_doubled_gradient, REAL, "cayley.descent")],
    "cayley.skew_exact": [(scornn_row_normalized, REAL, "cayley.skew_exact")],
    "cayley.spectrum": [(scornn_torch_cayley, REAL, "cayley.spectrum")],
    "cayley.convention": [
        (scornn_torch_cayley, REAL, "cayley.convention"),
        (scornn_d_on_the_left, REAL, "cayley.convention"),
    ],
    "cayley_complex.gradient": [(scurnn_conjugate_transpose, COMPLEX, "cayley_complex.gradient")],
    "cayley_complex.theta_gradient": [
        (scurnn_theta_missing_i, COMPLEX, "cayley_complex.theta_gradient")
    ],
}


def scornn_identity_D() -> Optimizer:
    """scoRNN started from D = I always, A₀ = C(W₀) (no search over D): for det W₀ = −1
    the matrix W₀ has the eigenvalue −1 and no skew A gives C(A) = W₀ (I + W₀ is singular:
    A₀ is huge or not finite); for det W₀ = +1, eigen-angles of W₀ beyond ±π/2 give
    |a_ij| > 1 (§1.3: the theorem needs the right D)."""
    from rnnverify.optimizers.scornn import cayley_or_nan, skew_exact

    def init(problem: RNNProblem, params: Params) -> ScornnState:
        W = np.asarray(params["W_hh"])
        A = skew_exact(cayley_or_nan(W))
        D = np.ones(W.shape[0])
        return ScornnState(A, D, np.zeros_like(A), np.zeros_like(A))

    reference = _scornn_variant()
    return Optimizer(init, reference.step)  # no diagnostics: ‖A₀‖₂ of a NaN A₀ raises


KILLS["cayley.representation"] = [(scornn_identity_D, REAL, "cayley.representation")]
