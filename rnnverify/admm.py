"""The ADMM formulation of an unfolded RNN, as the harness evaluates it (theory/admm.md §3.3).

The problem's Elman tanh cell, unfolded over ``t = 1..T`` with the batch side by side,
becomes a constrained problem in the weights ``U = W_ih``, ``W = W_hh``, ``b``, ``V``,
``c`` and the auxiliary variables ``a_t`` (pre-activations), ``h_t`` (states) and ``o_t``
(outputs, at the steps ``S`` the loss uses)::

    r1_t = a_t − U x_t − W h_{t−1} − b      (n, B)   t = 1..T,  h_0 = the data's h0
    r2_t = h_t − tanh(a_t)                  (n, B)   t = 1..T
    r3_t = o_t − V h_t − c                  (p, B)   t ∈ S  (S = {T} for loss=last)

    R(o) = (w/2)·Σ_{t∈S} ‖o_t − y_t‖²,   w = 1/(B·|S|)       (the problem's loss)
    L    = R(o) + (ν/2)·Σ_t (‖r1_t‖² + ‖r2_t‖²) + Σ_{t∈S} ⟨λ_t, r3_t⟩ + (ρ/2)·Σ_{t∈S} ‖r3_t‖²

penalties ν on C1, C2 and a multiplier λ on C3 only, PLUS convention (dual step
``λ ← λ + ρ·r3``). ``∇R`` is ``w``-Lipschitz: ``H = w`` (theory's ``H = 1`` is the case
``B·|S| = 1``). Arrays: ``a``, ``h`` are (T, n, B) with ``h[t]`` = h_{t+1}; ``o``, ``lam``
are (|S|, p, B).

Everything here is computed from the variables alone, independently of any optimizer, with
a bound on its own rounding error (Higham's γ_k, :func:`rnnverify.tolerance.gamma`), so
that the ``admm.*`` claims (convergence/admm.py) compare exact-arithmetic statements with
floating-point iterates on a derived margin. The closed-form block gradients below are
cross-checked against sympy (rnnverify/derivations/admm.py, tests/test_admm.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.problems import RNNProblem
from rnnverify.tolerance import gamma

Array = NDArray[Any]

WEIGHTS = {"U": "W_ih", "W": "W_hh", "b": "b", "V": "V", "c": "c"}
"""ADMM block name → the problem's parameter name."""
AUX = ("a", "h", "o", "lam")
BLOCKS = ("U", "W", "b", "a", "h", "V", "c", "o")
"""The primal blocks, in the reference's Gauss–Seidel order."""

TANH_SECH2_MAX = 2.0 / (3.0 * math.sqrt(3.0))
"""max_a |tanh(a)·sech²(a)| = 2/(3√3), attained at tanh² a = 1/3 (sympy-checked)."""

TANH_ULPS = 4
"""Rounding of numpy's tanh: within a few ulps; counted as γ_4 relative."""


class Point(NamedTuple):
    """All ADMM variables at one moment: the weights (ADMM names) and the auxiliaries."""

    U: Array
    W: Array
    b: Array
    V: Array
    c: Array
    a: Array
    h: Array
    o: Array
    lam: Array

    def replace(self, **changes: Array) -> Point:
        return self._replace(**changes)


CONVENTIONS = ("plus", "minus")
"""Sign conventions of the multiplier: PLUS ``L ∋ +⟨λ, r3⟩`` (dual step λ ← λ + ρ·r3),
MINUS ``L ∋ −⟨μ, r3⟩`` (μ ← μ − ρ·r3, the public ADMMiRNN code's), with μ = −λ."""


def point(params: Mapping[str, Array], aux: Any) -> Point:
    """The point made of the problem's parameters and an object with ``a, h, o, lam``
    (and optionally ``convention``: a MINUS multiplier μ is read as λ = −μ, so every
    evaluation here is in the PLUS convention)."""
    lam = np.asarray(aux.lam, dtype=np.float64)
    if getattr(aux, "convention", "plus") == "minus":
        lam = -lam
    return Point(
        U=np.asarray(params["W_ih"], dtype=np.float64),
        W=np.asarray(params["W_hh"], dtype=np.float64),
        b=np.asarray(params["b"], dtype=np.float64),
        V=np.asarray(params["V"], dtype=np.float64),
        c=np.asarray(params["c"], dtype=np.float64),
        a=np.asarray(aux.a, dtype=np.float64),
        h=np.asarray(aux.h, dtype=np.float64),
        o=np.asarray(aux.o, dtype=np.float64),
        lam=lam,
    )


