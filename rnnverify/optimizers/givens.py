"""Riemannian coordinate descent on O(n) by Givens rotations (Massart & Abrol 2022;
Shalit & Chechik 2014).

Column convention (theory/orthogonal.md §0.1, §4.1): ``Q = W_hh`` acts as ``h ↦ Q·h``,
``G = ∂L/∂Q`` indexed like Q. One step::

    Ω      = skew(QᵀG) = (QᵀG − GᵀQ)/2          Riemannian gradient Q·Ω
    (i, j) = argmax_{i<j} |Ω_ij|                  selection="gauss_southwell"
           ~ Uniform{i < j}                       selection="uniform"
    α      = −η·Ω_ij
    q_i ← cos α·q_i − sin α·q_j,   q_j ← sin α·q_i + cos α·q_j   (old columns on the right)

which is exactly ``Q·expm(α·E_ij)`` with ``E_ij = e_i e_jᵀ − e_j e_iᵀ`` and
``expm(αE₁₂) = [[cos α, sin α], [−sin α, cos α]]`` (§4.1, CD-1; sympy:
:mod:`rnnverify.derivations.givens`). The rotation costs O(n); forming Ω costs O(n³) (the
released code does the same, §4.1). Every other parameter takes a gradient step ``−η·g``.

The uniform rule draws the pair from ``numpy.random.default_rng([seed, counter])`` with
the counter kept in the state, so identical inputs give identical outputs (the contract).
``diagnostics`` exposes the chosen pair ``i``, ``j``, ``omega_ij`` = Ω_ij and ``alpha``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.contract import Optimizer
from rnnverify.manifolds import skew
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params

SELECTIONS = ("uniform", "gauss_southwell")


class GivensState(NamedTuple):
    """``counter``: steps taken (the uniform rule's stream index); the last step's pair
    ``(i, j)`` (−1 before the first step or when n < 2), ``Ω_ij`` and ``α``."""

    seed: NDArray[np.int64]
    counter: NDArray[np.int64]
    pair: NDArray[np.int64]
    omega_ij: NDArray[np.float64]
    alpha: NDArray[np.float64]


def rotate_columns(Q: NDArray[Any], i: int, j: int, alpha: float) -> NDArray[Any]:
    """``Q·expm(α·E_ij)``: a copy of Q with columns i and j rotated; other columns are
    copied bitwise. O(n)."""
    c, s = math.cos(alpha), math.sin(alpha)
    out = Q.copy()
    qi, qj = Q[:, i], Q[:, j]
    out[:, i] = c * qi - s * qj
    out[:, j] = s * qi + c * qj
    return out


def select_pair(Omega: NDArray[Any], selection: str, seed: int, counter: int) -> tuple[int, int]:
    """The pair (i, j), i < j: argmax of |Ω_ij| over the strict upper triangle
    (first maximum in row-major order), or the ``counter``-th uniform draw of ``seed``."""
    n = Omega.shape[0]
    rows, cols = np.triu_indices(n, 1)
    if selection == "gauss_southwell":
        r = int(np.argmax(np.abs(Omega[rows, cols])))
    else:
        r = int(np.random.default_rng([seed, counter]).integers(rows.size))
    return int(rows[r]), int(cols[r])


def givens(
    lr: float = 0.05,
    selection: str = "uniform",
    seed: int = 0,
    *,
    target: str = "W_hh",
) -> Optimizer:
    """Givens coordinate descent on ``target`` (η = ``lr``), gradient descent elsewhere.

    Parameters
    ----------
    lr : float
        η > 0; the angle is ``α = −η·Ω_ij`` (a coordinate-gradient step of size η/2,
        since d/dt f(Q·expm(tE_ij))|₀ = 2Ω_ij, §4.2).
    selection : {"uniform", "gauss_southwell"}
    seed : int
        Seed of the uniform pair stream.
    """
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")
    if selection not in SELECTIONS:
        raise ValueError(f"selection={selection!r}: expected one of {list(SELECTIONS)}")
    if not (isinstance(seed, int) and seed >= 0):
        raise ValueError(f"seed={seed!r}: expected a non-negative int")

    def init(problem: RNNProblem, params: Params) -> GivensState:
        return GivensState(
            np.array(seed), np.array(0), np.array([-1, -1]), np.array(0.0), np.array(0.0)
        )

    def step(problem: RNNProblem, params: Params, state: GivensState) -> tuple[Params, GivensState]:
        g = problem.grad(params)
        out = {k: (v - lr * g[k]).astype(v.dtype) for k, v in params.items() if k != target}
        Q = params[target]
        n = Q.shape[0]
        k = int(state.counter)
        if n < 2:
            out[target] = Q.copy()
            new = GivensState(
                state.seed.copy(),
                np.array(k + 1),
                np.array([-1, -1]),
                np.array(0.0),
                np.array(0.0),
            )
            return {name: out[name] for name in params}, new
        Omega = skew(Q.T @ g[target])
        i, j = select_pair(Omega, selection, int(state.seed), k)
        alpha = -lr * float(Omega[i, j])
        out[target] = rotate_columns(Q, i, j, alpha)
        new = GivensState(
            state.seed.copy(),
            np.array(k + 1),
            np.array([i, j]),
            np.array(float(Omega[i, j])),
            np.array(alpha),
        )
        return {name: out[name] for name in params}, new

    def diagnostics(state: GivensState) -> dict[str, float]:
        return {
            "i": float(state.pair[0]),
            "j": float(state.pair[1]),
            "omega_ij": float(state.omega_ij),
            "alpha": float(state.alpha),
        }

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


REAL = ProblemFamily(recurrent=("orthogonal",))

CASES = [
    Case(
        givens,
        {"lr": 0.05, "selection": "gauss_southwell"},
        claims=refs(
            "orthogonal.preserved:W_hh,drift=multiplicative",
            "orthogonal.det_fixed:W_hh,drift=multiplicative",
            "givens.update_exact:W_hh",
            "givens.coordinate_derivative:W_hh",
            "givens.sufficient_decrease:W_hh",
            "givens.rate:W_hh",
            "givens.selection:W_hh,selection=gauss_southwell",
        ),
        problems=REAL,
    ),
    Case(
        givens,
        {"lr": 0.05, "selection": "uniform", "seed": 0},
        claims=refs(
            "orthogonal.preserved:W_hh,drift=multiplicative",
            "orthogonal.det_fixed:W_hh,drift=multiplicative",
            "givens.update_exact:W_hh",
            "givens.coordinate_derivative:W_hh",
            "givens.sufficient_decrease:W_hh",
            "givens.selection:W_hh,selection=uniform",
        ),
        problems=REAL,
    ),
]
