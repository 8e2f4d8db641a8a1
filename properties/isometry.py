"""Jacobian isometry of an orthogonal recurrence (theory/orthogonal.md §6.5, SCO-8).

``orthogonal.jacobian_isometry:W``
    For the Elman cell ``h_s = σ(W h_{s−1} + U x_s; b)`` the state Jacobian over a lag
    ``j = T − t`` is::

        J_{T,t} = ∂h_T/∂h_t = Σ_T W · Σ_{T−1} W ⋯ Σ_{t+1} W,   Σ_s = diag σ'(z_s)

    For a linear cell (σ = id, Σ_s = I) and an orthogonal W, ``J = W^j`` and **every
    singular value equals 1**. With an activation::

        Π_s min_i|σ'_{s,i}| ≤ σ_min(J) ≤ ‖J‖₂ ≤ Π_s max_i|σ'_{s,i}|

    Checked on every recurrent matrix ``W_k`` of the optimizer's trajectory (k = 0..K),
    at every lag of the problem's sequence and every batch element.

Tolerance (derived; no measured constant): the optimizer is allowed the orthogonality
drift ``δ_k`` of its scheme (the option ``drift``, the bound of ``orthogonal.preserved``,
theory/orthogonal.md §7). With ``WᵀW = I + E``, ``‖E‖₂ ≤ ‖E‖_F ≤ δ_k`` puts every
singular value of W in ``[sqrt(1 − δ_k), sqrt(1 + δ_k)]``, hence over a lag j::

    lower = Π min|σ'|·(1 − δ_k)^{j/2} − r_j,    upper = Π max|σ'|·(1 + δ_k)^{j/2} + r_j
    r_j   = (j·(n·γ_n + 2ε) + n·ε)·Π max|σ'|·(1 + δ_k)^{j/2}

``r_j`` is the rounding of the computed product: each of the j matrix products errs by
at most ``γ_n·‖|A||B|‖₂ ≤ n·γ_n·‖A‖₂‖B‖₂`` (Higham, Accuracy and Stability, §3.5) and each
diagonal scaling by ε; the SVD adds ``n·ε·‖J‖₂`` (backward stable, Weyl). An optimizer
that is not orthogonal (plain SGD on W_hh) moves a singular value of W by O(η‖G‖)
≥ 1e-6 in one step, far above ``r_j + δ_k`` ≈ 1e-14.
"""

from __future__ import annotations

import math

import numpy as np

from properties.orthogonal import DRIFTS, drift_bound, gram_error
from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.tolerance import Tolerance, eps, gamma
from rnnverify.verdict import Status, exact_repr