def loss_steps(problem: RNNProblem) -> list[int]:
    """The 0-based steps ``S`` whose outputs enter the loss."""
    T = problem.spec.steps
    return list(range(T)) if problem.spec.loss == "every" else [T - 1]


def loss_weight(problem: RNNProblem) -> float:
    """``w = 1/(B·|S|)``, also ``H`` = the Lipschitz constant of ∇R."""
    return 1.0 / (problem.spec.batch * len(loss_steps(problem)))


def targets(problem: RNNProblem) -> Array:
    """``y_t`` for ``t ∈ S``, (|S|, p, B)."""
    y = np.asarray(problem.data.y, dtype=np.float64)
    return y if problem.spec.loss == "every" else y[None]


def previous_states(problem: RNNProblem, h: Array) -> Array:
    """``[h_0, h_1, …, h_{T−1}]``, (T, n, B)."""
    h0 = np.asarray(problem.data.h0, dtype=np.float64)
    return np.concatenate([h0[None], h[:-1]], axis=0)


def check_problem(problem: RNNProblem) -> None:
    """``ValueError`` unless the problem is the real Elman tanh cell the formulation is for."""
    s = problem.spec
    if s.cell != "elman" or s.activation != "tanh":
        raise ValueError(
            f"problem {s}: ADMM's formulation (theory/admm.md §3.3) is for the real Elman "
            "tanh cell; expected cell=elman, activation=tanh"
        )


def forward_point(
    problem: RNNProblem, params: Mapping[str, Array], lam: Array | None = None
) -> Point:
    """The feasible point of ``params``: ``a``, ``h``, ``o`` from the forward pass (so
    ``r1 = r2 = r3 = 0`` up to rounding), and ``λ`` (default ``−∇R(o)``)."""
    fwd = problem.forward(params)
    b = np.asarray(params["b"], dtype=np.float64)
    a = np.stack(fwd.z) + b[None, :, None]
    h = np.stack(fwd.h[1:])
    o = np.stack([fwd.yhat[t] for t in loss_steps(problem)])
    aux = _Aux(a=a, h=h, o=o, lam=np.zeros_like(o))
    p = point(params, aux)
    return p.replace(lam=-grad_R(problem, p.o) if lam is None else lam)


class _Aux(NamedTuple):
    a: Array
    h: Array
    o: Array
    lam: Array


# ---------------------------------------------------------------------------------------
# Residuals and their rounding magnitudes
# ---------------------------------------------------------------------------------------


class Residuals(NamedTuple):
    """``r1, r2, r3`` and the entrywise magnitudes ``M1, M2, M3`` their computation
    rounds relative to: ``|δr_i| ≤ γ_{k_i}·M_i`` with ``k_1 = n + m + 3``, ``k_2 =``
    :data:`TANH_ULPS` ``+ 1``, ``k_3 = n + 2`` (a dot product of length n + m plus three
    additions for r1; tanh and one subtraction for r2; length n plus two for r3)."""

    r1: Array
    r2: Array
    r3: Array
    M1: Array
    M2: Array
    M3: Array
    k1: int
    k2: int
    k3: int


def residuals(problem: RNNProblem, p: Point) -> Residuals:
    x = np.asarray(problem.data.x, dtype=np.float64)
    hp = previous_states(problem, p.h)
    S = loss_steps(problem)
    bcol = p.b[None, :, None]
    r1 = p.a - p.U @ x - p.W @ hp - bcol
    M1 = np.abs(p.a) + np.abs(p.U) @ np.abs(x) + np.abs(p.W) @ np.abs(hp) + np.abs(bcol)
    th = np.tanh(p.a)
    r2 = p.h - th
    M2 = np.abs(p.h) + np.abs(th)
    hS = p.h[S]
    ccol = p.c[None, :, None]
    r3 = p.o - p.V @ hS - ccol
    M3 = np.abs(p.o) + np.abs(p.V) @ np.abs(hS) + np.abs(ccol)
    n, m = p.U.shape
    return Residuals(r1, r2, r3, M1, M2, M3, n + m + 3, TANH_ULPS + 1, n + 2)


def grad_R(problem: RNNProblem, o: Array) -> Array:
    """``∇R(o) = w·(o − y)``."""
    return loss_weight(problem) * (o - targets(problem))


def R(problem: RNNProblem, o: Array) -> float:
    d = o - targets(problem)
    return 0.5 * loss_weight(problem) * float(np.sum(d * d))


# ---------------------------------------------------------------------------------------
# The augmented Lagrangian with a bound on its rounding error
# ---------------------------------------------------------------------------------------


