"""Gradient descent on a MomentumRNN (theory/orthogonal.md §5; rnnverify/momentum.py).

The model is the momentum cell with the problem's parameters in the paper's letters
(U = ``W_hh`` recurrent, W = ``W_ih`` input; §5.1)::

    v_t = μ·v_{t−1} + s·W x_t,    h_t = σ(U h_{t−1} + v_t; b),    ŷ_t = V h_t + c

and μ = ``mu``, s = ``s`` are hyperparameters (not trained). Each step is plain gradient
descent ``θ ← θ − η·∇_θ L_mom(θ)`` on the momentum model's loss (same data, readout and
loss as the problem; :func:`rnnverify.momentum.value_and_grad`), so the problem's own
``grad`` (the Elman model's) is not what is followed unless μ = 0, s = 1.

State (:class:`MomentumState`), recomputed by the optimizer's cell at the current
parameters after ``init`` and after every step, so the ``momentum.*`` claims evaluate the
cell exactly as this optimizer defines it:

* ``mu``, ``s``: the hyperparameters (0-d arrays);
* ``H``, ``Vel``: the forward states h_t, v_t on the problem's data, (T+1, n, B);
* ``J_h``, ``J_x``: ∂h_T/∂h_t (v_t fixed) and ∂h_T/∂x_{t+1}, batch column 0 (§5.2 item 4);
* ``A``: the augmented linear transition of (h, v) (§5.2 item 5).

Diagnostics: ``lr`` (η), ``mu``, ``s``, ``loss`` (the momentum model's loss).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.contract import Optimizer
from rnnverify.momentum import Cell, augmented, jacobians, momentum_cell, value_and_grad
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params


class MomentumState(NamedTuple):
    """The hyperparameters and what the optimizer's cell computes at the current parameters."""

    mu: NDArray[Any]
    s: NDArray[Any]
    H: NDArray[Any]
    Vel: NDArray[Any]
    J_h: NDArray[Any]
    J_x: NDArray[Any]
    A: NDArray[Any]
    loss: NDArray[Any]


def momentum_sgd(lr: float = 0.05, *, mu: float = 0.6, s: float = 0.3) -> Optimizer:
    """Gradient descent with step η = ``lr`` on the MomentumRNN with momentum μ = ``mu``
    and step size s = ``s`` (§5.1; the paper's grid: μ ∈ {0, 0.3, 0.6}, s ∈ {0.1, …, 1})."""
    for name, value in (("lr", lr), ("mu", mu), ("s", s)):
        if not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise ValueError(f"{name}={value!r}: expected a finite float")
    if lr <= 0:
        raise ValueError(f"lr={lr!r}: expected > 0")
    return _momentum_sgd(float(lr), float(mu), float(s), momentum_cell)


def _momentum_sgd(lr: float, mu: float, s: float, cell: Cell) -> Optimizer:
    """The optimizer with its cell replaceable (tests/mutants_momentum.py)."""

    def state_at(problem: RNNProblem, params: Params) -> tuple[MomentumState, Any]:
        p = dict(params)
        loss, grads, fwd = value_and_grad(cell, problem, p, mu, s)
        U, W, b = p["W_hh"], p["W_ih"], p["b"]
        d = problem.data
        J_h, J_x = jacobians(cell, U, W, b, d.x, d.h0, mu, s, problem.activation, fwd)
        state = MomentumState(
            np.asarray(mu),
            np.asarray(s),
            fwd.H,
            fwd.Vel,
            J_h,
            J_x,
            augmented(cell, U, mu, s),
            np.asarray(loss),
        )
        return state, grads

    def init(problem: RNNProblem, params: Params) -> MomentumState:
        return state_at(problem, params)[0]

    def step(problem: RNNProblem, params: Params, state: MomentumState) -> tuple[Params, Any]:
        _, grads = state_at(problem, params)
        new = {k: (v - lr * grads[k]).astype(v.dtype) for k, v in params.items()}
        return new, state_at(problem, new)[0]

    def diagnostics(state: MomentumState) -> dict[str, float]:
        return {"lr": lr, "mu": float(state.mu), "s": float(state.s), "loss": float(state.loss)}

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


_REAL = ProblemFamily(cells=("elman",), activations=("tanh", "relu", "identity"))

CASES = [
    Case(
        momentum_sgd,
        {"lr": 0.05, "mu": 0.0, "s": 1.0},
        claims=refs("momentum.reduces_to_vanilla"),
        problems=_REAL,
    ),
    Case(
        momentum_sgd,
        {"lr": 0.05, "mu": 0.6, "s": 0.3},
        claims=refs(
            "momentum.second_order_identity",
            "momentum.jacobians",
            "momentum.linear_stability",
        ),
        problems=_REAL,
    ),
]
