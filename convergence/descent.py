"""``descent.sufficient``: every step decreases the loss sufficiently (Armijo).

Claim. For a step ``s = x⁺ − x`` with ``⟨∇f(x), s⟩ < 0`` that is small relative to the
curvature of ``f`` along it,

    f(x + s) ≤ f(x) + c·⟨∇f(x), s⟩,        c = 1e-4        (Armijo condition)

Why it holds (descent lemma, Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
§3.1 and Lemma 3.1's setting): with ``φ(t) = f(x + t·s)``,
``φ(1) ≤ φ(0) + φ'(0) + ½·max φ''`` on ``[0, 1]``. Write ``L_s`` for the largest
curvature ``ŝᵀ∇²f ŝ`` of ``f`` along the segment (``ŝ = s/‖s‖``) and
``η = ‖s‖²/|⟨∇f, s⟩|`` for the step's effective length (``η`` is the learning rate for
gradient descent). If ``η·L_s ≤ 1`` then ``φ(1) ≤ φ(0) + ½·⟨∇f, s⟩``: Armijo with
``c = ½``. The check asks only ``c = 1e-4``; the slack absorbs the sampling of ``L_s``
(estimated by second differences at 5 points of the segment: the curvature between
samples would have to exceed twice the sampled maximum to break the check).

Preconditions, per step: the segment does not cross an activation kink, and
``η·L_s ≤ 1``. A step outside them is not judged (it counts as inapplicable); a step
that is not a descent direction (``⟨∇f, s⟩ ≥ 0`` with ``∇f ≠ 0``) fails whatever its
size, because no step size makes an ascent direction decrease ``f`` to first order.
"""

from __future__ import annotations

import math

import numpy as np

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.problems import ProblemSpec, RNNProblem, make_problem
from rnnverify.tolerance import Tolerance, eps, loss_rounding
from rnnverify.tree import Params, axpy, inner, norm, sub
from rnnverify.verdict import Status, exact_repr

ARMIJO_C = 1e-4
CURVATURE_SAMPLES = (0.0, 0.25, 0.5, 0.75, 1.0)


def line_curvature(problem: RNNProblem, x: Params, s: Params) -> float:
    """Upper estimate of the largest second derivative of ``t ↦ f(x + t·ŝ)`` on the
    segment ``[x, x+s]``: central second differences at 5 points, with step
    ``τ = eps^(1/4)`` in units of ŝ (it balances the rounding ``4δ_f/τ²`` against the
    truncation ``τ²|f''''|/12``). Each difference is increased by its rounding bound
    ``4δ_f/τ²``, so a curvature lost in rounding counts as large, never as 0."""
    length = norm(s)
    s_hat = {k: (v / length).astype(v.dtype) for k, v in s.items()}
    tau = min(eps(problem.spec.real_dtype) ** 0.25, length / 8)
    worst = -math.inf
    for frac in CURVATURE_SAMPLES:
        c = axpy(frac * length, s_hat, x)
        f_c = problem.loss(c)
        f_p = problem.loss(axpy(tau, s_hat, c))
        f_m = problem.loss(axpy(-tau, s_hat, c))
        rounding = 4 * loss_rounding(problem, c).value
        worst = max(worst, (f_p - 2 * f_c + f_m + rounding) / tau**2)
    return worst


