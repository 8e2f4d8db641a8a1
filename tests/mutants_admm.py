"""Broken ADMMiRNN optimizers, and the claims that must catch them (theory/admm.md §9, §11, §12)."""

from __future__ import annotations

from rnnverify.contract import Optimizer
from rnnverify.optimizers.admmirnn import ADMM_FAMILY, _admmirnn

RHO = 2.5


def admm_dual_sign_flipped() -> Optimizer:
    """λ ← λ − ρ·r3 in the PLUS convention: Ψ keeps *decreasing* (to −∞) while ‖r3‖
    explodes, so the Lyapunov check alone misses it (theory §9 A5)."""
    return _admmirnn(RHO, 1.0, "linearized", dual_sign=-1.0)


def admm_dual_divided_by_ten() -> Optimizer:
    """The public code's (λ + ρ·r3)/10 (theory §11)."""
    return _admmirnn(RHO, 1.0, "linearized", dual_scale=0.1)


def admm_rho_below_2h() -> Optimizer:
    """ρ = 0.5: below 2H whenever B·|S| ≤ 3 (H = 1/(B·|S|)); Ψ then rises (theory §8.3
    saw it at ρ ≤ 1 with H = 1). The claims must report the violated precondition."""
    return _admmirnn(0.5, 1.0, "linearized")


def admm_u_step_uphill() -> Optimizer:
    """U ← U + ∇_U/θ: the public code's gradient-ascent step (theory §11, ``phi_u``)."""
    return _admmirnn(RHO, 1.0, "linearized", u_sign=-1.0)


def admm_tanh_derivative_on_preactivation() -> Optimizer:
    """tanh′(a) computed as 1 − a² on the pre-activation (the public code's ``der_tanh``):
    wrong everywhere but a = 0, and of the wrong sign for |a| > 1."""
    return _admmirnn(RHO, 1.0, "linearized", tanh_derivative="one_minus_a2")


def admm_b_summed() -> Optimizer:
    """The exact b-step sums a − Ux − Wh over (t, B) instead of averaging (off by T·B)."""
    return _admmirnn(RHO, 1.0, "linearized", b_average=False)


def admm_states_shifted() -> Optimizer:
    """The start's h_t are the forward pass's h_{t−1} (a time-index slip, h_0 handling)."""
    return _admmirnn(RHO, 1.0, "linearized", state_offset=1)


def admm_minus_c_step_with_plus_sign() -> Optimizer:
    """The MINUS convention (μ = −λ) with the c-step's multiplier term written as in the
    PLUS convention (mean(o − Vh + μ/ρ)): two conventions mixed in one implementation, as
    the public code's ``phi()`` against its updates (theory/admm.md §3.2, §9 A8)."""
    return _admmirnn(RHO, 1.0, "linearized", convention="minus", c_dual_sign=-1.0)


MUTANTS = [
    admm_dual_sign_flipped, admm_dual_divided_by_ten, admm_rho_below_2h, admm_u_step_uphill,
    admm_tanh_derivative_on_preactivation, admm_b_summed, admm_states_shifted,
    admm_minus_c_step_with_plus_sign,
]  # fmt: skip

F = ADMM_FAMILY
KILLS = {
    "admm.dual_identity": [(admm_dual_sign_flipped, F), (admm_dual_divided_by_ten, F)],
    "admm.bounded_residual_vanishes": [(admm_dual_sign_flipped, F)],
    "admm.lyapunov_monotone": [(admm_rho_below_2h, F), (admm_u_step_uphill, F)],
    "admm.block_descent": [(admm_u_step_uphill, F), (admm_tanh_derivative_on_preactivation, F)],
    "admm.linearization_gradients": [(admm_tanh_derivative_on_preactivation, F)],
    "admm.summability": [(admm_u_step_uphill, F)],
    "admm.exact_block_optimality": [(admm_b_summed, F), (admm_minus_c_step_with_plus_sign, F)],
    "admm.forward_feasible": [(admm_states_shifted, F)],
}
