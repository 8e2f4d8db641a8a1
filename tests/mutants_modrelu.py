"""Broken modReLU activations, and the modrelu claims that must catch them.

Each mutant is a reference optimizer (rnnverify/optimizers/scurnn.py, scornn.py) whose
cell activation (the contract's ``activation``) has one deliberate error; the problem's
own activation stays correct, so the claims see only the optimizer's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnverify.contract import Optimizer
from rnnverify.optimizers.scornn import scornn
from rnnverify.optimizers.scurnn import scurnn
from rnnverify.problems import ProblemFamily

Array = Any
REAL = ProblemFamily(recurrent=("orthogonal",))
COMPLEX = ProblemFamily(cells=("complex",), recurrent=("orthogonal",))


def modrelu_flipped_bias(z: Array, b: Array) -> Array:
    """``(|z| − b)·z/|z|`` where ``|z| − b > 0`` (real: ``sign(x)·max(|x| − b, 0)``): the
    bias sign flipped. For b < 0 it adds |b| to every modulus (expansive, §2.4); its
    tangential singular value is 1 − b/|z| instead of 1 + b/|z|."""
    if np.iscomplexobj(z):
        r = np.abs(z)
        s = r - b
        active = s > 0
        scale = np.divide(s, r, out=np.zeros(r.shape, dtype=r.dtype), where=active)
        return scale * z
    return np.sign(z) * np.maximum(np.abs(z) - b, 0)


def scurnn_flipped_bias() -> Optimizer:
    """scuRNN whose complex modReLU has the bias sign flipped."""
    return scurnn(0.05)._replace(activation=modrelu_flipped_bias)


def scornn_flipped_bias() -> Optimizer:
    """scoRNN whose real modReLU has the bias sign flipped."""
    return scornn(0.05)._replace(activation=modrelu_flipped_bias)


KILLS = {
    "modrelu.jacobian": [
        (scurnn_flipped_bias, COMPLEX, "modrelu.jacobian"),
        (scornn_flipped_bias, REAL, "modrelu.jacobian"),
    ],
    "modrelu.nonexpansive": [
        (scurnn_flipped_bias, COMPLEX, "modrelu.nonexpansive"),
        (scornn_flipped_bias, REAL, "modrelu.nonexpansive"),
    ],
}
