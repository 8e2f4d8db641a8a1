"""Broken ENRNN optimizers, and the claims that must catch them (theory/orthogonal.md §3)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnverify.contract import Optimizer
from rnnverify.optimizers.enrnn import Eigen, _enrnn, dominant, en_gradient
from rnnverify.problems import ProblemFamily
from tests.mutants_orthogonal import sgd_on_w_hh

REAL = ProblemFamily(cells=("elman",))
ORTHOGONAL = ProblemFamily(cells=("elman",), recurrent=("orthogonal",))


def _frobenius(M: Any) -> Eigen:
    return dominant(M)._replace(sigma=float(np.linalg.norm(M)))


def enrnn_frobenius() -> Optimizer:
    """W̄ = M/‖M‖_F instead of M/ρ(M): ρ(W̄) < 1 strictly once active."""
    return _enrnn(0.05, 1.5, "W_hh", _frobenius, en_gradient)


def _no_dsigma(G_bar: Any, W_bar: Any, eig: Eigen, active: bool) -> Any:
    return G_bar / eig.sigma if active else G_bar.copy()


def enrnn_no_dsigma() -> Optimizer:
    """∂L/∂M = Ḡ/σ: the ∂σ term of §3.3 dropped (FD error ≈ 1.3)."""
    return _enrnn(0.05, 1.5, "W_hh", dominant, _no_dsigma)


def _largest_real_part(M: Any) -> Eigen:
    lam = np.linalg.eigvals(M)
    eig = dominant(M)
    lam_re = complex(lam[int(np.argmax(lam.real))])
    return eig._replace(lam=lam_re, sigma=abs(lam_re))


def enrnn_largest_real_part() -> Optimizer:
    """Normalizes by the eigenvalue of largest real part, not largest modulus (EN-1)."""
    return _enrnn(0.05, 1.5, "W_hh", _largest_real_part, en_gradient)


KILLS = {
    "en.spectral_radius": [(enrnn_frobenius, REAL, "en.spectral_radius:W_hh")],
    "en.gradient": [(enrnn_no_dsigma, REAL, "en.gradient:W_hh")],
    "en.zero_homogeneity": [(enrnn_no_dsigma, REAL, "en.zero_homogeneity:W_hh")],
    "en.block_spectrum": [(enrnn_largest_real_part, REAL, "en.block_spectrum:W_hh")],
    "orthogonal.jacobian_isometry": [
        (sgd_on_w_hh, ORTHOGONAL, "orthogonal.jacobian_isometry:W_hh,drift=multiplicative")
    ],
}
