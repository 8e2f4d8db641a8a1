"""``rate.linear`` and ``rate.sublinear``: the loss converges at a claimed rate.

``rate.sublinear`` (option ``order`` = p ∈ {1, 2}) claims f(x_k) − f* ≤ C·k^{−p}; it is
checked like ``rate.linear`` below (same f*, same floor), on a fixed run of
:data:`SUBLINEAR_STEPS` steps, by the least-squares slope of ln(f_k − f̂*) against
ln(k + 1), which must be ≤ −p (Nesterov 2018, Cor. 2.1.2 and Thm 2.2.2).

Claim (option ``factor`` = q ∈ {0.5, 0.9, 0.99})::

    f(x_{k+1}) − f* ≤ q·(f(x_k) − f*)        for every step k

with f* the value at the point the run converges to, minimized over the parameters the
optimizer trains (those it changes). The theorem behind a claimed q is the optimizer's
own (gradient descent on a μ-strongly convex, L-smooth f with η = 1/L: q = 1 − μ/L,
Nesterov, *Lectures on Convex Optimization*, 2nd ed., Thm 2.1.15; damped Newton on a
quadratic: q = (1 − α)², rnnverify/optimizers/rate_references.py).

How f* is known. The check does not trust the optimizer for it: after the run it
continues from the run's last point x_K with the harness's own minimizer (gradient
descent with Barzilai–Borwein steps safeguarded by Armijo backtracking, over the trained
parameters only; :func:`continue_minimizing`) and takes f̂* = min(f(x_K), f_ref). A run that
stalls at a non-stationary point is thereby exposed (the continuation goes lower), and a
run that converged at rate q is not penalized (its f(x_K) is within the precision floor of
f*; the continuation cannot go below f*). Precondition: the run's limit and the
continuation stay in one basin (nonconvex losses), which a continuation started at a
near-stationary point does.

How many steps. K = ⌈ln(δ_f/f(x_0))/ln q⌉ + 10 (capped at :data:`MAX_STEPS`): as f* ≥ 0
(a sum of squares), a run at rate q has reached the precision floor δ_f
(:func:`rnnverify.tolerance.loss_rounding`) by then.

The rate is fitted: the least-squares slope s of ln(f_k − f̂*) against k over the longest
window from k = 0 before the gap falls below the floor τ = 100·2δ_f, and q̂ = e^s is
compared with q.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import Trajectory
from rnnverify.problems import ProblemSpec, RNNProblem, make_problem
from rnnverify.tolerance import Tolerance, loss_rounding
from rnnverify.tree import Params
from rnnverify.verdict import Status

FACTORS = ("0.5", "0.9", "0.99")
"""The factors a case may claim (``rate.linear,factor=0.9``)."""
MAX_STEPS = 4000
"""Cap on the run length (q = 0.99 needs ≈ 3300 steps from f₀/δ_f = 10¹⁴)."""
FLOOR_FACTOR = 100.0
"""Fitted gaps are ≥ 100× their error bound 2δ_f, so each ln-gap is off by ≤ ln(1/0.99)."""
CONTINUATION_STEPS = 2000


def continue_minimizing(
    problem: RNNProblem,
    x: Params,
    trained: Sequence[str],
    delta: float,
    steps: int = CONTINUATION_STEPS,
) -> float:
    """The harness's own estimate of f* near ``x``: gradient descent over the ``trained``
    parameters with Barzilai–Borwein step lengths (BB1, ⟨s, s⟩/⟨s, y⟩), safeguarded by
    Armijo backtracking (c = 10⁻⁴, halving), stopped when no step decreases f or when
    20 steps together decreased it by less than the rounding bound ``delta``. Returns the
    smallest loss seen (≤ f(x))."""
    f = problem.loss(x)
    g = problem.grad(x)
    t = 1e-2
    best = f
    mark = f
    for i in range(steps):
        if i and i % 20 == 0:
            if mark - f < delta:
                break
            mark = f
        gg = sum(float(np.sum(g[k] * g[k])) for k in trained)
        if not gg > 0 or not math.isfinite(f):
            break
        for _ in range(60):
            y_ = {
                k: v if k not in trained else (v - t * g[k]).astype(v.dtype) for k, v in x.items()
            }
            f_new = problem.loss(y_)
            if f_new <= f - 1e-4 * t * gg:
                break
            t /= 2
        else:
            break  # no decrease at any resolvable step: f is at its floor
        g_new = problem.grad(y_)
        s_dot_y = sum(float(np.sum(-t * g[k] * (g_new[k] - g[k]))) for k in trained)
        s_dot_s = t * t * gg
        x, f, g = y_, f_new, g_new
        best = min(best, f)
        t = s_dot_s / s_dot_y if s_dot_y > 0 else 2 * t
    return best


def fit_rate(gaps: Sequence[float], floor: float) -> tuple[float, int, float]:
    """Least-squares slope of ln gap_k against k over the longest window from k = 0 with
    gap_k ≥ floor: returns (q̂ = e^slope, window length N, c_N) where
    c_N = Σ|k − k̄|/Σ(k − k̄)² bounds the slope error per unit of error in the ln-gaps."""
    N = 0
    for gap in gaps:
        if not (math.isfinite(gap) and gap >= floor):
            break
        N += 1
    if N < 3:
        return math.nan, N, math.inf
    k = np.arange(N, dtype=np.float64)
    e = np.log(np.asarray(gaps[:N], dtype=np.float64))
    kc = k - k.mean()
    slope = float(np.dot(kc, e - e.mean()) / np.dot(kc, kc))
    return math.exp(slope), N, float(np.sum(np.abs(kc)) / np.dot(kc, kc))


def fitted_gaps(u: np.ndarray, gaps: Sequence[float], slope: float) -> list[float]:
    """The fitted line of ln gap against ``u`` as gaps, ``exp(ē + slope·(u − ū))`` (a
    least-squares line passes through the means): what the report draws over the run."""
    e = np.log(np.asarray(gaps, dtype=np.float64))
    return np.exp(e.mean() + slope * (u - u.mean())).tolist()


class _Gaps(NamedTuple):
    gaps: list[float]
    floor: float
    f_ref: float
    f_star: float
    delta: float
    trained: list[str]


def _optimality_gaps(problem: RNNProblem, traj: Trajectory, delta0: float) -> _Gaps:
    """``f_k − f̂*`` for every iterate, with f̂* the lower of the run's losses and the
    harness's own continuation from the last iterate (over the parameters the run
    changed), and the fit floor ``FLOOR_FACTOR·2δ_f``."""
    trained = _trained(traj.params)
    xK = traj.params[-1]
    delta = max(delta0, loss_rounding(problem, xK).value)
    f_ref = continue_minimizing(problem, xK, trained, delta) if trained else traj.losses[-1]
    f_star = min(min(traj.losses), f_ref)
    gaps = [f - f_star for f in traj.losses]
    return _Gaps(gaps, FLOOR_FACTOR * 2 * delta, f_ref, f_star, delta, trained)


def _trained(traj_params: Sequence[Params]) -> list[str]:
    first, last = traj_params[0], traj_params[-1]
    return [k for k in first if not np.array_equal(first[k], last[k])]


def evaluate_linear(subject: Subject, spec: ProblemSpec) -> Observation:
    q = float(LINEAR.option(subject, "factor"))
    problem = make_problem(spec)
    f0 = problem.loss(problem.params0)
    delta0 = loss_rounding(problem, problem.params0).value
    if not (f0 > FLOOR_FACTOR * 2 * delta0):
        return Observation.na(f"f(x_0) = {f0:.3g} is already at the precision floor")
    K = min(MAX_STEPS, math.ceil(math.log(delta0 / f0) / math.log(q)) + 10)
    traj = subject.trajectory(problem, K, purity_checks=False)
    if isinstance(traj, Observation):
        return traj
    if traj.diverged_at is not None or not all(math.isfinite(f) for f in traj.losses):
        return Observation(
            Status.FAIL,
            summary=f"the run diverged (step {traj.diverged_at}); claimed factor {q:g}",
            measured=math.inf,
            bound=q,
            inequality="f_{k+1} − f* ≤ q·(f_k − f*)",
            score=math.inf,
        )
    gaps, floor, f_ref, f_star, delta, trained = _optimality_gaps(problem, traj, delta0)
    q_hat, N, c_N = fit_rate(gaps, floor)
    q_dict = {
        "claimed q": q,
        "steps K": traj.steps,
        "f(x_0)": f0,
        "f(x_K)": traj.losses[-1],
        "f* (continuation)": f_ref,
        "f̂*": f_star,
        "floor τ": floor,
        "window N": N,
        "trained": ",".join(trained),
    }
    if N < 3:
        return Observation.na(f"only {N} gaps above the floor {floor:.3g}: nothing to fit")
    # each fitted ln-gap is off by ≤ ε = ln(1/(1 − 1/FLOOR_FACTOR)) (gap error ≤ 2δ_f ≤
    # gap/FLOOR_FACTOR), so the fitted slope is off by ≤ c_N·ε
    eps_log = -math.log(1 - 1 / FLOOR_FACTOR)
    bound = q * math.exp(c_N * eps_log)
    tol = Tolerance(
        bound - q,
        "q·(e^{c_N·ε} − 1): fitted ln-gaps have error ≤ ε = ln(1/(1 − 1/100)) (gaps ≥ "
        "100·2δ_f), a least-squares slope error ≤ c_N·ε, c_N = Σ|k − k̄|/Σ(k − k̄)²",
        {"c_N": c_N, "eps": eps_log, "delta_f": delta},
    )
    ok = q_hat <= bound
    return Observation(
        Status.PASS if ok else Status.FAIL,
        summary=(
            f"fitted factor q̂ = {q_hat:.4g} over {N} steps "
            + ("≤" if ok else ">")
            + f" claimed {q:g} (bound {bound:.4g})"
        ),
        measured=q_hat,
        bound=bound,
        inequality="q̂ = exp(LS slope of ln(f_k − f̂*)) ≤ q·e^{c_N·ε}",
        tolerance=tol,
        entry=None if ok else f"steps 0..{N - 1}",
        quantities=q_dict,
        score=q_hat / bound,
        series={
            "loss gap": gaps,
            "fit_k": [float(k) for k in range(N)],
            "fitted gap": fitted_gaps(np.arange(N, dtype=np.float64), gaps[:N], math.log(q_hat)),
        },
    )


# ---------------------------------------------------------------------------------------
# rate.sublinear
# ---------------------------------------------------------------------------------------

ORDERS = ("1", "2")
"""The orders a case may claim: f_k − f* ≤ C/k (gradient descent on a convex L-smooth f)
or C/k² (accelerated methods)."""
SUBLINEAR_STEPS = 200


def fit_order(gaps: Sequence[float], floor: float) -> tuple[float, int, float]:
    """Least-squares slope of ln gap_k against u_k = ln(k + 1), k ≥ 1, over the longest
    window with gap_k ≥ floor: returns (slope, N, c_N), c_N = Σ|u − ū|/Σ(u − ū)²."""
    N = 0
    for gap in gaps[1:]:
        if not (math.isfinite(gap) and gap >= floor):
            break
        N += 1
    if N < 3:
        return math.nan, N, math.inf
    u = np.log(np.arange(2, N + 2, dtype=np.float64))
    e = np.log(np.asarray(gaps[1 : N + 1], dtype=np.float64))
    uc = u - u.mean()
    slope = float(np.dot(uc, e - e.mean()) / np.dot(uc, uc))
    return slope, N, float(np.sum(np.abs(uc)) / np.dot(uc, uc))


def evaluate_sublinear(subject: Subject, spec: ProblemSpec) -> Observation:
    p = float(SUBLINEAR.option(subject, "order"))
    problem = make_problem(spec)
    f0 = problem.loss(problem.params0)
    delta0 = loss_rounding(problem, problem.params0).value
    if not (f0 > FLOOR_FACTOR * 2 * delta0):
        return Observation.na(f"f(x_0) = {f0:.3g} is already at the precision floor")
    traj = subject.trajectory(problem, SUBLINEAR_STEPS, purity_checks=False)
    if isinstance(traj, Observation):
        return traj
    if traj.diverged_at is not None or not all(math.isfinite(f) for f in traj.losses):
        return Observation(
            Status.FAIL,
            summary=f"the run diverged (step {traj.diverged_at}); claimed order {p:g}",
            measured=math.inf,
            bound=-p,
            inequality="f_k − f* ≤ C·k^(−p)",
            score=math.inf,
        )
    gaps, floor, f_ref, f_star, delta, trained = _optimality_gaps(problem, traj, delta0)
    slope, N, c_N = fit_order(gaps, floor)
    if N < 3:
        return Observation.na(f"only {N} gaps above the floor {floor:.3g}: nothing to fit")
    eps_log = -math.log(1 - 1 / FLOOR_FACTOR)
    bound = -p + c_N * eps_log
    ok = slope <= bound
    return Observation(
        Status.PASS if ok else Status.FAIL,
        summary=(
            f"fitted ln-gap/ln-k slope {slope:.4g} over {N} steps "
            + ("≤" if ok else ">")
            + f" −{p:g} (bound {bound:.4g})"
        ),
        measured=slope,
        bound=bound,
        inequality="LS slope of ln(f_k − f̂*) against ln(k + 1) ≤ −p + c_N·ε",
        tolerance=Tolerance(
            c_N * eps_log,
            "c_N·ε: fitted ln-gaps have error ≤ ε = ln(1/(1 − 1/100)) (gaps ≥ 100·2δ_f); "
            "c_N = Σ|u − ū|/Σ(u − ū)², u = ln(k + 1)",
            {"c_N": c_N, "eps": eps_log, "delta_f": delta},
        ),
        entry=None if ok else f"steps 1..{N}",
        quantities={
            "claimed order p": p,
            "steps K": traj.steps,
            "f(x_0)": f0,
            "f(x_K)": traj.losses[-1],
            "f* (continuation)": f_ref,
            "f̂*": f_star,
            "floor τ": floor,
            "window N": N,
            "trained": ",".join(trained),
        },
        score=slope - bound,
        series={
            "loss gap": gaps,
            "fit_k": [float(k) for k in range(1, N + 1)],
            "fitted gap": fitted_gaps(np.log(np.arange(2, N + 2.0)), gaps[1 : N + 1], slope),
        },
    )


SUBLINEAR = register_claim(
    Claim(
        id="rate.sublinear",
        summary="f_k − f* ≤ C·k^(−p) with the claimed order p (log-log fit over the run)",
        source=(
            "sublinear convergence: Nesterov, Lectures on Convex Optimization (2018), "
            "Cor. 2.1.2 (order 1), Thm 2.2.2 (order 2); docs/claims/rate.sublinear.md"
        ),
        evaluate=evaluate_sublinear,
        options={"order": ORDERS},
        family={"dtypes": ("float64",)},
        figure="slope {:.3g}",
    )
)


LINEAR = register_claim(
    Claim(
        id="rate.linear",
        summary="f_{k+1} − f* ≤ q·(f_k − f*) with the claimed factor q (fitted over the run)",
        source=(
            "linear convergence: Nesterov, Lectures on Convex Optimization (2018), Thm 2.1.15; "
            "Nocedal & Wright (2006) §3.3; docs/claims/rate.linear.md"
        ),
        evaluate=evaluate_linear,
        options={"factor": FACTORS},
        family={"dtypes": ("float64",)},
        figure="q̂ {:.3g}",
    )
)
