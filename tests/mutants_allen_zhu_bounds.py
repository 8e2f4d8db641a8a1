"""Broken Allen-Zhu–Li–Song optimizers for the claims of properties/allen_zhu_bounds.py
(theory/allen-zhu.md §10 Z3, Z5, Z7, Z9), and the claims that must catch them."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnverify.allen_zhu import fact_2_5
from rnnverify.contract import Optimizer
from rnnverify.optimizers.allen_zhu_gd import AZ_FAMILY, AZState, _allen_zhu_gd
from rnnverify.problems import RNNProblem
from rnnverify.tree import Params
from tests.mutants_allen_zhu import az_init_variance_4


def az_trains_b() -> Optimizer:
    """GD on W *and* on the readout B: after the reference step, B ← B − η∇_B f with
    ∇_B f = Σ_i Σ_{l≥2} loss_{i,l} h_{i,l}ᵀ (the paper's theorem covers W only)."""
    lr = 0.001
    base = _allen_zhu_gd(lr)

    def step(problem: RNNProblem, params: Params, state: Any) -> tuple[Params, AZState]:
        new_params, st = base.step(problem, params, state)
        m = state.W.shape[0]
        R = state.H[:, 1:, :] @ state.B.T - state.Y[:, 1:, :]  # loss_{i,l}, l ≥ 2 (old W)
        grad_B = np.einsum("ild,ilm->dm", R, state.H[:, 1:, :])
        B = st.B - (lr / m) * grad_B
        R_new = st.H[:, 1:, :] @ B.T - st.Y[:, 1:, :]
        grad = fact_2_5(st.W, st.A, B, st.X, st.Y)
        st = st._replace(B=B, grad=grad, loss=np.asarray(0.5 * float(np.sum(R_new * R_new))))
        out = dict(new_params)
        if "V" in out:
            out["V"] = B.astype(params["V"].dtype)
        return out, st

    return Optimizer(init=base.init, step=step, diagnostics=base.diagnostics)


KILLS = {
    "az.only_w_trained": [(az_trains_b, AZ_FAMILY, "az.only_w_trained")],
    "init.forward_bounds": [(az_init_variance_4, AZ_FAMILY, "init.forward_bounds")],
    "init.fixed_vector_product": [(az_init_variance_4, AZ_FAMILY, "init.fixed_vector_product")],
    "init.backward_bounded": [(az_init_variance_4, AZ_FAMILY, "init.backward_bounded")],
}


def _forward_h_twice(W: Any, A: Any, X: Any) -> tuple[Any, Any]:
    """g_l = W h_{l−1} + h_{l−1} + A x_l: h_{l−1} added twice (a residual-style slip)."""
    n, L, _ = X.shape
    m = W.shape[0]
    G, H = np.empty((n, L, m)), np.empty((n, L, m))
    h = np.zeros((n, m))
    for t in range(L):
        g = h @ W.T + h + X[:, t, :] @ A.T
        h = np.maximum(g, 0.0)
        G[:, t], H[:, t] = g, h
    return G, H


def az_h_twice() -> Optimizer:
    """The recurrence adds h_{l−1} twice, g_l = W h_{l−1} + h_{l−1} + A x_l (§10 Z5's
    "wrong recurrence"), in the state ``init`` builds: the hidden state grows like
    ‖I + W‖ ≈ 1 + √2 per step."""
    base = _allen_zhu_gd(0.001)

    def init(problem: RNNProblem, params: Params) -> AZState:
        st = base.init(problem, params)
        G, H = _forward_h_twice(st.W, st.A, st.X)
        return st._replace(G=G, H=H)

    return Optimizer(init=init, step=base.step, diagnostics=base.diagnostics)


KILLS["init.forward_bounds"].append((az_h_twice, AZ_FAMILY, "init.forward_bounds"))