class Value(NamedTuple):
    """A computed value and a bound on its rounding error."""

    value: float
    rounding: float


def square_rounding(r: Array, M: Array, k: int, dtype: Any) -> float:
    """Rounding of ``Σ r²`` computed from residuals with ``|δr| ≤ γ_k·M``:
    ``γ_N·Σr² + 2·Σ|r|·γ_k M + Σ(γ_k M)²`` (N = the number of terms summed)."""
    e = gamma(k, dtype) * M
    return gamma(r.size + 1, dtype) * float(np.sum(r * r)) + float(
        np.sum(2 * np.abs(r) * e + e * e)
    )


def lagrangian(problem: RNNProblem, p: Point, nu: float, rho: float) -> Value:
    """``L(p)`` (module docstring) and ``δL``, a worst-case bound on its rounding error:
    each squared norm contributes :func:`square_rounding` of its residual, the dual term
    ``γ_N·Σ|λ||r3| + Σ|λ|·γ_{k3}M3``, R its own sum, and the five-term total ``γ_5·Σ|terms|``."""
    dt = np.float64
    res = residuals(problem, p)
    d = p.o - targets(problem)
    w = loss_weight(problem)
    t_R = 0.5 * w * float(np.sum(d * d))
    t_1 = 0.5 * nu * float(np.sum(res.r1 * res.r1))
    t_2 = 0.5 * nu * float(np.sum(res.r2 * res.r2))
    t_d = float(np.sum(p.lam * res.r3))
    t_3 = 0.5 * rho * float(np.sum(res.r3 * res.r3))
    value = t_R + t_1 + t_2 + t_d + t_3
    e3 = gamma(res.k3, dt) * res.M3
    rounding = (
        0.5 * w * square_rounding(d, np.abs(p.o) + np.abs(targets(problem)), 1, dt)
        + 0.5 * nu * square_rounding(res.r1, res.M1, res.k1, dt)
        + 0.5 * nu * square_rounding(res.r2, res.M2, res.k2, dt)
        + gamma(res.r3.size + 1, dt) * float(np.sum(np.abs(p.lam * res.r3)))
        + float(np.sum(np.abs(p.lam) * e3))
        + 0.5 * rho * square_rounding(res.r3, res.M3, res.k3, dt)
        + gamma(5, dt) * (abs(t_R) + abs(t_1) + abs(t_2) + abs(t_d) + abs(t_3))
    )
    return Value(value, rounding)


def residual_norms(problem: RNNProblem, p: Point) -> tuple[float, float, float]:
    res = residuals(problem, p)
    return (
        float(np.linalg.norm(res.r1)),
        float(np.linalg.norm(res.r2)),
        float(np.linalg.norm(res.r3)),
    )


# ---------------------------------------------------------------------------------------
# Block gradients of L (closed forms; sympy-checked) with rounding magnitudes
# ---------------------------------------------------------------------------------------


class BlockGradient(NamedTuple):
    """``∇_X L`` and an entrywise bound on its rounding error."""

    grad: Array
    rounding: Array


