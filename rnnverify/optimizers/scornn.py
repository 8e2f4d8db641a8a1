"""scoRNN: the recurrent matrix as a scaled Cayley transform of a skew matrix.

Parametrization and update (Helfrich, Willmott & Ye, ICML 2018; theory/orthogonal.md §1.1,
§1.2), with ``G = ∂L/∂W`` indexed like the stored ``W`` (§0.1: the formula holds in the
column convention of :mod:`rnnverify.problems` as well)::

    W   = C(A)·D,      C(A) = (I + A)⁻¹(I − A),   Aᵀ = −A,   D = diag(±1) fixed
    V   = (I + A)⁻ᵀ G (D + Wᵀ)
    DFA = Vᵀ − V                                  ∂L/∂a_ij for i < j (a *coordinate*
                                                  gradient, §0.3; Frobenius gradient DFA/2)
    A   ← A − η·DFA                               optimizer="sgd"
    A   ← A − η·DFA/(√m + δ),  m ← ρm + (1 − ρ)DFA²    optimizer="rmsprop" (elementwise)
    W   ← C(A)·D                                  recomputed from A every step
    θ   ← θ − η·∂L/∂θ                             every other parameter

Invariants (§1.3): ``WᵀW = I`` for every skew A, so the orthogonality error depends on
‖A‖ only (``≤ 10·n·ε·sqrt(1 + ‖A‖₂²)``, §7), never on the step count; ``det W = det D``
is fixed; DFA is bitwise skew with a zero diagonal (``fl(a − b) = −fl(b − a)``), and an
elementwise optimizer keeps A bitwise skew.

Start (:func:`representation`): the problem's Haar ``W₀`` is written as ``C(A₀)D`` with
``A₀ = C(W₀D)`` (C is an involution, §0.2). ``W₀D`` must have no eigenvalue near −1, or
A₀ blows up; by the representation theorem (§1.3, SCO-9, verified for n ≤ 8) some
``D ∈ {±1}ⁿ`` gives ``max|a_ij| ≤ 1``, and the search over all sign patterns with
``det D = det W₀`` finds the one with the smallest ``max|a_ij|``. Exhaustive up to
``n = EXHAUSTIVE_MAX``; beyond, a greedy descent over single sign flips (pairs, to keep
det D) from the best diagonal-sign guess.

The optimizer exposes its parametrization in ``state`` (:class:`ScornnState`): ``A``,
``D`` (the diagonal, ±1) and ``grad_A``, the DFA it descended along in the step that
produced the state (zeros after ``init``): the ``cayley.*`` claims read them.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.activations import MODRELU
from rnnverify.contract import Optimizer
from rnnverify.manifolds import cayley
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params

Array = NDArray[Any]
EXHAUSTIVE_MAX = 10
"""Largest n for the exhaustive search over D (2ⁿ⁻¹ LU solves of size n)."""
OPTIMIZERS = ("sgd", "rmsprop")


class ScornnState(NamedTuple):
    """scoRNN's parametrization: ``W_hh = C(A)·diag(D)``.

    Attributes
    ----------
    A : (n, n) real skew
    D : (n,) entries ±1, fixed
    ms : (n, n) RMSprop accumulator m (zeros for SGD)
    grad_A : (n, n) the DFA of the step that produced this state (zeros after init)
    """

    A: Array
    D: Array
    ms: Array
    grad_A: Array


def cayley_or_nan(A: Array) -> Array:
    """``C(A)``, or NaNs where it is not computable (a non-finite A after a diverged step,
    or ``I + A`` numerically singular): divergence shows as non-finite parameters, which
    the runner judges, instead of an exception from the solve."""
    if np.all(np.isfinite(A)):
        try:
            return cayley(A)
        except np.linalg.LinAlgError:
            pass
    return np.full(A.shape, np.nan, dtype=A.dtype)


def solve_or_nan(M: Array, B: Array) -> Array:
    """``M⁻¹B``, or NaNs when the solve fails (see :func:`cayley_or_nan`)."""
    if np.all(np.isfinite(M)) and np.all(np.isfinite(B)):
        try:
            return np.linalg.solve(M, B)
        except np.linalg.LinAlgError:
            pass
    return np.full(B.shape, np.nan, dtype=np.result_type(M, B))


def cayley_D(A: Array, D: Array) -> Array:
    """``W = C(A)·diag(D)`` (column scaling)."""
    return cayley_or_nan(A) * D[None, :]


def cayley_gradient(A: Array, D: Array, G: Array) -> Array:
    """``DFA = Vᵀ − V``, ``V = (I + A)⁻ᵀ G (D + Wᵀ)``, ``W = C(A)D`` (orthogonal.md §1.2).

    Parameters
    ----------
    A : skew (n, n)
    D : (n,) the diagonal of D
    G : (n, n) ∂L/∂W

    Returns the coordinate gradient: ``(DFA)_ij = ∂L/∂a_ij`` for i < j, bitwise skew.
    """
    n = A.shape[0]
    W = cayley_D(A, D)
    V = solve_or_nan((np.eye(n) + A).T, G @ (np.diag(D) + W.T))
    return V.T - V


def skew_exact(M: Array) -> Array:
    """``(M − Mᴴ)/2``: bitwise skew(-Hermitian) with an exactly zero (real part of the)
    diagonal, since ``fl(a − b) = −fl(b − a)`` and halving is exact."""
    return (M - M.conj().T) / 2


def representation(W: Array, n_neg: int | None = None) -> tuple[Array, Array]:
    """``(A, D)`` with ``W ≈ C(A)·diag(D)``, A bitwise skew, D ∈ {±1}ⁿ minimizing max|a_ij|
    (orthogonal.md §1.3, representation theorem; ``A = C(W·D)``).

    ``n_neg`` restricts D to that many −1 entries; ``ValueError`` if no such D has
    ``det D = sign(det W)`` (C(A) has det +1, so det D must equal det W).
    """
    n = W.shape[0]
    sign = 1.0 if np.linalg.det(W) > 0 else -1.0
    if n_neg is not None and (not 0 <= n_neg <= n or (-1.0) ** n_neg != sign):
        raise ValueError(
            f"n_neg={n_neg!r}: expected 0 ≤ n_neg ≤ n = {n} with (−1)^n_neg = det W_hh = "
            f"{sign:+.0f}"
        )

    def cost(D: Array) -> tuple[float, Array]:
        M = cayley(W * D[None, :])
        value = float(np.max(np.abs(M))) if np.all(np.isfinite(M)) else math.inf
        return value, M

    def admissible(D: Array) -> bool:
        neg = int(np.sum(D < 0))
        return float(np.prod(D)) == sign and (n_neg is None or neg == n_neg)

    best: tuple[float, Array, Array] | None = None
    if n <= EXHAUSTIVE_MAX:
        for signs in itertools.product((1.0, -1.0), repeat=n):
            D = np.array(signs)
            if not admissible(D):
                continue
            value, M = cost(D)
            if best is None or value < best[0]:
                best = (value, D, M)
    else:  # greedy: flip pairs of signs while max|a_ij| decreases
        D = np.where(np.diagonal(W) < 0, -1.0, 1.0)
        if n_neg is not None:
            D = np.array([-1.0] * n_neg + [1.0] * (n - n_neg))
        elif float(np.prod(D)) != sign:
            D[int(np.argmax(np.diagonal(W) * D))] *= -1
        value, M = cost(D)
        improved = True
        while improved:
            improved = False
            for i, j in itertools.combinations(range(n), 2):
                if n_neg is not None and D[i] == D[j]:
                    continue
                trial = D.copy()
                trial[[i, j]] *= -1
                v, Mt = cost(trial)
                if v < value:
                    D, value, M, improved = trial, v, Mt, True
        best = (value, D, M)
    assert best is not None
    return skew_exact(best[2]), best[1]


def _check_lr(lr: Any) -> None:
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")


def scornn(
    lr: float = 0.05,
    *,
    optimizer: str = "sgd",
    n_neg: int | None = None,
    rho: float = 0.9,
    delta: float = 1e-8,
    target: str = "W_hh",
) -> Optimizer:
    """scoRNN on ``target`` (η = ``lr``), plain gradient descent on the other parameters.

    Parameters
    ----------
    lr : float
        η, for A and for every other parameter.
    optimizer : {"sgd", "rmsprop"}
        The elementwise update of A with gradient DFA (RMSprop: decay ρ = ``rho``,
        δ = ``delta`` added to √m).
    n_neg : int, optional
        ρ of the paper (the number of −1 entries of D); by default the sign pattern
        of the representation theorem search (module docstring).
    """
    _check_lr(lr)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer={optimizer!r}: expected one of {list(OPTIMIZERS)}")
    if not 0 <= rho < 1:
        raise ValueError(f"rho={rho!r}: expected 0 ≤ rho < 1")

    def init(problem: RNNProblem, params: Params) -> ScornnState:
        W = params[target]
        A, D = representation(np.asarray(W, dtype=np.float64), n_neg)
        zeros = np.zeros_like(A)
        return ScornnState(A, D, zeros, zeros.copy())

    def step(problem: RNNProblem, params: Params, state: ScornnState) -> tuple[Params, Any]:
        g = problem.grad(params)
        out = {k: (v - lr * g[k]).astype(v.dtype) for k, v in params.items() if k != target}
        DFA = cayley_gradient(state.A, state.D, g[target])
        if optimizer == "rmsprop":
            ms = rho * state.ms + (1 - rho) * DFA * DFA
            A = state.A - lr * DFA / (np.sqrt(ms) + delta)
        else:
            ms = state.ms.copy()
            A = state.A - lr * DFA
        out[target] = cayley_D(A, state.D).astype(params[target].dtype)
        return {k: out[k] for k in params}, ScornnState(A, state.D.copy(), ms, DFA)

    def diagnostics(state: ScornnState) -> dict[str, float]:
        return {
            "norm_A": float(np.linalg.norm(state.A, 2)),
            "max_abs_A": float(np.max(np.abs(state.A))),
            "n_neg": float(np.sum(state.D < 0)),
        }

    return Optimizer(init=init, step=step, diagnostics=diagnostics, activation=MODRELU.forward)


_CAYLEY_CLAIMS = (
    "orthogonal.preserved:W_hh,drift=cayley",
    "orthogonal.det_fixed:W_hh,drift=cayley",
    "cayley.skew_exact",
    "cayley.gradient",
    "cayley.descent",
    "cayley.spectrum",
    "cayley.convention",
    "modrelu.jacobian",
    "modrelu.nonexpansive",
)

CASES = [
    Case(
        scornn,
        {"lr": 0.05},
        claims=refs(*_CAYLEY_CLAIMS, "cayley.representation"),
        problems=ProblemFamily(recurrent=("orthogonal",)),
    ),
    Case(
        scornn,
        {"lr": 0.01, "optimizer": "rmsprop"},
        claims=refs(*_CAYLEY_CLAIMS, "cayley.representation"),
        problems=ProblemFamily(recurrent=("orthogonal",)),
    ),
]