def state_jacobians(W: np.ndarray, P: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """``J_{T,t} = Π_{s=t+1}^{T} diag(P[s−1]) W`` for every ``0 ≤ t < T``.

    Parameters
    ----------
    W : (n, n) array
        The recurrent matrix.
    P : (T, n) array
        ``P[s−1] = σ'(z_s)`` at each step s = 1..T (one batch element).
    """
    T = P.shape[0]
    out: dict[tuple[int, int], np.ndarray] = {}
    for t in range(T):
        J = np.eye(W.shape[0], dtype=W.dtype)
        for s in range(t + 1, T + 1):
            J = P[s - 1][:, None] * W.dot(J)
        out[(T, t)] = J
    return out


def _evaluate(subject: Subject, spec: ProblemSpec) -> Observation:
    claim = JACOBIAN_ISOMETRY
    problem = make_problem(spec)
    target = subject.target or "W_hh"
    if target != "W_hh":
        return Observation(
            Status.ERROR, summary=f"target {target!r}: the state Jacobian is about W_hh"
        )
    traj = subject.trajectory(problem)
    if isinstance(traj, Observation):
        return traj
    drift = claim.option(subject, "drift")
    W0 = traj.params[0][target]
    n = W0.shape[0]
    e = eps(W0.dtype)
    e0 = gram_error(W0)
    worst_ratio, worst = 0.0, None
    for k, params in enumerate(traj.params):
        W = params[target]
        norm_A = traj.diagnostics[k].get("norm_A") if k < len(traj.diagnostics) else None
        if drift != "multiplicative" and norm_A is None:
            return Observation(
                Status.ERROR,
                summary=f"drift={drift} needs diagnostics()['norm_A'] (missing after step {k})",
                score=math.inf,
            )
        delta = drift_bound(
            drift, n, W.dtype, k, e0, None if norm_A is None else float(norm_A)
        ).value
        fwd = problem.forward(params)
        Z = np.stack(fwd.z)  # (T, n, B)
        H = np.stack(fwd.h[1:])
        jac = problem.activation.jacobian
        assert jac is not None
        Pall = np.asarray(jac(Z, params["b"][:, None], H).p, dtype=W.dtype)
        for bi in range(Pall.shape[2]):
            P = Pall[:, :, bi]
            for (T, t), J in state_jacobians(W, P).items():
                j = T - t
                hi = float(np.prod(np.abs(P[t:T]).max(axis=1)))
                lo = float(np.prod(np.abs(P[t:T]).min(axis=1)))
                grow = (1 + delta) ** (j / 2)
                r = (j * (n * gamma(n, W.dtype) + 2 * e) + n * e) * hi * grow
                upper = hi * grow + r
                lower = lo * max(0.0, 1 - delta) ** (j / 2) - r
                sv = np.linalg.svd(J, compute_uv=False)
                smax, smin = float(sv[0]), float(sv[-1])
                over = smax - upper
                under = lower - smin
                scale = max(r + hi * (grow - 1), e)
                ratio = max(over, under) / scale + 1.0  # > 1 is a violation
                tol = Tolerance(
                    r + hi * (grow - 1),
                    "Π max|σ'|·((1 + δ_k)^{j/2} − 1) + r_j, r_j = (j·(n·γ_n + 2ε) + n·ε)"
                    "·Π max|σ'|·(1 + δ_k)^{j/2} (drift of the scheme + rounding of the "
                    "product and the SVD)",
                    {"delta_k": delta, "j": j, "n": n, "eps": e},
                )
                quantities = {
                    "step k": k,
                    "lag j = T − t": j,
                    "t": t,
                    "batch element": bi,
                    "σ_max(J)": smax,
                    "σ_min(J)": smin,
                    "Π max|σ'|": hi,
                    "Π min|σ'|": lo,
                    "upper": upper,
                    "lower": lower,
                    "‖W_kᵀW_k − I‖_F": gram_error(W),
                }
                if ratio > worst_ratio:
                    worst_ratio, worst = ratio, (k, j, smax, smin, upper, lower, tol, quantities)
                if not (smax <= upper and smin >= lower):
                    side = "σ_max > upper" if over > 0 else "σ_min < lower"
                    measured, bound = (smax, upper) if over > 0 else (smin, lower)
                    return Observation(
                        Status.FAIL,
                        summary=(
                            f"∂h_T/∂h_t is not an isometry at step {k}, lag {j}: {side} "
                            f"({measured!r} vs {bound!r})"
                        ),
                        measured=measured,
                        bound=bound,
                        tolerance=tol,
                        inequality=claim.summary,
                        entry=f"∂h_{T}/∂h_{t} (batch {bi}) with {target} after step {k}",
                        quantities=quantities,
                        inputs=exact_repr({f"{target} (step {k})": W, "σ'(z_s), s=1..T": P}),
                        score=ratio,
                    )
    if worst is None:
        return Observation.na("no Jacobian to check")
    k, j, smax, smin, upper, lower, tol, quantities = worst
    return Observation(
        Status.PASS,
        summary=f"worst at step {k}, lag {j}: σ ∈ [{smin:.17g}, {smax:.17g}] ⊂ "
        f"[{lower:.17g}, {upper:.17g}]",
        measured=smax,
        bound=upper,
        tolerance=tol,
        inequality=claim.summary,
        quantities=quantities,
        score=worst_ratio,
    )


JACOBIAN_ISOMETRY = register_claim(
    Claim(
        id="orthogonal.jacobian_isometry",
        summary=(
            "Π min|σ'|·(1 − δ)^{j/2} − r ≤ σ_min(∂h_T/∂h_t) ≤ ‖∂h_T/∂h_t‖₂ ≤ "
            "Π max|σ'|·(1 + δ)^{j/2} + r (all singular values 1 for a linear cell)"
        ),
        source="theory/orthogonal.md §6.5, §6.6, §1.4 SCO-8",
        evaluate=_evaluate,
        worst="max",
        requires={"recurrent": ("orthogonal",)},
        family={"cells": ("elman",)},
        needs_target=True,
        options={"drift": DRIFTS},
        figure="{:.1e}",
    )
)
