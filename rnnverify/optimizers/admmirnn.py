"""ADMMiRNN: ADMM on the unfolded RNN, in the formulation of theory/admm.md §3.3 and §5.

Tang et al., "ADMMiRNN: Training RNN with Stable Convergence via An Efficient ADMM
Approach" (ECML-PKDD 2020), on the dlADMM template (Wang et al., KDD 2019). The public
code takes uphill steps and divides the duals by 10 (theory/admm.md §11); this is the
[derived] formulation, not a transliteration.

Variables (rnnverify/admm.py): weights U = ``W_ih``, W = ``W_hh``, b, V, c; auxiliaries
a_t, h_t (t = 1..T), o_t (t ∈ S, the loss steps) and the dual λ_t on C3 only::

    L = R(o) + (ν/2)Σ_t(‖r1_t‖² + ‖r2_t‖²) + Σ_{t∈S}⟨λ_t, r3_t⟩ + (ρ/2)Σ_{t∈S}‖r3_t‖²

One iteration is a Gauss–Seidel pass U → W → b → a → h → V → c → o, then λ:

=====  ========================================================================  ==========
block  update                                                                    θ
=====  ========================================================================  ==========
U      U − ∇_U/θ_U,  ∇_U = −ν Σ_t r1_t x_tᵀ                                       ν·λ_max(XXᵀ)
W      W − ∇_W/θ_W,  ∇_W = −ν Σ_t r1_t h_{t−1}ᵀ                                   ν·λ_max(H_pH_pᵀ)
b      mean_{t,B}(a_t − U x_t − W h_{t−1})                                        exact
a      a − ∇_a/θ_a,  ∇_a = ν(a − m) − ν(h − tanh a)·sech²a,  m = Ux + Wh_{t−1} + b  θ_a (*)
h_t    (νI + νWᵀW·[t<T] + ρVᵀV·[t∈S]) h_t = ν tanh a_t
       + νWᵀ(a_{t+1} − U x_{t+1} − b)·[t<T] + Vᵀ(ρ(o_t − c) + λ_t)·[t∈S]             exact
V      V − ∇_V/θ_V,  ∇_V = −Σ_{t∈S}(λ_t + ρ r3_t) h_tᵀ                            ρ·λ_max(H_SH_Sᵀ)
c      mean_{t∈S,B}(o_t − V h_t + λ_t/ρ)                                          exact
o      linearized: V h + c − (λ + ∇R(o))/ρ;  exact: (w y + ρ(V h + c) − λ)/(w + ρ)
λ      λ + ρ·(o − V h − c)
=====  ========================================================================  ==========

(*) θ_a = ν(2 + 2·(2/(3√3))·(max|h| + 1)), a bound on every coordinate's second derivative.

Each linearized block uses θ = its block Lipschitz constant, so every block step descends
by at least (θ/2)‖ΔX‖² (descent lemma); with o last, λ^{k+1} = −∇R(o^k) (linearized o)
or −∇R(o^{k+1}) (exact o), and for ρ > 2H (H = w, the Lipschitz constant of ∇R) the
Lyapunov value Ψ^k = L^k + (H²/ρ)‖o^k − o^{k−1}‖² is non-increasing (theory §8.2).

The start is the forward pass of the parameters (r1 = r2 = r3 = 0) with λ⁰ = −∇R(o⁰).
The state records each block's new value, θ and the gradient it used (``sweep``), which
the ``admm.*`` claims (convergence/admm.py) replay against their own Lagrangian.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.admm import (
    CONVENTIONS,
    TANH_SECH2_MAX,
    check_problem,
    forward_point,
    gram_lmax,
    loss_steps,
    loss_weight,
)
from rnnverify.contract import Optimizer
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params

Array = NDArray[Any]

O_UPDATES = ("linearized", "exact")


class BlockStep(NamedTuple):
    """One block update of a sweep: the block's new value, its θ (``nan`` for an exact
    minimization) and the gradient a linearized step used (empty for exact steps)."""

    name: str
    kind: str  # "linearized" | "exact"
    theta: float
    grad: Array
    value: Array


class ADMMState(NamedTuple):
    k: int
    rho: float
    nu: float
    o_update: str
    a: Array  # (T, n, B): a_1..a_T
    h: Array  # (T, n, B): h_1..h_T
    o: Array  # (|S|, p, B)
    lam: Array  # (|S|, p, B): λ (PLUS) or μ = −λ (MINUS)
    convention: str
    o_prev: Array  # o^{k−1}
    sweep: tuple[BlockStep, ...]  # the blocks of the last iteration, in order
    L: float  # the augmented Lagrangian after the last iteration (self-reported)
    Psi: float
    r1: float
    r2: float
    r3: float


def admmirnn(
    rho: float = 2.5,
    *,
    nu: float = 1.0,
    o_update: str = "linearized",
    convention: str = "plus",
) -> Optimizer:
    """ADMMiRNN (module docstring) with penalty ``rho`` on C3 and ``nu`` on C1, C2.

    ``rho`` > 2H is the Lyapunov theorem's condition; H = 1/(B·|S|) ≤ 1, so the default
    2.5 satisfies it on every problem. ``convention="minus"`` keeps the multiplier of the
    public code's convention, μ = −λ (``L ∋ −⟨μ, r3⟩``, μ ← μ − ρ·r3), in the state;
    negation being exact, its primal iterates are bitwise those of ``"plus"``."""
    return _admmirnn(rho, nu, o_update, convention=convention)


def _admmirnn(
    rho: float,
    nu: float,
    o_update: str,
    *,
    dual_sign: float = 1.0,
    dual_scale: float = 1.0,
    u_sign: float = 1.0,
    tanh_derivative: str = "sech2",
    b_average: bool = True,
    state_offset: int = 0,
    convention: str = "plus",
    c_dual_sign: float = 1.0,
    theta_u_scale: float = 1.0,
) -> Optimizer:
    """The reference with hooks for the mutants of tests/mutants_admm.py (defaults: the
    reference): the dual step's sign and scale, the U step's direction, tanh′ computed as
    ``1 − a²`` on the pre-activation (the public code's ``der_tanh``), the b step summing
    instead of averaging, a start whose states are shifted by ``state_offset`` steps, and
    a c-step whose multiplier term has the other convention's sign (``c_dual_sign``), and
    θ_U scaled below the U-block's Lipschitz constant (``theta_u_scale``)."""
    for name, v in (("rho", rho), ("nu", nu)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name}={v!r}: expected a finite float > 0")
    if o_update not in O_UPDATES:
        raise ValueError(f"o_update={o_update!r}: expected one of {list(O_UPDATES)}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention={convention!r}: expected one of {list(CONVENTIONS)}")
    rho, nu = float(rho), float(nu)
    sgn = 1.0 if convention == "plus" else -1.0  # λ = sgn·(the stored multiplier)

    def init(problem: RNNProblem, params: Params) -> ADMMState:
        check_problem(problem)
        p = forward_point(problem, params)
        h = p.h if state_offset == 0 else np.roll(p.h, state_offset, axis=0)
        return ADMMState(
            k=0, rho=rho, nu=nu, o_update=o_update, a=p.a, h=h, o=p.o, lam=sgn * p.lam,
            convention=convention, o_prev=p.o.copy(), sweep=(), L=math.nan, Psi=math.nan,
            r1=0.0, r2=0.0, r3=0.0,
        )  # fmt: skip

    def step(problem: RNNProblem, params: Params, state: ADMMState) -> tuple[Params, ADMMState]:
        x = np.asarray(problem.data.x, dtype=np.float64)
        h0 = np.asarray(problem.data.h0, dtype=np.float64)
        S = loss_steps(problem)
        w = loss_weight(problem)
        y = np.asarray(problem.data.y, dtype=np.float64)
        y = y if problem.spec.loss == "every" else y[None]
        U, W = params["W_ih"].astype(np.float64), params["W_hh"].astype(np.float64)
        b, V, c = (params[k].astype(np.float64) for k in ("b", "V", "c"))
        a, h, o, lam = state.a.copy(), state.h.copy(), state.o.copy(), state.lam.copy()
        T, n = h.shape[:2]
        sweep: list[BlockStep] = []
        empty = np.zeros(0)

        def hprev() -> Array:
            return np.concatenate([h0[None], h[:-1]], axis=0)

        def r1() -> Array:
            return a - U @ x - W @ hprev() - b[None, :, None]

        # U: linearized, θ = ν·λ_max(XXᵀ)
        g = -nu * np.einsum("tnb,tmb->nm", r1(), x)
        theta = theta_u_scale * max(nu * gram_lmax(x), np.finfo(float).tiny)
        U = U - u_sign * g / theta
        sweep.append(BlockStep("U", "linearized", theta, g, U.copy()))
        # W: linearized, θ = ν·λ_max(H_pH_pᵀ)
        hp = hprev()
        g = -nu * np.einsum("tnb,tkb->nk", r1(), hp)
        theta = max(nu * gram_lmax(hp), np.finfo(float).tiny)
        W = W - g / theta
        sweep.append(BlockStep("W", "linearized", theta, g, W.copy()))
        # b: exact, the mean over (t, B) of a − Ux − Wh_{t−1}
        inner = a - U @ x - W @ hp
        b = inner.mean(axis=(0, 2)) if b_average else inner.sum(axis=(0, 2))
        sweep.append(BlockStep("b", "exact", math.nan, empty, b.copy()))
        # a: linearized, per-coordinate second-derivative bound
        mt = U @ x + W @ hp + b[None, :, None]
        th = np.tanh(a)
        d_tanh = 1.0 - th * th if tanh_derivative == "sech2" else 1.0 - a * a
        g = nu * (a - mt) - nu * (h - th) * d_tanh
        theta = nu * (2.0 + 2.0 * TANH_SECH2_MAX * (float(np.max(np.abs(h))) + 1.0))
        a = a - g / theta
        sweep.append(BlockStep("a", "linearized", theta, g, a.copy()))
        # h: exact, one symmetric positive-definite system per step (columns = batch)
        I_n = np.eye(n)
        WtW, VtV = W.T @ W, V.T @ V
        ux = U @ x
        hn = np.empty_like(h)
        th = np.tanh(a)
        for t in range(T):
            A = nu * I_n
            rhs = nu * th[t]
            if t < T - 1:
                A = A + nu * WtW
                rhs = rhs + nu * W.T @ (a[t + 1] - ux[t + 1] - b[:, None])
            if t in S:
                i = S.index(t)
                A = A + rho * VtV
                rhs = rhs + V.T @ (rho * (o[i] - c[:, None]) + sgn * lam[i])
            hn[t] = np.linalg.solve(A, rhs)
        h = hn
        sweep.append(BlockStep("h", "exact", math.nan, empty, h.copy()))
        # V: linearized, θ = ρ·λ_max(H_SH_Sᵀ)
        hS = h[S]
        r3 = o - V @ hS - c[None, :, None]
        g = -np.einsum("tpb,tnb->pn", sgn * lam + rho * r3, hS)
        theta = max(rho * gram_lmax(hS), np.finfo(float).tiny)
        V = V - g / theta
        sweep.append(BlockStep("V", "linearized", theta, g, V.copy()))
        # c: exact
        c = (o - V @ hS + c_dual_sign * sgn * lam / rho).mean(axis=(0, 2))
        sweep.append(BlockStep("c", "exact", math.nan, empty, c.copy()))
        # o: linearized R (prox-linear) or the exact prox of the quadratic R; last
        q = V @ hS + c[None, :, None]
        o_old = o
        if o_update == "linearized":
            gR = w * (o - y)
            o = q - (sgn * lam + gR) / rho
            sweep.append(BlockStep("o", "linearized", rho, gR, o.copy()))
        else:
            o = (w * y + rho * q - sgn * lam) / (w + rho)
            sweep.append(BlockStep("o", "exact", math.nan, empty, o.copy()))
        # dual step
        r3 = o - q
        lam = dual_scale * (lam + sgn * dual_sign * rho * r3)
        # the self-reported Lagrangian, Lyapunov value and residual norms (diagnostics)
        r1v = r1()
        r2v = h - np.tanh(a)
        L = (
            0.5 * w * float(np.sum((o - y) ** 2))
            + 0.5 * nu * float(np.sum(r1v**2) + np.sum(r2v**2))
            + float(np.sum(sgn * lam * r3))
            + 0.5 * rho * float(np.sum(r3**2))
        )
        Psi = L + (w * w / rho) * float(np.sum((o - o_old) ** 2))
        new_params = {
            "W_hh": W.astype(params["W_hh"].dtype),
            "W_ih": U.astype(params["W_ih"].dtype),
            "b": b.astype(params["b"].dtype),
            "V": V.astype(params["V"].dtype),
            "c": c.astype(params["c"].dtype),
        }
        return new_params, ADMMState(
            k=state.k + 1, rho=rho, nu=nu, o_update=o_update, a=a, h=h, o=o, lam=lam,
            convention=convention, o_prev=o_old.copy(), sweep=tuple(sweep), L=L, Psi=Psi,
            r1=float(np.linalg.norm(r1v)), r2=float(np.linalg.norm(r2v)),
            r3=float(np.linalg.norm(r3)),
        )  # fmt: skip

    def diagnostics(state: ADMMState) -> Mapping[str, float]:
        return {
            "L": state.L,
            "Psi": state.Psi,
            "r1": state.r1,
            "r2": state.r2,
            "r3": state.r3,
            "rho": state.rho,
            "nu": state.nu,
        }

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


ADMM_FAMILY = ProblemFamily(activations=("tanh",))
"""ADMM's formulation is for the real Elman tanh cell (theory/admm.md §1)."""

CASES = [
    Case(
        admmirnn,
        {"rho": 2.5},
        claims=refs(
            "admm.dual_identity",
            "admm.exact_block_optimality",
            "admm.block_descent",
            "admm.lyapunov_monotone",
            "admm.bounded_residual_vanishes",
            "admm.summability",
            "admm.forward_feasible",
            "admm.linearization_gradients",
        ),
        problems=ADMM_FAMILY,
        steps=12,
    ),
    Case(
        admmirnn,
        {"rho": 2.5, "o_update": "exact"},
        claims=refs(
            "admm.dual_identity",
            "admm.exact_block_optimality",
            "admm.lyapunov_monotone",
            "admm.bounded_residual_vanishes",
        ),
        problems=ADMM_FAMILY,
        steps=12,
    ),
]