def block_gradient(
    problem: RNNProblem, p: Point, block: str, nu: float, rho: float
) -> BlockGradient:
    """``∇_X L(p)`` for a block ``X`` of :data:`BLOCKS`::

        ∇_U = −ν Σ_t r1_t x_tᵀ          ∇_W = −ν Σ_t r1_t h_{t−1}ᵀ       ∇_b = −ν Σ_{t,B} r1_t
        ∇_a = ν r1 − ν r2 ⊙ sech²(a)
        ∇_h_t = ν r2_t − ν Wᵀ r1_{t+1}·[t<T] − Vᵀ(λ_t + ρ r3_t)·[t∈S]
        ∇_V = −Σ_{t∈S} (λ_t + ρ r3_t) h_tᵀ    ∇_c = −Σ_{t∈S,B} (λ_t + ρ r3_t)
        ∇_o = ∇R(o) + λ + ρ r3

    The rounding bound propagates ``|δr_i| ≤ γ_{k_i}M_i`` through the same sums with
    absolute values, plus ``γ_N`` for a sum of N terms (N = T·B + the longest inner length).
    """
    dt = np.float64
    res = residuals(problem, p)
    x = np.asarray(problem.data.x, dtype=np.float64)
    hp = previous_states(problem, p.h)
    S = loss_steps(problem)
    T, n, B = p.h.shape
    TB = T * B
    g1 = gamma(res.k1 + TB + 2, dt)
    if block == "U":
        return BlockGradient(
            -nu * np.einsum("tnb,tmb->nm", res.r1, x),
            nu * g1 * np.einsum("tnb,tmb->nm", np.abs(res.r1) + res.M1, np.abs(x)),
        )
    if block == "W":
        return BlockGradient(
            -nu * np.einsum("tnb,tkb->nk", res.r1, hp),
            nu * g1 * np.einsum("tnb,tkb->nk", np.abs(res.r1) + res.M1, np.abs(hp)),
        )
    if block == "b":
        return BlockGradient(
            -nu * res.r1.sum(axis=(0, 2)), nu * g1 * (np.abs(res.r1) + res.M1).sum(axis=(0, 2))
        )
    if block == "a":
        s2 = 1.0 - np.tanh(p.a) ** 2
        ga = gamma(res.k1 + res.k2 + 4, dt)
        return BlockGradient(
            nu * (res.r1 - res.r2 * s2),
            nu * ga * (np.abs(res.r1) + res.M1 + (np.abs(res.r2) + res.M2) * (s2 + 1.0)),
        )
    lam_r3 = p.lam + rho * res.r3
    lam_r3_mag = np.abs(p.lam) + rho * (np.abs(res.r3) + res.M3)
    if block == "h":
        g = nu * res.r2
        mag = nu * (np.abs(res.r2) + res.M2)
        g[:-1] -= nu * (p.W.T @ res.r1[1:])
        mag[:-1] += nu * (np.abs(p.W.T) @ (np.abs(res.r1[1:]) + res.M1[1:]))
        g[S] -= p.V.T @ lam_r3
        mag[S] += np.abs(p.V.T) @ lam_r3_mag
        return BlockGradient(g, gamma(res.k1 + res.k3 + n + 6, dt) * mag)
    gS = gamma(res.k3 + len(S) * B + 3, dt)
    if block == "V":
        hS = p.h[S]
        return BlockGradient(
            -np.einsum("tpb,tnb->pn", lam_r3, hS),
            gS * np.einsum("tpb,tnb->pn", lam_r3_mag, np.abs(hS)),
        )
    if block == "c":
        return BlockGradient(-lam_r3.sum(axis=(0, 2)), gS * lam_r3_mag.sum(axis=(0, 2)))
    if block == "o":
        w = loss_weight(problem)
        y = targets(problem)
        return BlockGradient(
            w * (p.o - y) + lam_r3,
            gamma(res.k3 + 4, dt) * (w * (np.abs(p.o) + np.abs(y)) + lam_r3_mag),
        )
    raise ValueError(f"block {block!r}: expected one of {list(BLOCKS)}")


# ---------------------------------------------------------------------------------------
# Block Lipschitz constants (theory/admm.md §5)
# ---------------------------------------------------------------------------------------


def gram_lmax(A: Array) -> float:
    """λ_max(Σ_{t,b} a_{t,b} a_{t,b}ᵀ) for a stack of columns A of shape (T, k, B): the
    time steps and sequences side by side as one (k, T·B) matrix."""
    if A.size == 0:
        return 0.0
    M = np.moveaxis(A, 1, 0).reshape(A.shape[1], -1)
    return float(np.linalg.eigvalsh(M @ M.T)[-1])


def block_lipschitz(problem: RNNProblem, p: Point, block: str, nu: float, rho: float) -> float:
    """The Lipschitz constant of ``∇_X L`` in block ``X`` (what θ_X must dominate): exact
    for the quadratic blocks, ``ν·λ_max(XXᵀ)``, ``ν·λ_max(H_pH_pᵀ)``, ``ρ·λ_max(H_SH_Sᵀ)``;
    for ``a`` the per-coordinate bound ``ν(2 + 2·max|tanh·sech²|·(max|h| + 1))``, from
    ``|d²/da² ½(h − tanh a)²| ≤ 1 + 2|h − tanh a|·max|tanh a sech² a|`` (valid for every
    ``a``, so along the whole step)."""
    x = np.asarray(problem.data.x, dtype=np.float64)
    if block == "U":
        return nu * gram_lmax(x)
    if block == "W":
        hp = previous_states(problem, p.h)
        return nu * gram_lmax(hp)
    if block == "V":
        hS = p.h[loss_steps(problem)]
        return rho * gram_lmax(hS)
    if block == "a":
        return nu * (2.0 + 2.0 * TANH_SECH2_MAX * (float(np.max(np.abs(p.h))) + 1.0))
    raise ValueError(
        f"block {block!r}: Lipschitz constants are for the linearized blocks U, W, a, V"
    )
