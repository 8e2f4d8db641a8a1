"""Broken Allen-Zhu–Li–Song optimizers (theory/allen-zhu.md §10), and the claims that
must catch them."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnverify.contract import Optimizer
from rnnverify.optimizers.allen_zhu_gd import AZ_FAMILY, _allen_zhu_gd


def az_init_variance_4() -> Optimizer:
    """W, A ~ N(0, 4/m) (twice the paper's variance, §8): ‖Π₁₀ DW‖₂ ≈ 245, not 7.8."""
    return _allen_zhu_gd(0.001, w_var=4.0)


def az_loss_from_l1() -> Optimizer:
    """Fact 2.5 with l = 1 included in the loss (c_1 gets Bᵀloss_1). An *equivalent*
    mutant: B h_{i,1} = Bφ(A x_{i,1}) does not depend on W (h_0 = 0), so the gradient is
    unchanged bitwise — no gradient claim can catch it (tests/test_allen_zhu.py shows it);
    it is deliberately not in KILLS."""
    return _allen_zhu_gd(0.001, first=1)


def az_no_d() -> Optimizer:
    """Fact 2.5 without the factor D_{i,l+1} (a listed Z2 failure: missing D_{i,l+1})."""
    return _allen_zhu_gd(0.001, with_d=False)


def _abs(g: Any) -> Any:
    return np.abs(g)


def az_abs_activation() -> Optimizer:
    """φ(g) = |g| instead of ReLU: h ≠ D g, and Δ = −1 where both arguments are negative."""
    return _allen_zhu_gd(0.001, act=_abs)


KILLS = {
    "az.d_identity": [(az_abs_activation, AZ_FAMILY, "az.d_identity")],
    "az.gradient": [(az_no_d, AZ_FAMILY, "az.gradient")],
    "init.no_explosion": [(az_init_variance_4, AZ_FAMILY, "init.no_explosion")],
    "init.variance": [(az_init_variance_4, AZ_FAMILY, "init.variance")],
    "relu.difference_lemma": [(az_abs_activation, AZ_FAMILY, "relu.difference_lemma")],
}
