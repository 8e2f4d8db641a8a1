"""Broken adaQN optimizers, and the claims that must catch them (theory/adaqn.md §7–§9)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnverify.contract import Optimizer
from rnnverify.optimizers.adaqn import _adaqn
from rnnverify.problems import ProblemFamily

REAL = ProblemFamily()
# The mutation matrix runs 5 steps (tests/helpers.subject): L = 1 closes a window at every
# step, so pairs are tried from step 1 on and two pairs are in memory from step 3 on.
BASE: dict[str, Any] = {
    "lr": 0.1,
    "L": 1,
    "memory": 3,
    "fisher_memory": 10,
    "batch_size": 2,
    "test": "sts",
    "reset_factor": 1.01,
    "eps": 1e-4,
    "seed": 0,
}


def _two_loop_swapped(g: Any, S: Any, Y: Any, h0: Any) -> Any:
    """The two loops run in the wrong order: oldest → newest first, then newest → oldest."""
    m = S.shape[0]
    rho = [1.0 / float(Y[i] @ S[i]) for i in range(m)]
    a = [0.0] * m
    q = np.array(g, dtype=np.float64, copy=True)
    for i in range(m):
        a[i] = rho[i] * float(S[i] @ q)
        q = q - a[i] * Y[i]
    r = h0 * q
    for i in reversed(range(m)):
        beta = rho[i] * float(Y[i] @ r)
        r = r + S[i] * (a[i] - beta)
    return r


def adaqn_loops_swapped() -> Optimizer:
    """Two-loop recursion with the loop directions swapped (equal to BFGS only for m = 1)."""
    return _adaqn(**BASE, two_loop_fn=_two_loop_swapped)


def adaqn_no_acceptance_test() -> Optimizer:
    """Acceptance test skipped (only sᵀy ≠ 0 kept, so that ρ = 1/sᵀy exists), with a sign
    error in the Fisher product: stores pairs with sᵀy = −‖Fs‖²/|F| < 0 (adaqn.md §9:
    caught by Q3 via g = y_newest, and by Q5)."""
    return _adaqn(**BASE, check_pair=lambda s, y, test: float(s @ y) != 0.0, curvature_sign=-1.0)


def adaqn_sum_kept_on_reset() -> Optimizer:
    """stochQN D2 (adaqn.md §8): the running sum is not zeroed on a reset."""
    return _adaqn(**BASE, clear_sum_on_reset=False)


def adaqn_reset_step_not_counted() -> Optimizer:
    """minSQN D1 (adaqn.md §8): the step counter is not advanced on a reset, so the next
    'window' holds a single iterate."""
    return _adaqn(**{**BASE, "L": 2}, count_reset_step=False)  # L = 1: every step a window


def adaqn_reset_keeps_memory() -> Optimizer:
    """The reset reverts w ← w_o but forgets to clear the pair memory."""
    return _adaqn(**BASE, clear_memory_on_reset=False)


def adaqn_adagrad_not_accumulated() -> Optimizer:
    """minSQN D3 (adaqn.md §8): the AdaGrad sum is never accumulated, so H0 stays at the
    constant 1/sqrt(ε)."""
    return _adaqn(**BASE, accumulate_adagrad=False)


def adaqn_step_uphill() -> Optimizer:
    """w ← w + α·Hg: the direction's sign flipped (caught by qn.descent_direction)."""
    return _adaqn(**BASE, direction_sign=-1.0)


def adaqn_fisher_unnormalized() -> Optimizer:
    """y = Fᵀ(F s) without the declared 1/|F| (minSQN's convention under stochQN's
    declaration, theory/adaqn.md §4 D4)."""
    return _adaqn(**BASE, fisher_fn=lambda F, s: F.T @ (F @ s))


KILLS = {
    "qn.two_loop_dense": [(adaqn_loops_swapped, REAL, "qn.two_loop_dense")],
    "qn.secant": [(adaqn_loops_swapped, REAL, "qn.secant")],
    "qn.positive_definite": [(adaqn_no_acceptance_test, REAL, "qn.positive_definite")],
    "qn.descent_direction": [(adaqn_step_uphill, REAL, "qn.descent_direction")],
    "qn.fisher_pair": [(adaqn_fisher_unnormalized, REAL, "qn.fisher_pair,normalized=yes")],
    "qn.pair_acceptance": [(adaqn_no_acceptance_test, REAL, "qn.pair_acceptance,test=sts")],
    "adaqn.averaging_window": [
        (adaqn_sum_kept_on_reset, REAL, "adaqn.averaging_window"),
        (adaqn_reset_step_not_counted, REAL, "adaqn.averaging_window"),
    ],
    "adaqn.reset": [(adaqn_reset_keeps_memory, REAL, "adaqn.reset")],
    "adaqn.h0_adagrad": [(adaqn_adagrad_not_accumulated, REAL, "adaqn.h0_adagrad,eps=1e-4")],
}
