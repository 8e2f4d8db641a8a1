"""ENRNN claims: eigenvalue normalization and its gradient (theory/orthogonal.md §3).

The optimizer keeps its trainable matrix M and its normalization flag in the state
(``state.M``, ``state.active``; ``diagnostics()['lr']`` = η) and its parameter W_hh is
W̄(M). The checks read M from ``Trajectory.states`` and recompute everything else.

``en.spectral_radius:W``
    ρ(W̄_k) ≤ 1 + τ always, |ρ(W̄_k) − 1| ≤ τ once active (§3.2, EN-1), with τ from
    the eigenvalue conditioning, not the fixed 1e-12 of the theory table: a computed
    eigenvalue of A is an exact one of A + E, ‖E‖ ≈ n·ε·‖A‖_F (backward stable QR
    algorithm), and moves by ≤ κ_i·‖E‖ (first-order Bauer–Fike, κ_i = ‖x_i‖‖y_i‖/|y_iᴴx_i|).
    W̄ = fl(M/σ̂) carries that error twice (σ̂ of M by the optimizer; ρ of W̄ by the check;
    κ and ‖M‖_F/σ = ‖W̄‖_F are scale invariant) plus ε per entry for the division:
    ``τ = (2n² + 1)·ε·κ·‖W̄‖_F``. A non-normal W̄ (κ ≫ 1) legitimately gets a wider τ.
``en.gradient:W``
    The optimizer's ∂L/∂M, read from one step as ``(M₀ − M₁)/η``, against a central
    difference of ``L(W̄(M₀ + tD))`` along a random unit D (§3.3, EN-2), only where the
    dominant modulus is simple up to conjugation (relative gap ≥ 1e-6, EN-5; else n.a.).
``en.zero_homogeneity:W``
    ⟨∂L/∂M_k, M_k⟩ = 0 and ‖M_{k+1}‖_F ≥ ‖M_k‖_F while active (§3.4, EN-3, EN-4).
``en.block_spectrum:W``
    ρ([[W₁, 0], [W₃, W̄_k]]) ≤ 1 + τ for a Haar W₁ and an arbitrary (Gaussian, scale 10)
    W₃ (§3.1, EN-7), τ as for ``en.spectral_radius`` with the block matrix's κ. Never
    ‖·‖₂ ≤ 1 (non-normality, §3.4).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import Trajectory
from rnnverify.problems import ProblemSpec, haar, make_problem, rng_for
from rnnverify.tolerance import (
    Tolerance,
    central_difference_tolerance,
    eps,
    loss_rounding,
)
from rnnverify.verdict import Status, exact_repr

GAP_MIN = 1e-6
"""EN-5: below this relative modulus gap ρ is not differentiable in practice."""


class _Eigen(NamedTuple):
    sigma: float
    gap: float
    kappa: float


def dominant(M: np.ndarray) -> _Eigen:
    """σ = ρ(M); relative modulus gap to the next eigenvalue other than conj(λ); κ = the
    largest eigenvalue condition number ‖x_i‖‖y_i‖/|y_iᴴx_i| (the check's own computation,
    independent of the optimizer's)."""
    lam, X = np.linalg.eig(M)
    Y = np.linalg.inv(X)
    kappa = float(np.max(np.linalg.norm(X, axis=0) * np.linalg.norm(Y, axis=1)))
    i = int(np.argmax(np.abs(lam)))
    sigma = float(abs(lam[i]))
    others = [
        abs(m)
        for j, m in enumerate(lam)
        if j != i and not (lam[i].imag != 0 and abs(m - np.conj(lam[i])) <= 1e-12 * sigma)
    ]
    gap = 1.0 if not others or sigma == 0 else (sigma - max(others)) / sigma
    return _Eigen(sigma, gap, kappa)


def normalize(M: np.ndarray, active: bool) -> tuple[np.ndarray, bool, _Eigen]:
    """W̄(M) = M/ρ(M) if active or ρ(M) > 1, else M (theory/orthogonal.md §3.2)."""
    eig = dominant(M)
    on = bool(active or eig.sigma > 1)
    return (M / eig.sigma if on else M.copy()), on, eig


def _trajectory(subject: Subject, spec: ProblemSpec, steps: int | None = None) -> Any:
    traj = subject.trajectory(make_problem(spec), steps, state_fields=("M", "active"))
    return (None, traj) if isinstance(traj, Observation) else (traj, None)


def eig_tolerance(A: np.ndarray, times: int = 2) -> Tolerance:
    """``(times·n² + 1)·ε·κ·‖A‖_F``: error of a computed |eigenvalue| of fl(A).

    The QR algorithm is backward stable through ~n orthogonal transformations of length
    n, each adding ≤ γ_{cn} (Higham, Accuracy and Stability, Lemma 19.3): backward error
    ≈ n²·ε·‖A‖_F per eig; ``times`` eig computations (the optimizer's σ̂, the check's ρ);
    + ε for the division M/σ̂; each moved by κ (first-order Bauer–Fike)."""
    n = A.shape[0]
    _, X = np.linalg.eig(A)
    Y = np.linalg.inv(X)
    kappa = float(np.max(np.linalg.norm(X, axis=0) * np.linalg.norm(Y, axis=1)))
    e = eps(A.dtype)
    nrm = float(np.linalg.norm(A))
    return Tolerance(
        (times * n * n + 1) * e * kappa * nrm,
        f"({times}n² + 1)·ε·κ·‖A‖_F (backward-stable eig, first-order Bauer–Fike; "
        "σ of the optimizer and ρ of the check, plus the division)",
        {"n": n, "eps": e, "kappa": kappa, "norm_F": nrm},
    )


def _rho(A: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(A))))