def evaluate_descent(subject: Subject, spec: ProblemSpec) -> Observation:
    problem = make_problem(spec)
    traj = subject.trajectory(problem)
    if isinstance(traj, Observation):
        return traj
    judged = 0
    worst: tuple[float, int, dict[str, float]] | None = None
    ratios: list[float] = []
    for k in range(traj.steps):
        x, x_next = traj.params[k], traj.params[k + 1]
        f, f_next = traj.losses[k], traj.losses[k + 1]
        s = sub(x_next, x)
        s_norm = norm(s)
        g = problem.grad(x)
        gs = inner(g, s)
        if s_norm == 0.0 or norm(g) == 0.0:
            continue  # f⁺ = f: Armijo holds trivially (or x is stationary)
        delta_f = loss_rounding(problem, x).value
        q = {"f(x_k)": f, "f(x_k+1)": f_next, "<grad f, s>": gs, "|s|": s_norm, "k": float(k)}
        if gs >= 0:
            return _fail(
                problem,
                subject,
                k,
                x,
                q,
                gs,
                f,
                f_next,
                delta_f,
                f"step {k} is not a descent direction: ⟨∇f, s⟩ = {gs:.6g} ≥ 0",
                {"loss": list(traj.losses), "armijo_ratio": ratios},
            )
        if problem.kink_step(x, s) < 2.0:
            continue  # the segment may cross a kink: f is not smooth along it
        eta = s_norm**2 / abs(gs)
        L_s = line_curvature(problem, x, s)
        q.update({"eta": eta, "L_s": L_s})
        if not (math.isfinite(f) and math.isfinite(eta * L_s)) or eta * L_s > 1.0:
            continue  # step too long for the local curvature (or diverged): outside the theorem
        judged += 1
        ratio = (f - f_next) / abs(gs)  # Armijo holds iff ratio ≥ c (up to rounding)
        ratios.append(ratio)
        if f_next > f + ARMIJO_C * gs + 2 * delta_f:
            return _fail(
                problem,
                subject,
                k,
                x,
                q,
                gs,
                f,
                f_next,
                delta_f,
                f"step {k} decreased f by {f - f_next:.6g} < c·|⟨∇f, s⟩| = "
                f"{ARMIJO_C * abs(gs):.6g} although η·L_s = {eta * L_s:.3g} ≤ 1",
                {"loss": list(traj.losses), "armijo_ratio": ratios},
            )
        if worst is None or ratio < worst[0]:
            worst = (ratio, k, q)
    if judged == 0 or worst is None:
        return Observation.na("no step satisfied η·L_s ≤ 1 away from kinks")
    ratio, k, q = worst
    return Observation(
        Status.PASS,
        summary=f"{judged} steps judged; smallest decrease ratio (f − f⁺)/|⟨∇f,s⟩| = {ratio:.3g}",
        measured=ratio,
        bound=ARMIJO_C,
        inequality="(f(x) − f(x+s))/|⟨∇f(x), s⟩| ≥ c",
        tolerance=_tolerance(),
        quantities=q,
        score=ARMIJO_C - ratio,
        series={"loss": list(traj.losses), "armijo_ratio": ratios},
    )


def _tolerance() -> Tolerance:
    return Tolerance(
        value=ARMIJO_C,
        derivation=(
            "descent lemma gives c = 1/2 when η·L_s ≤ 1; checking c = 1e-4 leaves "
            "slack for the sampled L_s; plus 2·δ_f for the rounding of f(x), f(x+s)"
        ),
        terms={"c": ARMIJO_C},
    )


def _fail(
    problem: RNNProblem,
    subject: Subject,
    k: int,
    x: Params,
    q: dict[str, float],
    gs: float,
    f: float,
    f_next: float,
    delta_f: float,
    summary: str,
    series: dict[str, list[float]],
) -> Observation:
    bound = f + ARMIJO_C * gs
    return Observation(
        Status.FAIL,
        summary=summary,
        measured=f_next,
        bound=bound,
        inequality="f(x_k+1) ≤ f(x_k) + c·⟨∇f(x_k), x_k+1 − x_k⟩ + 2δ_f",
        tolerance=Tolerance(
            2 * delta_f, "2·δ_f: rounding of the two loss values", {"delta_f": delta_f}
        ),
        entry=f"step {k}",
        quantities={**q, "delta_f": delta_f},
        inputs=exact_repr(
            {
                **{f"params_{k}[{n!r}]": v for n, v in x.items()},
                "x": problem.data.x,
                "y": problem.data.y,
            }
        ),
        score=math.inf if gs >= 0 else float(np.float64(f_next - bound)),
        series=series,
    )


DESCENT = register_claim(
    Claim(
        id="descent.sufficient",
        summary="each step with η·L_s ≤ 1 satisfies Armijo: f(x+s) ≤ f(x) + c·⟨∇f, s⟩, c = 1e-4",
        source="descent lemma; Nocedal & Wright, Numerical Optimization (2006), §3.1",
        evaluate=evaluate_descent,
        worst="min",
        figure="ratio {:.2f}",
    )
)
