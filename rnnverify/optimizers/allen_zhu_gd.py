"""Gradient descent on W of the Allen-Zhu–Li–Song RNN (theory/allen-zhu.md §1–§3;
rnnverify/allen_zhu.py).

``init`` builds the paper's model on the problem's sizes and data — m = ``hidden``,
d_x = ``inputs`` (≥ 2), d = ``outputs``, L = ``steps``, n = ``batch`` — with the paper's
initialization (Def. 2.3: W, A ~ N(0, 2/m), B ~ N(0, 1/d), drawn from the problem's seed),
the normalized inputs (Sec. 2.1) and targets y*_{i,l} from the problem's targets (every
step for ``loss=every``; the last target repeated for ``loss=last``). Each step is
``W ← W − η·∇f(W)`` with ∇f by Fact 2.5; **A and B stay frozen** (only W is trained).
The returned parameters are ``W_hh = W``, ``W_ih = A``, ``V = B``, ``b = c = 0``.

State (:class:`AZState`): ``W``, ``A``, ``B``, ``X`` (n, L, d_x), ``Y`` (n, L, d), the
forward ``G``, ``H`` (n, L, m) and ``grad`` = ∇f(W) (Fact 2.5) at the current W — what the
``az.*``, ``init.*`` and ``relu.*`` claims check. Diagnostics: ``lr``, ``loss`` (f(W)).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.allen_zhu import fact_2_5, forward, normalize_inputs, paper_init, relu
from rnnverify.contract import Optimizer
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params


class AZState(NamedTuple):
    W: NDArray[Any]
    A: NDArray[Any]
    B: NDArray[Any]
    X: NDArray[Any]
    Y: NDArray[Any]
    G: NDArray[Any]
    H: NDArray[Any]
    grad: NDArray[Any]
    loss: NDArray[Any]


def allen_zhu_gd(lr: float = 0.001) -> Optimizer:
    """GD on W with step η = ``lr``/m (the theory's η ~ 1/m scaling, §3).

    ``lr = 0.001``: on 200 generated problems of the reference family the loss then never
    increased over 5 steps; ``lr = 0.01`` diverged on some (loss ×6e7 in one step at
    m = 2, L = 10), where the paper's η = δ/(ρ⁴⁴m) is far smaller still."""
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")
    return _allen_zhu_gd(float(lr))


def _allen_zhu_gd(
    lr: float, *, w_var: float = 2.0, act: Any = relu, first: int = 2, with_d: bool = True
) -> Optimizer:
    """The optimizer with its init variance (×1/m), activation and Fact 2.5 variant
    replaceable (tests/mutants_allen_zhu.py)."""

    def state_at(W: Any, A: Any, B: Any, X: Any, Y: Any) -> AZState:
        fwd = forward(W, A, X, act)
        R = fwd.H[:, 1:, :] @ B.T - Y[:, 1:, :]  # the loss from l = 2 (Sec. 2.2)
        grad = fact_2_5(W, A, B, X, Y, fwd, first=first, with_d=with_d)
        return AZState(W, A, B, X, Y, fwd.G, fwd.H, grad, np.asarray(0.5 * float(np.sum(R * R))))

    def init(problem: RNNProblem, params: Params) -> AZState:
        s = problem.spec
        rng = np.random.default_rng([s.seed, 0, 5])
        W, A, B = paper_init(s.hidden, s.inputs, s.outputs, rng, w_var)
        X = normalize_inputs(np.transpose(problem.data.x, (2, 0, 1)))  # (n, L, d_x)
        y = np.asarray(problem.data.y, dtype=np.float64)
        if s.loss == "every":
            Y = np.transpose(y, (2, 0, 1))
        else:
            Y = np.repeat(y.T[:, None, :], s.steps, axis=1)
        return state_at(W, A, B, X, np.ascontiguousarray(Y))

    def step(problem: RNNProblem, params: Params, state: AZState) -> tuple[Params, AZState]:
        m = state.W.shape[0]
        W = state.W - (lr / m) * state.grad
        # new arrays for the frozen A, B, X, Y: the state must not alias its input
        new = state_at(W, state.A.copy(), state.B.copy(), state.X.copy(), state.Y.copy())
        out = {
            "W_hh": W,
            "W_ih": state.A.copy(),
            "b": np.zeros_like(params["b"]),
            "V": state.B.copy(),
            "c": np.zeros_like(params["c"]),
        }
        return {k: out[k].astype(params[k].dtype) for k in params}, new

    def diagnostics(state: AZState) -> dict[str, float]:
        return {"lr": lr / state.W.shape[0], "loss": float(state.loss)}

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


AZ_FAMILY = ProblemFamily(cells=("elman",), activations=("relu",), inputs=(2, 4))

CASES = [
    Case(
        allen_zhu_gd,
        {"lr": 0.001},
        claims=refs(
            "az.d_identity",
            "az.gradient",
            "init.no_explosion",
            "init.variance",
            "relu.difference_lemma",
            "az.only_w_trained",
            "init.forward_bounds",
            "init.fixed_vector_product",
            "init.backward_bounded",
        ),
        problems=AZ_FAMILY,
    ),
]
