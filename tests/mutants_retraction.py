"""Broken retraction optimizers (Givens, expRNN, Wisdom, RGD) and the claims that must
catch them (theory/orthogonal.md §4.4, §6.6)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnverify.contract import Optimizer
from rnnverify.manifolds import expm_skew, skew
from rnnverify.optimizers.exprnn import ExpRNNState, dexp, exprnn, skew_from_raw
from rnnverify.optimizers.givens import GivensState, rotate_columns
from rnnverify.optimizers.wisdom import wisdom_generator
from rnnverify.problems import ProblemFamily

REAL = ProblemFamily(recurrent=("orthogonal",))
BOTH = ProblemFamily(cells=("elman", "complex"), recurrent=("orthogonal",))
LR = 0.05


def _givens(angle_sign: float = -1.0, omega_scale: float = 1.0, rule: str = "gs") -> Optimizer:
    def init(problem: Any, params: Any) -> GivensState:
        return GivensState(
            np.array(0), np.array(0), np.array([-1, -1]), np.array(0.0), np.array(0.0)
        )

    def step(problem: Any, params: Any, state: GivensState) -> tuple[Any, GivensState]:
        g = problem.grad(params)
        out = {k: v - LR * g[k] for k, v in params.items() if k != "W_hh"}
        Q = params["W_hh"]
        n = Q.shape[0]
        k = int(state.counter)
        if n < 2:
            out["W_hh"] = Q.copy()
            return {x: out[x] for x in params}, GivensState(
                np.array(0), np.array(k + 1), np.array([-1, -1]), np.array(0.0), np.array(0.0)
            )
        Omega = omega_scale * skew(Q.T @ g["W_hh"])
        rows, cols = np.triu_indices(n, 1)
        if rule == "gs":
            r = int(np.argmax(np.abs(Omega[rows, cols])))
        elif rule == "argmin":
            r = int(np.argmin(np.abs(Omega[rows, cols])))
        else:  # "biased": i uniform, then j uniform above i
            rng = np.random.default_rng([0, k])
            i0 = int(rng.integers(n - 1))
            j0 = int(rng.integers(i0 + 1, n))
            r = int(np.flatnonzero((rows == i0) & (cols == j0))[0])
        i, j = int(rows[r]), int(cols[r])
        alpha = angle_sign * LR * float(Omega[i, j])
        out["W_hh"] = rotate_columns(Q, i, j, alpha)
        return {x: out[x] for x in params}, GivensState(
            np.array(0),
            np.array(k + 1),
            np.array([i, j]),
            np.array(float(Omega[i, j])),
            np.array(alpha),
        )

    def diagnostics(state: GivensState) -> dict[str, float]:
        return {
            "i": float(state.pair[0]),
            "j": float(state.pair[1]),
            "omega_ij": float(state.omega_ij),
            "alpha": float(state.alpha),
        }

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


def givens_wrong_angle_sign() -> Optimizer:
    """α = +η·Ω_ij: the rotation ascends (CD-1's failure mode)."""
    return _givens(angle_sign=+1.0)


def givens_omega_without_half() -> Optimizer:
    """Ω = QᵀG − GᵀQ without the ½ (reported Ω_ij twice the true one; CD-2)."""
    return _givens(omega_scale=2.0)


def givens_gs_argmin() -> Optimizer:
    """ "Gauss–Southwell" that picks argmin |Ω_ij| (selection bug; no progress)."""
    return _givens(rule="argmin")


def givens_uniform_biased() -> Optimizer:
    """ "Uniform" that draws i uniformly, then j > i uniformly: pairs with large i are
    over-represented."""
    return _givens(rule="biased")


def _wisdom(variant: str) -> Optimizer:
    def init(problem: Any, params: Any) -> tuple[()]:
        return ()

    def step(problem: Any, params: Any, state: Any) -> tuple[Any, Any]:
        g = problem.grad(params)
        out = {k: (v - LR * g[k]).astype(v.dtype) for k, v in params.items() if k != "W_hh"}
        W = params["W_hh"]
        A = wisdom_generator(W, g["W_hh"])
        eye = np.eye(W.shape[0], dtype=W.dtype)
        B = (LR / 2) * A
        if variant == "dropped_inverse":
            new = (eye - B) @ W
        else:  # "flipped_sign": (I − λA/2)⁻¹(I + λA/2)W, an ascent step
            new = np.linalg.solve(eye - B, (eye + B) @ W)
        out["W_hh"] = new.astype(W.dtype)
        return {k: out[k] for k in params}, state

    return Optimizer(init=init, step=step)


def wisdom_dropped_inverse() -> Optimizer:
    """W ← (I − (λ/2)A)W: the inverse factor dropped, not unitary (O(λ²‖A‖²) per step)."""
    return _wisdom("dropped_inverse")


def wisdom_flipped_sign() -> Optimizer:
    """A's sign flipped: unitary, but ascends."""
    return _wisdom("flipped_sign")


def _exprnn(variant: str) -> Optimizer:
    ref = exprnn(LR)

    def step(problem: Any, params: Any, state: ExpRNNState) -> tuple[Any, ExpRNNState]:
        g = problem.grad(params)
        out = {k: (v - LR * g[k]).astype(v.dtype) for k, v in params.items() if k != "W_hh"}
        A = skew_from_raw(state.R)
        E = state.base.T @ g["W_hh"]
        if variant == "dexp_at_A":
            G_A = dexp(A, E)
            grad_R = np.triu(G_A - G_A.T, 1)
        else:  # "no_antisym": triu(G_A, 1)
            grad_R = np.triu(dexp(A.T, E), 1)
        R = state.R - LR * grad_R
        out["W_hh"] = state.base @ expm_skew(skew_from_raw(R))
        return {k: out[k] for k in params}, ExpRNNState(state.base.copy(), R, grad_R)

    return Optimizer(init=ref.init, step=step, diagnostics=ref.diagnostics)


def exprnn_dexp_at_A() -> Optimizer:
    """dexp_A instead of dexp_{Aᵀ} (error ≈ 2 at ‖A‖ = O(1), §6.1)."""
    return _exprnn("dexp_at_A")


def exprnn_no_antisymmetrization() -> Optimizer:
    """Raw gradient triu(G_A, 1) instead of triu(G_A − G_Aᵀ, 1) (half of 2·triu(Ω, 1))."""
    return _exprnn("no_antisym")


def rgd_ascent() -> Optimizer:
    """Q·expm(+ηΩ): the sign of the RGD step flipped."""

    def init(problem: Any, params: Any) -> tuple[()]:
        return ()

    def step(problem: Any, params: Any, state: Any) -> tuple[Any, Any]:
        g = problem.grad(params)
        out = {k: (v - LR * g[k]).astype(v.dtype) for k, v in params.items() if k != "W_hh"}
        W = params["W_hh"]
        out["W_hh"] = (W @ expm_skew(LR * skew(W.conj().T @ g["W_hh"]))).astype(W.dtype)
        return {k: out[k] for k in params}, state

    return Optimizer(init=init, step=step)


KILLS = {
    "givens.update_exact": [(givens_wrong_angle_sign, REAL, "givens.update_exact:W_hh")],
    "givens.coordinate_derivative": [
        (givens_omega_without_half, REAL, "givens.coordinate_derivative:W_hh")
    ],
    "givens.sufficient_decrease": [
        (givens_wrong_angle_sign, REAL, "givens.sufficient_decrease:W_hh")
    ],
    "givens.rate": [(givens_gs_argmin, REAL, "givens.rate:W_hh")],
    "givens.selection": [
        (givens_gs_argmin, REAL, "givens.selection:W_hh,selection=gauss_southwell"),
        (givens_uniform_biased, REAL, "givens.selection:W_hh,selection=uniform"),
    ],
    "rgd.descent": [(rgd_ascent, BOTH, "rgd.descent:W_hh")],
    "expm.gradient": [(exprnn_dexp_at_A, REAL, "expm.gradient:W_hh")],
    "expm.gradient_at_zero": [(exprnn_no_antisymmetrization, REAL, "expm.gradient_at_zero:W_hh")],
    "wisdom.unitary_any_g": [(wisdom_dropped_inverse, BOTH, "wisdom.unitary_any_g:W_hh")],
    "wisdom.descent": [(wisdom_flipped_sign, BOTH, "wisdom.descent:W_hh")],
}