# ---------------------------------------------------------------------------------------
# en.spectral_radius / en.block_spectrum
# ---------------------------------------------------------------------------------------


def _spectrum(subject: Subject, spec: ProblemSpec, block: bool) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    target = subject.target or "W_hh"
    rng = rng_for(spec, 7)
    worst_ratio, worst = -math.inf, None
    radii: list[float] = []  # ρ after steps 1..k, for the report's plot
    for k in range(1, traj.steps + 1):
        W = traj.params[k][target]
        active = bool(traj.states[k].active)
        if block:
            n1 = spec.hidden
            W1 = haar(n1, False, rng)
            W3 = 10.0 * rng.standard_normal((W.shape[0], n1))
            A = np.block([[W1, np.zeros((n1, W.shape[0]))], [W3, W]])
        else:
            A = W
        tol = eig_tolerance(A)
        rho = _rho(A)
        radii.append(rho)
        if active and not block:
            measured, bound = abs(rho - 1.0), tol.value
            ineq = "|ρ(W̄_k) − 1| ≤ τ (normalization active)"
        else:
            measured, bound = rho - 1.0, tol.value
            ineq = "ρ − 1 ≤ τ"
        ratio = measured / bound if bound > 0 else math.inf
        q = {
            "step k": k,
            "ρ": rho,
            "active": active,
            "‖A‖₂": float(np.linalg.norm(A, 2)),
        }
        if ratio > worst_ratio:
            worst_ratio, worst = ratio, (k, measured, bound, tol, q, ineq, A)
        if not measured <= bound:
            return Observation(
                Status.FAIL,
                summary=f"step {k}: {ineq} violated, ρ = {rho!r}, τ = {bound:.3g}",
                measured=measured,
                bound=bound,
                tolerance=tol,
                inequality=ineq,
                entry=f"{target} after step {k}" + (" (block matrix)" if block else ""),
                quantities=q,
                inputs=exact_repr({"A": A}),
                score=ratio,
                series=_spectrum_series(radii, A),
            )
    if worst is None:
        return Observation.na("the run took no step")
    k, measured, bound, tol, q, ineq, A = worst
    return Observation(
        Status.PASS,
        summary=f"worst step {k}: {measured:.3g} ≤ τ = {bound:.3g} (ρ = {q['ρ']!r})",
        measured=measured,
        bound=bound,
        tolerance=tol,
        inequality=ineq,
        quantities=q,
        score=worst_ratio,
        series=_spectrum_series(radii, A),
    )


