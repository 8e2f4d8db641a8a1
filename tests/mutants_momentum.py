"""Broken MomentumRNN cells (theory/orthogonal.md §5), each a broken
rnnverify/optimizers/momentum_sgd.py, and the claims that must catch them."""

from __future__ import annotations

from typing import Any

from rnnverify.contract import Optimizer
from rnnverify.optimizers.momentum_sgd import _momentum_sgd
from rnnverify.problems import ProblemFamily

REAL = ProblemFamily(cells=("elman",), activations=("tanh", "relu", "identity"))


def _drop_mu(Uh: Any, Wx: Any, v_prev: Any, mu: float, s: float) -> tuple[Any, Any]:
    v = s * Wx  # v_t = s·W x_t: the momentum term μ·v_{t−1} lost
    return v + Uh, v


def _misplaced_s(Uh: Any, Wx: Any, v_prev: Any, mu: float, s: float) -> tuple[Any, Any]:
    v = s * (mu * v_prev + Wx)  # v_t = s(μ v_{t−1} + W x_t): effective momentum sμ
    return v + Uh, v


def _lagged(Uh: Any, Wx: Any, v_prev: Any, mu: float, s: float) -> tuple[Any, Any]:
    v = mu * v_prev + s * Wx
    return v_prev + Uh, v  # h_t = σ(U h_{t−1} + v_{t−1}): the input arrives one step late


def momentum_drop_mu() -> Optimizer:
    """v_t = s·W x_t (μ dropped), μ = 0.6, s = 0.3."""
    return _momentum_sgd(0.05, 0.6, 0.3, _drop_mu)


def momentum_misplaced_s() -> Optimizer:
    """v_t = s(μ v_{t−1} + W x_t), μ = 0.6, s = 0.3: spec(A) holds sμ = 0.18, not μ."""
    return _momentum_sgd(0.05, 0.6, 0.3, _misplaced_s)


def momentum_lagged() -> Optimizer:
    """z_t = U h_{t−1} + v_{t−1} (off by one step), at μ = 0, s = 1."""
    return _momentum_sgd(0.05, 0.0, 1.0, _lagged)


KILLS = {
    "momentum.reduces_to_vanilla": [(momentum_lagged, REAL, "momentum.reduces_to_vanilla")],
    "momentum.second_order_identity": [
        (momentum_drop_mu, REAL, "momentum.second_order_identity"),
        (momentum_misplaced_s, REAL, "momentum.second_order_identity"),
    ],
    "momentum.jacobians": [(momentum_drop_mu, REAL, "momentum.jacobians")],
    "momentum.linear_stability": [
        (momentum_drop_mu, REAL, "momentum.linear_stability"),
        (momentum_misplaced_s, REAL, "momentum.linear_stability"),
    ],
}
