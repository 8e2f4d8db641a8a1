"""Broken orthogonal optimizers, and the constraint claims that must catch them."""

from __future__ import annotations

from rnnverify.contract import Optimizer
from rnnverify.optimizers import sgd
from rnnverify.problems import ProblemFamily

REAL = ProblemFamily(recurrent=("orthogonal",))
COMPLEX = ProblemFamily(cells=("complex",), recurrent=("orthogonal",))


def sgd_on_w_hh() -> Optimizer:
    """Plain SGD on W_hh claiming orthogonality: the negative control (issue: mutants)."""
    return sgd(0.05)


KILLS = {
    "orthogonal.preserved": [(sgd_on_w_hh, REAL, "orthogonal.preserved:W_hh")],
    "orthogonal.det_fixed": [(sgd_on_w_hh, REAL, "orthogonal.det_fixed:W_hh")],
    "unitary.preserved": [(sgd_on_w_hh, COMPLEX, "unitary.preserved:W_hh")],
}
