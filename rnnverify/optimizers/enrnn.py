"""ENRNN: gradient descent on an eigenvalue-normalized recurrent matrix (Helfrich & Ye 2020).

The whole ``W_hh`` of the problem plays the EN block W̄₂ of theory/orthogonal.md §3.1
(n₁ = 0; the scoRNN block W₁ and the coupling W₃ enter only ``en.block_spectrum``). The
trainable matrix is ``M`` (the paper's W₂), kept in the state; the model's ``W_hh`` is
always its normalization (§3.2, ``eigenvalue_normalize``)::

    λ = first eigenvalue of M of largest modulus,  σ = |λ|,  λ = σ·e^{iφ}
    active ← active or σ > 1                                 (persistent flag)
    W̄(M) = M/σ if active else M

Gradient of the normalization (§3.3, ``EN_Deriv``), with ``Ḡ = ∂L/∂W̄`` (the problem's
``W_hh`` gradient at ``W_hh = W̄``), ``Mu = λu``, ``vᴴM = λvᴴ``::

    P      = conj(v)·uᵀ/(vᴴu)                        (∂λ/∂M_ij = P_ij)
    ∂L/∂M  = (1/σ)·[Ḡ − ⟨Ḡ, W̄⟩·Re(e^{−iφ}·P)]          when active, else Ḡ

and the update ``M ← M − η·∂L/∂M``, ``W_hh ← W̄(M)``; every other parameter takes a
plain gradient step.

The start: the problem's ``W_hh`` has ``‖W_hh‖₂ ≤ 1`` (so ρ ≤ 1 and normalization would
never start). ``init`` therefore sets ``M₀ = r·W_hh/ρ(W_hh)`` with ``r = radius``
(default 1.5 > 1): normalization is active from the first step, which is the regime the
``en.*`` claims are about. The first step evaluates the gradient at ``W_hh = W̄(M₀) =
W_hh/ρ(W_hh)`` (the model's matrix is always W̄(M)); from then on the parameter and W̄(M)
agree bitwise.

Diagnostics (floats): ``lr`` (η), ``sigma`` (σ of M), ``active`` (0/1), ``gap``
(relative modulus gap between the dominant eigenvalue, with its conjugate, and the
next; §3.4 EN-5), ``kappa`` (the largest eigenvalue condition number of M).

Eigenvalues and eigenvectors with numpy (``eig``; the left eigenvectors are the rows of
the inverse of the right eigenvector matrix).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.contract import Optimizer
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params


class Eigen(NamedTuple):
    """The dominant eigen-data of a square matrix M.

    ``lam`` (λ), ``sigma`` (σ = |λ|), ``P`` = conj(v)uᵀ/(vᴴu), ``gap`` = (σ − |λ_next|)/σ
    over eigenvalues other than λ and its conjugate, ``kappa`` = max_i ‖x_i‖‖y_i‖/|y_iᴴx_i|.
    """

    lam: complex
    sigma: float
    P: NDArray[Any]
    gap: float
    kappa: float


def dominant(M: NDArray[Any]) -> Eigen:
    """Dominant eigenvalue (first of largest modulus), its derivative P and conditioning."""
    lam_all, X = np.linalg.eig(M)
    i = int(np.argmax(np.abs(lam_all)))
    lam = complex(lam_all[i])
    sigma = abs(lam)
    Y = np.linalg.inv(X)  # rows: w_iᵀ with w_iᵀM = λ_i w_iᵀ, w_iᵀx_i = 1
    u, w = X[:, i], Y[i, :]
    P = np.outer(w, u) / (w @ u)  # conj(v) = w: conj(v)uᵀ/(vᴴu)
    others = [
        abs(m)
        for j, m in enumerate(lam_all)
        if j != i and not (abs(m - np.conj(lam)) <= 1e-12 * max(sigma, 1e-300) and lam.imag)
    ]
    gap = 1.0 if not others or sigma == 0 else (sigma - max(others)) / sigma
    kappa = float(np.max(np.linalg.norm(X, axis=0) * np.linalg.norm(Y, axis=1)))
    return Eigen(lam, sigma, P, gap, kappa)


def normalize(M: NDArray[Any], active: bool) -> tuple[NDArray[Any], bool, Eigen]:
    """``(W̄(M), active', eigen)`` with ``active' = active or σ > 1`` (§3.2)."""
    eig = dominant(M)
    on = bool(active or eig.sigma > 1)
    return (M / eig.sigma if on else M.copy()), on, eig


def en_gradient(G_bar: NDArray[Any], W_bar: NDArray[Any], eig: Eigen, active: bool) -> NDArray[Any]:
    """``∂L/∂M = (1/σ)·[Ḡ − ⟨Ḡ, W̄⟩·Re(e^{−iφ}P)]`` (active), ``Ḡ`` otherwise (§3.3)."""
    if not active:
        return G_bar.copy()
    phase = np.conj(eig.lam) / eig.sigma  # e^{−iφ}
    inner = float(np.sum(G_bar * W_bar))
    return (G_bar - inner * np.real(phase * eig.P)) / eig.sigma


class ENState(NamedTuple):
    """``M``: the trainable matrix; ``active``: the persistent normalization flag (0/1)."""

    M: NDArray[Any]
    active: NDArray[Any]


def enrnn(lr: float = 0.05, *, radius: float = 1.5, target: str = "W_hh") -> Optimizer:
    """ENRNN gradient descent: η = ``lr`` on M (``target`` = W̄(M)), GD elsewhere.

    Parameters
    ----------
    lr : float
        η > 0.
    radius : float
        r > 0, the spectral radius of M₀ = r·W_hh/ρ(W_hh); r > 1 starts normalized.
    """
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")
    if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius={radius!r}: expected a finite float > 0")
    return _enrnn(lr, radius, target, dominant, en_gradient)


def _enrnn(lr: float, radius: float, target: str, eigen: Any, gradient: Any) -> Optimizer:
    """The ENRNN optimizer with its eigen-data and its gradient replaceable (mutants)."""

    def norm(M: NDArray[Any], active: bool) -> tuple[NDArray[Any], bool, Eigen]:
        eig = eigen(M)
        on = bool(active or eig.sigma > 1)
        return (M / eig.sigma if on else M.copy()), on, eig

    def init(problem: RNNProblem, params: Params) -> ENState:
        W = params[target]
        rho = float(np.max(np.abs(np.linalg.eigvals(W))))
        M0 = radius * W / rho if rho > 0 else radius * np.eye(W.shape[0], dtype=W.dtype)
        return ENState(M0.astype(W.dtype), np.asarray(radius > 1.0, dtype=np.float64))

    def step(problem: RNNProblem, params: Params, state: ENState) -> tuple[Params, ENState]:
        M = state.M
        W_bar, on, eig = norm(M, bool(state.active))
        current = dict(params)
        current[target] = W_bar.astype(M.dtype)
        g = problem.grad(current)
        out = {k: (v - lr * g[k]).astype(v.dtype) for k, v in current.items() if k != target}
        M_new = (M - lr * gradient(g[target], W_bar, eig, on)).astype(M.dtype)
        W_new, on_new, _ = norm(M_new, on)
        out[target] = W_new.astype(M.dtype)
        return {k: out[k] for k in params}, ENState(
            M_new, np.asarray(float(on_new), dtype=np.float64)
        )

    def diagnostics(state: ENState) -> dict[str, float]:
        eig = eigen(state.M)
        return {
            "lr": float(lr),
            "sigma": float(eig.sigma),
            "active": float(state.active),
            "gap": float(eig.gap),
            "kappa": float(eig.kappa),
        }

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


_REAL = ProblemFamily(cells=("elman",))

CASES = [
    Case(
        enrnn,
        {"lr": 0.05},
        claims=refs(
            "en.spectral_radius:W_hh",
            "en.gradient:W_hh",
            "en.zero_homogeneity:W_hh",
            "en.block_spectrum:W_hh",
        ),
        problems=_REAL,
    ),
]