def _spectrum_series(radii: list[float], A: np.ndarray) -> dict[str, list[float]]:
    """ρ per step, and the eigenvalues of the checked matrix (the worst or violating step)
    as real and imaginary parts: the report plots them against the unit circle."""
    lam = np.linalg.eigvals(A)
    return {
        "spectral_radius": radii,
        "eig_re": lam.real.tolist(),
        "eig_im": lam.imag.tolist(),
    }


# ---------------------------------------------------------------------------------------
# en.gradient
# ---------------------------------------------------------------------------------------


def _gradient(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec, steps=1)
    if bad is not None:
        return bad
    if traj.steps < 1:
        return Observation.na("the run took no step")
    target = subject.target or "W_hh"
    lr = traj.diagnostics[0].get("lr")
    if lr is None:
        return Observation(
            Status.ERROR, summary="en.gradient needs diagnostics()['lr'] (η)", score=math.inf
        )
    M0, M1 = np.asarray(traj.states[0].M), np.asarray(traj.states[1].M)
    active = bool(traj.states[0].active)
    problem = traj.problem
    eig = dominant(M0)
    if eig.gap < GAP_MIN:
        return Observation.na(f"dominant modulus not simple (gap {eig.gap:.2g} < {GAP_MIN:g})")
    g_opt = (M0 - M1) / lr  # the optimizer's ∂L/∂M (exact step M₁ = M₀ − η·g)
    D = rng_for(spec, 8).standard_normal(M0.shape)
    D /= np.linalg.norm(D)
    base = dict(traj.params[0])

    def f(t: float) -> float:
        W_bar, _, _ = normalize(M0 + t * D, active)
        p = dict(base)
        p[target] = W_bar
        return problem.loss(p)

    lam_all = np.abs(np.linalg.eigvals(M0))
    gap_abs = eig.gap * eig.sigma
    e = eps(M0.dtype)
    # central step: eps^(1/3), but small enough that no eigenvalue (moving ≤ κ·t) can
    # close the modulus gap, which would leave the differentiable region (EN-5)
    h = min(e ** (1 / 3), 0.1 * gap_abs / eig.kappa)
    D1 = (f(h) - f(-h)) / (2 * h)
    D2 = (f(2 * h) - f(-2 * h)) / (4 * h)
    directional = float(np.sum(g_opt * D))
    W_bar0, _, _ = normalize(M0, active)
    p0 = dict(base)
    p0[target] = W_bar0
    G_bar = problem.grad(p0)[target]
    # δ_f: rounding of one loss evaluation, plus the rounding of W̄(M) itself, whose σ̂
    # errs by ≤ n·ε·κ·‖M‖_F (relative (nεκ‖M‖_F)/σ, moving L by ‖Ḡ‖_F‖W̄‖_F times that)
    n = M0.shape[0]
    wbar_err = n * e * eig.kappa * float(np.linalg.norm(M0)) / max(eig.sigma, 1e-300)
    delta_f = (
        loss_rounding(problem, p0).value
        + float(np.linalg.norm(G_bar) * np.linalg.norm(W_bar0)) * wbar_err
    )
    tol = central_difference_tolerance(delta_f, h, abs(D2 - D1), directional, M0.dtype, n * n)
    # reading g back from M₁ = fl(M₀ − η·g): ≤ ε(|M₀| + |M₁|)/η per entry
    readback = float(np.sum(e * (np.abs(M0) + np.abs(M1)) * np.abs(D))) / lr
    bound = tol.value + readback
    tol = Tolerance(
        bound,
        tol.derivation + " + ε·Σ(|M₀| + |M₁|)|D|/η (reading g from the step)",
        {**tol.terms, "readback": readback, "kappa": eig.kappa, "gap": eig.gap},
    )
    err = abs(D1 - directional)
    q = {
        "FD D(h)": D1,
        "⟨g, D⟩": directional,
        "h": h,
        "σ": eig.sigma,
        "gap": eig.gap,
        "κ": eig.kappa,
        "active": active,
        "|λ|": lam_all.tolist(),
    }
    if not err <= bound:
        return Observation(
            Status.FAIL,
            summary=f"∂L/∂M off its finite difference by {err:.3g} > {bound:.3g}",
            measured=err,
            bound=bound,
            tolerance=tol,
            inequality="|D(h) − ⟨∂L/∂M, D⟩| ≤ tol",
            entry="∂L/∂M at step 0",
            quantities=q,
            inputs=exact_repr({"M0": M0, "D": D}),
            score=err / bound,
        )
    return Observation(
        Status.PASS,
        summary=f"|D(h) − ⟨g, D⟩| = {err:.3g} ≤ {bound:.3g}",
        measured=err,
        bound=bound,
        tolerance=tol,
        inequality="|D(h) − ⟨∂L/∂M, D⟩| ≤ tol",
        quantities=q,
        score=err / bound if bound > 0 else 0.0,
    )


# ---------------------------------------------------------------------------------------
# en.zero_homogeneity
# ---------------------------------------------------------------------------------------


def _homogeneity(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    lr = traj.diagnostics[0].get("lr")
    if lr is None:
        return Observation(
            Status.ERROR, summary="en.zero_homogeneity needs diagnostics()['lr']", score=math.inf
        )
    return _homogeneity_traj(traj, float(lr))


def _homogeneity_traj(traj: Trajectory, lr: float) -> Observation:
    worst_ratio, worst = -math.inf, None
    checked = 0
    for k in range(traj.steps):
        if not bool(traj.states[k].active):
            continue
        checked += 1
        M, M1 = np.asarray(traj.states[k].M), np.asarray(traj.states[k + 1].M)
        n = M.shape[0]
        e = eps(M.dtype)
        g = (M - M1) / lr
        eig = dominant(M)
        nM, ng = float(np.linalg.norm(M)), float(np.linalg.norm(g))
        inner = float(np.sum(g * M))
        # |⟨g, M⟩|: the optimizer computes g = (Ḡ − c·Re(e^{−iφ}P))/σ, c = ⟨Ḡ, W̄⟩, whose
        # inner product with M is c·(1 − ⟨Re(e^{−iφ}P), W̄⟩) = 0 exactly; in floating point
        # both terms err by their eig backward error n²ε·κ (P is rank one, ‖P‖_F = κ_λ ≤ κ):
        # 2n²εκ·(‖Ḡ‖_F + κ|c|)·‖W̄‖_F. Reading g back from M₁ = fl(M − η·g) adds
        # ≤ ε(|M| + 2|M₁|)/η per entry, i.e. ε·Σ(|M| + 2|M₁|)|M|/η against M.
        W_bar, _, _ = normalize(M, True)
        p_k = dict(traj.params[k])
        p_k["W_hh"] = W_bar
        G_bar = traj.problem.grad(p_k)["W_hh"]
        c = float(np.sum(G_bar * W_bar))
        nW, nG = float(np.linalg.norm(W_bar)), float(np.linalg.norm(G_bar))
        readback = float(np.sum(e * (np.abs(M) + 2 * np.abs(M1)) * np.abs(M))) / lr
        tol_inner = 2 * n * n * e * eig.kappa * (nG + eig.kappa * abs(c)) * nW + readback
        nM1 = float(np.linalg.norm(M1))
        # ‖M₁‖² = ‖M‖² − 2η⟨g,M⟩ + η²‖g‖² ≥ ‖M‖² − 2η·tol_inner; norms rounded by nε
        tol_norm = lr * tol_inner / max(nM, 1e-300) + 2 * n * e * nM
        checks = [
            (abs(inner), tol_inner, "|⟨∂L/∂M_k, M_k⟩| ≤ τ"),
            (nM - nM1, tol_norm, "‖M_k‖_F − ‖M_{k+1}‖_F ≤ τ'"),
        ]
        for measured, bound, ineq in checks:
            ratio = measured / bound if bound > 0 else math.inf
            q = {"step k": k, "⟨g, M⟩": inner, "‖M_k‖_F": nM, "‖M_{k+1}‖_F": nM1, "‖g‖_F": ng}
            tol = Tolerance(
                bound,
                "2n²εκ(‖Ḡ‖_F + κ|⟨Ḡ,W̄⟩|)‖W̄‖_F + ε·Σ(|M|+2|M₁|)|M|/η (eig error of the "
                "correction + "
                "read-back); norm: η·τ/‖M‖_F + 2nε‖M‖_F",
                {"n": n, "eps": e, "kappa": eig.kappa, "lr": lr},
            )
            if ratio > worst_ratio:
                worst_ratio, worst = ratio, (measured, bound, tol, q, ineq)
            if not measured <= bound:
                return Observation(
                    Status.FAIL,
                    summary=f"step {k}: {ineq} violated ({measured:.3g} > {bound:.3g})",
                    measured=measured,
                    bound=bound,
                    tolerance=tol,
                    inequality=ineq,
                    entry=f"M at step {k}",
                    quantities=q,
                    inputs=exact_repr({"M_k": M, "M_k+1": M1}),
                    score=ratio,
                )
    if worst is None or not checked:
        return Observation.na("normalization never active")
    measured, bound, tol, q, ineq = worst
    return Observation(
        Status.PASS,
        summary=f"worst: {ineq}: {measured:.3g} ≤ {bound:.3g}",
        measured=measured,
        bound=bound,
        tolerance=tol,
        inequality=ineq,
        quantities=q,
        score=worst_ratio,
    )


def _claim(cid: str, summary: str, source: str, fn: Any, **kw: Any) -> Claim:
    return register_claim(
        Claim(
            id=cid,
            summary=summary,
            source=source,
            evaluate=fn,
            needs_target=True,
            family={"cells": ("elman",)},
            figure="{:.1e}",
            **kw,
        )
    )


SPECTRAL_RADIUS = _claim(
    "en.spectral_radius",
    "ρ(W̄_k) ≤ 1 + τ always and |ρ(W̄_k) − 1| ≤ τ once normalization is active",
    "theory/orthogonal.md §3.2, §3.4 EN-1",
    lambda s, p: _spectrum(s, p, block=False),
)
BLOCK_SPECTRUM = _claim(
    "en.block_spectrum",
    "ρ([[W₁, 0], [W₃, W̄_k]]) ≤ 1 + τ for orthogonal W₁ and any W₃",
    "theory/orthogonal.md §3.1, §3.4 EN-7",
    lambda s, p: _spectrum(s, p, block=True),
)
GRADIENT = _claim(
    "en.gradient",
    "∂L/∂M = (1/σ)[Ḡ − ⟨Ḡ, W̄⟩·Re(e^{−iφ}P)] matches a central difference of L(W̄(M))",
    "theory/orthogonal.md §3.3, §3.4 EN-2, EN-5",
    _gradient,
)
ZERO_HOMOGENEITY = _claim(
    "en.zero_homogeneity",
    "⟨∂L/∂M_k, M_k⟩ = 0 and ‖M_k‖_F non-decreasing while normalization is active",
    "theory/orthogonal.md §3.4 EN-3, EN-4",
    _homogeneity,
)
