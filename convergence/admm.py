"""ADMM claims on the unfolded RNN (theory/admm.md §5–§9), checked on the optimizer's state.

An ADMM optimizer's state exposes ``rho``, ``nu``, ``o_update`` (``"linearized"`` or
``"exact"``), the auxiliaries ``a, h, o, lam`` (rnnverify/admm.py for shapes) and
``sweep``: the iteration's block updates in order, each with ``name`` (U, W, b, a, h, V, c,
o), ``kind`` (``linearized``/``exact``), ``theta``, the gradient it used (``grad``) and its
new ``value`` (rnnverify/optimizers/admmirnn.py, ``BlockStep``). The harness rebuilds every
intermediate point from the previous iterate and the sweep, checks that the sweep leads to
the next iterate, and evaluates its *own* augmented Lagrangian (rnnverify/admm.py), with a
bound on the rounding of each evaluation, so nothing the optimizer reports about L is
trusted.

H is the Lipschitz constant of ∇R (``w = 1/(B·|S|)`` for the problem's squared loss);
``q = H/ρ``; ``c = (ρ − H)/2 − H²/ρ`` (linearized o, > 0 iff ρ > 2H) or ``ρ/2 − H²/ρ``
(exact o with convex R, > 0 iff ρ > √2·H); Ψ^k = L^k + (H²/ρ)‖o^k − o^{k−1}‖² (linearized
o) or L^k (exact o).

Claims: ``admm.dual_identity`` (A1), ``admm.exact_block_optimality`` (A2),
``admm.block_descent`` (A3), ``admm.lyapunov_monotone`` (A4),
``admm.bounded_residual_vanishes`` (A5), ``admm.summability`` (A6),
``admm.forward_feasible`` (A7), ``admm.linearization_gradients`` (A9).
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from typing import Any, NamedTuple

import numpy as np

from rnnverify import admm
from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import Trajectory
from rnnverify.problems import ProblemSpec, RNNProblem, make_problem
from rnnverify.tolerance import Tolerance, gamma
from rnnverify.verdict import Status

SOURCE = "Tang et al., ADMMiRNN (ECML-PKDD 2020) on the dlADMM template; theory/admm.md"
STATE_FIELDS = ("rho", "nu", "o_update", "a", "h", "o", "lam", "sweep")
FAMILY = {"cells": ("elman",), "activations": ("tanh",)}
MIN_ITERATIONS = 12
"""Iterations per run at least (the case's ``steps`` when larger): the Lyapunov claims
compare k ≥ 1 with k + 1, so a run must be long enough for several comparisons and for a
dual-sign error (‖r3‖ doubling per iteration) to leave the derived bounds."""
EVALUATION_FACTOR = 2.0
"""Tolerances of comparisons between evaluated values are twice the sum of the evaluations'
rounding bounds: once for the evaluations themselves, once for the rounding of the iterates
the optimizer computed, whose first-order effect ⟨∇_X L, δX⟩ is bounded by the same γ·|term|
products (the stored values round relative to the same terms the evaluation sums)."""


class Step(NamedTuple):
    """One block update replayed: the points before and after it."""

    name: str
    kind: str
    theta: float
    grad: np.ndarray
    before: admm.Point
    after: admm.Point


class Run(NamedTuple):
    problem: RNNProblem
    traj: Trajectory
    rho: float
    nu: float
    mode: str
    points: list[admm.Point]  # points[k]: after k iterations (λ included)
    sweeps: list[list[Step]]  # sweeps[j]: the blocks of iteration j


def _error(summary: str) -> Observation:
    return Observation(Status.ERROR, summary=summary, score=math.inf)


_CACHE: OrderedDict[tuple[str, str, int, float, str], Run | Observation] = OrderedDict()
_CACHE_SIZE = 256


def _run(subject: Subject, spec: ProblemSpec) -> Run | Observation:
    """The replayed run of ``subject`` on ``spec``, shared by the eight claims.

    Every ``admm.*`` claim reads the same trajectory, and the searches of one subject
    draw the same problems (one strategy, one seed), so runs are cached by (optimizer
    name, reproduce command, steps, time limit, problem); the contract makes a run a
    function of these (purity is ``contract.pure``'s business, so the run skips the
    runner's purity snapshots)."""
    steps = max(subject.steps, MIN_ITERATIONS)
    key = (subject.name, subject.reproduce, steps, subject.time_limit, str(spec))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    result = _replay(subject, spec, steps)
    _CACHE[key] = result
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def _replay(subject: Subject, spec: ProblemSpec, steps: int) -> Run | Observation:
    """Run the optimizer, read its state and replay every sweep; an inconsistent state is
    an ERROR naming what did not fit."""
    problem = make_problem(spec)
    traj = subject.trajectory(problem, steps, state_fields=STATE_FIELDS, purity_checks=False)
    if isinstance(traj, Observation):
        return traj
    s0 = traj.states[-1]
    rho, nu, mode = float(s0.rho), float(s0.nu), str(s0.o_update)
    if not (math.isfinite(rho) and rho > 0 and math.isfinite(nu) and nu > 0):
        return _error(f"state declares rho={rho!r}, nu={nu!r}: expected finite values > 0")
    if mode not in ("linearized", "exact"):
        return _error(f"state declares o_update={mode!r}: expected 'linearized' or 'exact'")
    convention = getattr(s0, "convention", "plus")
    if convention not in admm.CONVENTIONS:
        return _error(
            f"state declares convention={convention!r}: expected one of {list(admm.CONVENTIONS)}"
        )
    points = [admm.point(traj.params[k], traj.states[k]) for k in range(traj.steps + 1)]
    sweeps: list[list[Step]] = []
    for j in range(traj.steps):
        cur = points[j]
        blocks: list[Step] = []
        for bs in traj.states[j + 1].sweep:
            if bs.name not in admm.BLOCKS or bs.kind not in ("linearized", "exact"):
                return _error(
                    f"iteration {j}: sweep block ({bs.name!r}, {bs.kind!r}); expected a name "
                    f"of {list(admm.BLOCKS)} and kind 'linearized' or 'exact'"
                )
            value = np.asarray(bs.value, dtype=np.float64)
            if value.shape != getattr(cur, bs.name).shape:
                return _error(
                    f"iteration {j}: sweep block {bs.name!r} has shape {value.shape}, "
                    f"expected {getattr(cur, bs.name).shape}"
                )
            nxt = cur.replace(**{bs.name: value})
            blocks.append(Step(bs.name, bs.kind, float(bs.theta), np.asarray(bs.grad), cur, nxt))
            cur = nxt
        end = points[j + 1]
        for name in admm.BLOCKS:
            if not np.array_equal(getattr(cur, name), getattr(end, name)):
                return _error(
                    f"iteration {j}: replaying the sweep gives a different {name!r} than the "
                    "next iterate: the state's sweep does not describe the step"
                )
        sweeps.append(blocks)
    return Run(problem, traj, rho, nu, mode, points, sweeps)


def _H(run: Run) -> float:
    return admm.loss_weight(run.problem)


def _coefficient(run: Run) -> float:
    H, rho = _H(run), run.rho
    return (rho - H) / 2 - H * H / rho if run.mode == "linearized" else rho / 2 - H * H / rho


def _precondition(run: Run) -> tuple[bool, str, dict[str, float]]:
    """ρ > 2H (linearized o) or ρ > √2·H (exact o, convex R)."""
    H = _H(run)
    factor = 2.0 if run.mode == "linearized" else math.sqrt(2.0)
    ok = run.rho > factor * H
    text = f"ρ = {run.rho:.4g} {'>' if ok else '≤'} {factor:.4g}·H = {factor * H:.4g}"
    return ok, text, {"rho": run.rho, "H": H, "rho_min": factor * H}


def _psi(run: Run) -> list[admm.Value]:
    """Ψ^k with its rounding bound, k = 0..K (Ψ^0 = L^0: o^{−1} := o^0)."""
    H, out = _H(run), []
    for k, p in enumerate(run.points):
        L = admm.lagrangian(run.problem, p, run.nu, run.rho)
        if run.mode == "linearized" and k > 0:
            d = p.o - run.points[k - 1].o
            extra = H * H / run.rho * float(np.sum(d * d))
            out.append(
                admm.Value(L.value + extra, L.rounding + gamma(d.size + 3, np.float64) * extra)
            )
        else:
            out.append(L)
    return out


def _fail(summary: str, measured: float, bound: float, inequality: str, tol: Tolerance,
          entry: str | None, q: dict[str, Any], series: dict[str, list[float]],
          score: float = math.inf) -> Observation:  # fmt: skip
    return Observation(
        Status.FAIL, summary=summary, measured=measured, bound=bound, inequality=inequality,
        tolerance=tol, entry=entry, quantities=q, score=score, series=series,
    )  # fmt: skip


def _pass(summary: str, measured: float, bound: float, inequality: str, tol: Tolerance,
          q: dict[str, Any], score: float,
          series: dict[str, list[float]]) -> Observation:  # fmt: skip
    return Observation(
        Status.PASS, summary=summary, measured=measured, bound=bound, inequality=inequality,
        tolerance=tol, quantities=q, score=score, series=series,
    )  # fmt: skip


def _residual_series(run: Run) -> dict[str, list[float]]:
    r = [admm.residual_norms(run.problem, p) for p in run.points]
    return {"r1": [x[0] for x in r], "r2": [x[1] for x in r], "r3": [x[2] for x in r]}


def _precondition_failure(run: Run, claim: str, text: str, q: dict[str, Any],
                          what: str, series: dict[str, list[float]]) -> Observation:  # fmt: skip
    obs = _fail(
        f"precondition violated: {text}, so the theorem of {claim} does not apply to this "
        f"configuration ({what}); not a counterexample to the theorem",
        q["rho"], q["rho_min"], "ρ > ρ_min (precondition)",
        Tolerance(0.0, "a precondition is checked exactly"), None,
        {**q, "precondition_violated": 1.0}, series, score=1e6,
    )  # fmt: skip
    return dataclasses.replace(obs, figure=f"precondition ρ = {q['rho']:.3g} ≤ {q['rho_min']:.3g}")


# ---------------------------------------------------------------------------------------
# A1: λ^{k+1} = −∇R(o^k) (linearized o) or −∇R(o^{k+1}) (exact o)
# ---------------------------------------------------------------------------------------


def evaluate_dual_identity(subject: Subject, spec: ProblemSpec) -> Observation:
    """Entrywise ``|λ^{k+1} + ∇R(o^·)| ≤ τ`` with ``τ = γ_{n+6}·(2ρ(|V||h_S| + |c|) +
    (ρ + w)|o^{k+1}| + 2|λ^k| + 2|∇R| + w|y|)``: the dual step recomputes r3 from the same
    ``V h + c`` the o-step used (each product rounds relative to ``|V||h| + |c|``), and
    each of λ, ∇R, o enters once or twice in additions."""
    run = _run(subject, spec)
    if isinstance(run, Observation):
        return run
    problem, w = run.problem, _H(run)
    S = admm.loss_steps(problem)
    y = admm.targets(problem)
    errors: list[float] = []
    worst: tuple[float, int, float, float, str] = (-math.inf, 0, 0.0, 0.0, "")
    for j in range(run.traj.steps):
        sweep = run.sweeps[j]
        if sweep and sweep[-1].name != "o":
            return _fail(
                f"precondition violated: iteration {j} updates {sweep[-1].name!r} after o; the "
                "identity needs o to be the last primal block before the dual step",
                0.0, 0.0, "o last", Tolerance(0.0, "structural"), f"iteration {j}", {}, {},
            )  # fmt: skip
        pre, post = run.points[j], run.points[j + 1]
        o_ref = pre.o if run.mode == "linearized" else post.o
        g = admm.grad_R(problem, o_ref)
        err_a = np.abs(post.lam + g)
        Mq = np.abs(post.V) @ np.abs(post.h[S]) + np.abs(post.c)[None, :, None]
        tau_a = gamma(post.V.shape[1] + 6, np.float64) * (
            2 * run.rho * Mq + (run.rho + w) * np.abs(post.o) + 2 * np.abs(pre.lam)
            + 2 * np.abs(g) + w * np.abs(y)
        )  # fmt: skip
        ratio_a = err_a / np.maximum(tau_a, np.finfo(float).tiny)
        i = np.unravel_index(int(np.argmax(ratio_a)), ratio_a.shape)
        errors.append(float(np.max(err_a)))
        if float(ratio_a[i]) > worst[0]:
            worst = (
                float(ratio_a[i]),
                j,
                float(err_a[i]),
                float(tau_a[i]),
                f"λ[{S[i[0]]}][{i[1]}, {i[2]}]",
            )
    ratio, j, err, tau, entry = worst
    ineq = "|λ^{k+1} + ∇R(o^k)| ≤ τ" if run.mode == "linearized" else "|λ^{k+1} + ∇R(o^{k+1})| ≤ τ"
    tol = Tolerance(tau, "γ_{n+6}·(2ρ(|V||h|+|c|) + (ρ+w)|o| + 2|λ| + 2|∇R| + w|y|), entrywise")
    q = {"iteration": float(j), "error": err, "tau": tau, "rho": run.rho, "w": w}
    series = {"identity error": errors, **_residual_series(run)}
    if ratio > 1:
        return _fail(
            f"iteration {j}: λ^(k+1) + ∇R = {err:.3g} at {entry} > τ = {tau:.3g} ({run.mode} o): "
            "the dual step's sign or scale, or the o-step, is wrong",
            err, tau, ineq, tol, f"iteration {j}, {entry}", q, series, score=ratio,
        )  # fmt: skip
    return _pass(f"worst {ratio:.2g}·τ", ratio, 1.0, ineq, tol, q, ratio, series)


# ---------------------------------------------------------------------------------------
# A2: exact blocks are block minimizers
# ---------------------------------------------------------------------------------------


def evaluate_exact_block_optimality(subject: Subject, spec: ProblemSpec) -> Observation:
    """After every ``exact`` block, ``|∇_X L| ≤ 2·δ∇`` entrywise, δ∇ the rounding bound of
    the gradient evaluation (rnnverify/admm.py ``block_gradient``): a closed form computed
    in floating point is the exact minimizer of inputs perturbed relative to the same terms
    (for h, the solve's backward error γ_{3n}|A||ĥ| is below it: |A||h| ≤ the magnitudes the
    gradient sums), hence the factor 2."""
    run = _run(subject, spec)
    if isinstance(run, Observation):
        return run
    worst: tuple[float, int, str, float, float, str] = (-math.inf, 0, "", 0.0, 0.0, "")
    seen = 0
    per_iter: list[float] = []
    for j, sweep in enumerate(run.sweeps):
        it_worst = 0.0
        for st in sweep:
            if st.kind != "exact":
                continue
            seen += 1
            bg = admm.block_gradient(run.problem, st.after, st.name, run.nu, run.rho)
            tau_a = EVALUATION_FACTOR * bg.rounding
            ratio_a = np.abs(bg.grad) / np.maximum(tau_a, np.finfo(float).tiny)
            i = np.unravel_index(int(np.argmax(ratio_a)), ratio_a.shape)
            it_worst = max(it_worst, float(ratio_a[i]))
            if float(ratio_a[i]) > worst[0]:
                worst = (float(ratio_a[i]), j, st.name, float(abs(bg.grad[i])), float(tau_a[i]),
                         f"{st.name}{list(i)}")  # fmt: skip
        per_iter.append(it_worst)
    if seen == 0:
        return Observation.na("the optimizer's sweeps have no exact block")
    ratio, j, name, g, tau, entry = worst
    tol = Tolerance(tau, "2·δ∇: rounding of the gradient evaluation and of the closed form")
    q = {"iteration": float(j), "grad": g, "tau": tau, "exact_blocks": float(seen)}
    ineq = "|∇_X L(X⁺)| ≤ 2·δ∇ after an exact block step"
    series = {"worst |∇L|/τ": per_iter}
    if ratio > 1:
        return _fail(
            f"iteration {j}: after the exact {name}-step ∇_{name} L = {g:.3g} at {entry} "
            f"> τ = {tau:.3g}: the closed form is not the block minimizer",
            g, tau, ineq, tol, f"iteration {j}, {entry}", q, series, score=ratio,
        )  # fmt: skip
    return _pass(f"worst {ratio:.2g}·τ", ratio, 1.0, ineq, tol, q, ratio, series)


# ---------------------------------------------------------------------------------------
# A3: linearized blocks descend by (θ/2)‖ΔX‖²
# ---------------------------------------------------------------------------------------


def evaluate_block_descent(subject: Subject, spec: ProblemSpec) -> Observation:
    """For every linearized block X ≠ o: ``L(X⁺) ≤ L(X) − (θ/2)‖ΔX‖² + tol``; for a
    linearized o (R linearized, ρ-proximal): ``L(o⁺) ≤ L(o) − ((ρ − H)/2)‖Δo‖² + tol``.
    ``tol = 2(δL(X) + δL(X⁺)) + ‖ΔX‖·‖δ∇‖`` (evaluation and iterate rounding, and the
    gradient's own rounding, which a step −ĝ/θ turns into ≤ ‖e‖‖ΔX‖ of lost decrease).
    A failure with θ below the block's Lipschitz constant (rnnverify/admm.py
    ``block_lipschitz``) is reported as a violated precondition."""
    run = _run(subject, spec)
    if isinstance(run, Observation):
        return run
    problem, H = run.problem, _H(run)
    worst: tuple[float, dict[str, Any]] = (-math.inf, {})
    seen = 0
    margins: list[float] = []
    for j, sweep in enumerate(run.sweeps):
        it = -math.inf
        for st in sweep:
            if st.kind != "linearized":
                continue
            seen += 1
            before = admm.lagrangian(problem, st.before, run.nu, run.rho)
            after = admm.lagrangian(problem, st.after, run.nu, run.rho)
            dX = getattr(st.after, st.name) - getattr(st.before, st.name)
            dX2 = float(np.sum(dX * dX))
            if st.name == "o":
                coef, lip = (run.rho - H) / 2, H
            else:
                coef = st.theta / 2
                lip = admm.block_lipschitz(problem, st.before, st.name, run.nu, run.rho)
            e = admm.block_gradient(problem, st.before, st.name, run.nu, run.rho).rounding
            tol = EVALUATION_FACTOR * (before.rounding + after.rounding) + math.sqrt(dX2) * float(
                np.linalg.norm(e)
            )
            bound = before.value - coef * dX2 + tol
            excess = after.value - bound
            score = excess / max(tol, np.finfo(float).tiny)
            it = max(it, score)
            if score > worst[0]:
                worst = (score, {
                    "iteration": j, "block": st.name, "L_before": before.value,
                    "L_after": after.value, "theta": st.theta, "coef": coef, "lipschitz": lip,
                    "dX2": dX2, "tol": tol, "bound": bound,
                })  # fmt: skip
        margins.append(it)
    if seen == 0:
        return Observation.na("the optimizer's sweeps have no linearized block")
    score, d = worst
    tol_ = Tolerance(d["tol"], "2(δL(X) + δL(X⁺)) + ‖ΔX‖·‖δ∇‖")
    ineq = "L(X⁺) ≤ L(X) − (θ/2)‖X⁺ − X‖² + tol  (o: (ρ − H)/2)"
    q = {k: float(v) for k, v in d.items() if k != "block"}
    series = {"worst excess/tol": margins}
    if score > 0:
        name = d["block"]
        theta_short = name != "o" and d["theta"] < d["lipschitz"]
        why = (
            f"precondition violated: θ_{name} = {d['theta']:.4g} < Lip = {d['lipschitz']:.4g}, "
            "so the descent lemma does not apply (backtracking would have rejected this step)"
            if theta_short
            else f"θ_{name} = {d['theta']:.4g} ≥ Lip = {d['lipschitz']:.4g}: the step is not a "
            "descent step (gradient sign, activation derivative or Lipschitz constant wrong)"
        )
        obs = _fail(
            f"iteration {d['iteration']}: the {name}-step gives L = {d['L_after']:.6g} > "
            f"{d['bound']:.6g} = L − coef·‖ΔX‖² + tol; {why}",
            d["L_after"], d["bound"], ineq, tol_, f"iteration {d['iteration']}, block {name}",
            {**q, "precondition_violated": float(theta_short)}, series, score=score,
        )  # fmt: skip
        return (
            dataclasses.replace(obs, figure=f"precondition θ_{name} < Lip") if theta_short else obs
        )
    return _pass(f"worst excess {score:.2g}·tol", score, 0.0, ineq, tol_, q, score, series)


# ---------------------------------------------------------------------------------------
# A4: Ψ^{k+1} ≤ Ψ^k for k ≥ 1 when ρ > 2H
# ---------------------------------------------------------------------------------------


def evaluate_lyapunov(subject: Subject, spec: ProblemSpec) -> Observation:
    """``Ψ^{k+1} ≤ Ψ^k + 2(δΨ^k + δΨ^{k+1})`` for k ≥ 1 (Ψ = L for exact o), when the
    precondition ρ > 2H (ρ > √2·H) holds; otherwise a precondition verdict (FAIL, saying
    the theorem does not apply), with what Ψ did."""
    run = _run(subject, spec)
    if isinstance(run, Observation):
        return run
    psi = _psi(run)
    series = {"Psi": [v.value for v in psi], **_residual_series(run)}
    rises = [
        (
            psi[k + 1].value - psi[k].value,
            EVALUATION_FACTOR * (psi[k].rounding + psi[k + 1].rounding),
            k,
        )
        for k in range(1, len(psi) - 1)
    ]
    worst = max(rises, key=lambda r: r[0] / max(r[1], np.finfo(float).tiny), default=(0.0, 0.0, 0))
    rise, tol, k = worst
    ok, text, q = _precondition(run)
    q = {**q, "iteration": float(k), "rise": rise, "tol": tol, "c": _coefficient(run)}
    if not ok:
        what = (
            f"Ψ rose by {rise:.3g} > tol {tol:.3g} at k = {k}" if rise > tol
            else "Ψ stayed non-increasing on this run, which the theorem does not promise"
        )  # fmt: skip
        return _precondition_failure(run, "admm.lyapunov_monotone", text, q, what, series)
    tol_ = Tolerance(tol, "2(δΨ^k + δΨ^{k+1}): evaluation and iterate rounding")
    ineq = (
        "Ψ^{k+1} ≤ Ψ^k + tol,  k ≥ 1" if run.mode == "linearized" else "L^{k+1} ≤ L^k + tol, k ≥ 1"
    )
    if rise > tol:
        return _fail(
            f"{text}, yet Ψ rose from {psi[k].value:.10g} to {psi[k + 1].value:.10g} at "
            f"k = {k} (by {rise:.3g} > tol {tol:.3g}): a block step that does not descend "
            "(see admm.block_descent), o not last, or a mis-scaled ρ",
            psi[k + 1].value, psi[k].value + tol, ineq, tol_, f"k = {k}", q, series,
            score=rise / max(tol, np.finfo(float).tiny),
        )  # fmt: skip
    score = rise / max(tol, np.finfo(float).tiny)
    return _pass(
        f"largest rise {rise:.2g} (tol {tol:.2g})", rise, tol, ineq, tol_, q, score, series
    )


# ---------------------------------------------------------------------------------------
# A5: Ψ bounded below and ‖r3‖ square-summable (→ 0)
# ---------------------------------------------------------------------------------------


def _lower_bound(run: Run, psi: list[admm.Value]) -> float:
    """Ψ_low (derived, needs the dual identity and a non-increasing Ψ): for k ≥ 1,
    ``L^k ≥ R(o^k) − ‖λ^k‖²/(2ρ)``. Linearized o: ‖λ^k‖² = ‖∇R(o^{k−1})‖² = 2H·R(o^{k−1}),
    so Ψ^k ≥ R^k − q·R^{k−1}; with Ψ^k ≤ Ψ^1, R^k ≤ R̄ = max(R^0, Ψ^1/(1 − q)) by induction
    and Ψ^k ≥ −q·R̄. Exact o: λ^k = −∇R(o^k) gives L^k ≥ (1 − q)·R^k ≥ 0."""
    if run.mode == "exact":
        return 0.0
    q = _H(run) / run.rho
    R0 = admm.R(run.problem, run.points[0].o)
    return -q * max(R0, psi[1].value / (1 - q))


def evaluate_bounded_residual(subject: Subject, spec: ProblemSpec) -> Observation:
    """(i) ``Ψ^k ≥ Ψ_low − δΨ^k`` for k ≥ 1 (:func:`_lower_bound`); (ii)
    ``Σ_{k≥3} ‖r3^k‖² ≤ q²·(Ψ^1 − Ψ_low)/c + tol``, from ``‖r3^{k+1}‖ = ‖λ^{k+1} − λ^k‖/ρ
    ≤ q‖o^k − o^{k−1}‖`` (linearized; exact: ``≤ q‖o^{k+1} − o^k‖``) and the decrease
    ``Ψ^k − Ψ^{k+1} ≥ c‖Δo‖²``: ‖r3‖ is square-summable with an explicit bound, hence → 0.
    Never a monotone ‖r3‖ (theory/admm.md §10)."""
    run = _run(subject, spec)
    if isinstance(run, Observation):
        return run
    psi = _psi(run)
    series = {"Psi": [v.value for v in psi], **_residual_series(run)}
    ok, text, q = _precondition(run)
    if not ok:
        return _precondition_failure(
            run, "admm.bounded_residual_vanishes", text, q, "the bounds need c > 0", series
        )
    c = _coefficient(run)
    qq = _H(run) / run.rho
    low = _lower_bound(run, psi)
    below = [(low - psi[k].value - psi[k].rounding, k) for k in range(1, len(psi))]
    gap, kb = max(below)
    first = 3 if run.mode == "linearized" else 2
    r3 = series["r3"]
    total = float(sum(v * v for v in r3[first:]))
    round_r3 = sum(admm.square_rounding(*_r3_terms(run, k)) for k in range(first, len(run.points)))
    bound = qq * qq * (psi[1].value - low) / c
    tol = qq * qq * EVALUATION_FACTOR * (psi[1].rounding + psi[-1].rounding) / c + round_r3
    qd = {**q, "c": c, "Psi_low": low, "Psi_1": psi[1].value, "sum_r3_sq": total,
          "sum_bound": bound, "tol": tol}  # fmt: skip
    tol_ = Tolerance(tol, "q²·2(δΨ¹ + δΨ^K)/c + rounding of Σ‖r3‖²")
    ineq = "Ψ^k ≥ Ψ_low and Σ_{k≥3}‖r3^k‖² ≤ q²(Ψ¹ − Ψ_low)/c"
    if gap > 0:
        return _fail(
            f"{text}, yet Ψ^{kb} = {psi[kb].value:.6g} < Ψ_low = {low:.6g}: Ψ is not bounded "
            "below as the theorem requires (a dual-sign error drives Ψ to −∞)",
            psi[kb].value, low, ineq, tol_, f"k = {kb}", qd, series,
        )  # fmt: skip
    if total > bound + tol:
        return _fail(
            f"{text}, yet Σ‖r3^k‖² = {total:.6g} > q²(Ψ¹ − Ψ_low)/c = {bound:.6g}: the dualized "
            f"residual does not vanish as proved (final ‖r3‖ = {r3[-1]:.3g})",
            total, bound, ineq, tol_, "Σ_k ‖r3^k‖²", qd, series,
            score=total / max(bound + tol, np.finfo(float).tiny),
        )  # fmt: skip
    score = total / max(bound + tol, np.finfo(float).tiny)
    return _pass(f"Σ‖r3‖² at {score:.2g} of its bound", score, 1.0, ineq, tol_, qd, score, series)


def _r3_terms(run: Run, k: int) -> tuple[np.ndarray, np.ndarray, int, Any]:
    res = admm.residuals(run.problem, run.points[k])
    return res.r3, res.M3, res.k3, np.float64


# ---------------------------------------------------------------------------------------
# A6: Σ‖o^{k+1} − o^k‖² ≤ (Ψ¹ − min Ψ)/c
# ---------------------------------------------------------------------------------------


def evaluate_summability(subject: Subject, spec: ProblemSpec) -> Observation:
    """``Σ_{k=1}^{K−1} ‖o^{k+1} − o^k‖² ≤ (Ψ^1 − min_k Ψ^k)/c + tol``, the sum of the
    per-iteration decreases ``Ψ^k − Ψ^{k+1} ≥ c‖o^{k+1} − o^k‖²`` (theory/admm.md §8.2):
    a quantitative test of the proof's constant c. ``tol = 2·Σ_k(δΨ^k)/c``."""
    run = _run(subject, spec)
    if isinstance(run, Observation):
        return run
    psi = _psi(run)
    series = {"Psi": [v.value for v in psi], **_residual_series(run)}
    ok, text, q = _precondition(run)
    if not ok:
        return _precondition_failure(run, "admm.summability", text, q, "c ≤ 0", series)
    c = _coefficient(run)
    steps = [
        float(np.sum((run.points[k + 1].o - run.points[k].o) ** 2))
        for k in range(1, len(run.points) - 1)
    ]
    total = sum(steps)
    psi_min = min(v.value for v in psi[1:])
    bound = (psi[1].value - psi_min) / c
    tol = EVALUATION_FACTOR * sum(v.rounding for v in psi[1:]) / c
    qd = {**q, "c": c, "sum_do_sq": total, "Psi_1": psi[1].value, "Psi_min": psi_min, "tol": tol}
    tol_ = Tolerance(tol, "2·Σ_k δΨ^k / c")
    ineq = "Σ_k ‖o^{k+1} − o^k‖² ≤ (Ψ¹ − min Ψ)/c + tol"
    series["|o^{k+1} - o^k|^2"] = steps
    score = total / max(bound + tol, np.finfo(float).tiny)
    if total > bound + tol:
        return _fail(
            f"{text}, yet Σ‖Δo‖² = {total:.6g} > (Ψ¹ − min Ψ)/c = {bound:.6g} (c = {c:.4g}): "
            "Ψ did not decrease by c‖Δo‖² per iteration as the proof's constant requires",
            total, bound, ineq, tol_, None, qd, series, score=score,
        )  # fmt: skip
    return _pass(f"Σ‖Δo‖² at {score:.2g} of its bound", score, 1.0, ineq, tol_, qd, score, series)


# ---------------------------------------------------------------------------------------
# A7: the start is the forward pass: r1 = r2 = r3 = 0
# ---------------------------------------------------------------------------------------


def evaluate_forward_feasible(subject: Subject, spec: ProblemSpec) -> Observation:
    """At the start, ``|r_i| ≤ 2·γ_{k_i}·M_i`` entrywise (rnnverify/admm.py
    ``residuals``): the optimizer's forward pass and the harness's residual each round
    relative to the same terms M_i."""
    run = _run(subject, spec)
    if isinstance(run, Observation):
        return run
    res = admm.residuals(run.problem, run.points[0])
    worst: tuple[float, str, float, float] = (-math.inf, "", 0.0, 0.0)
    for name, r, M, k in (("r1", res.r1, res.M1, res.k1), ("r2", res.r2, res.M2, res.k2),
                          ("r3", res.r3, res.M3, res.k3)):  # fmt: skip
        tau_a = 2 * gamma(k, np.float64) * M
        ratio_a = np.abs(r) / np.maximum(tau_a, np.finfo(float).tiny)
        i = np.unravel_index(int(np.argmax(ratio_a)), ratio_a.shape)
        if float(ratio_a[i]) > worst[0]:
            worst = (float(ratio_a[i]), f"{name}{list(i)}", float(abs(r[i])), float(tau_a[i]))
    ratio, entry, err, tau = worst
    tol = Tolerance(tau, "2·γ_k·M entrywise (forward pass and residual each round once)")
    ineq = "|r1|, |r2|, |r3| ≤ 2γ_k·M at the start"
    q = {"residual": err, "tau": tau}
    if ratio > 1:
        return _fail(
            f"the start is not the forward pass: {entry} = {err:.3g} > τ = {tau:.3g} "
            "(time index or h_0 handling of the auxiliaries is off)",
            err, tau, ineq, tol, entry, q, {}, score=ratio,
        )  # fmt: skip
    return _pass(f"worst {ratio:.2g}·τ", ratio, 1.0, ineq, tol, q, ratio, {})


# ---------------------------------------------------------------------------------------
# A9: linearization gradients are the gradients of L
# ---------------------------------------------------------------------------------------


def evaluate_linearization_gradients(subject: Subject, spec: ProblemSpec) -> Observation:
    """For every linearized block the gradient the step used equals ``∇_X L`` at the
    block's starting point (for o: ``∇R(o)``), entrywise within ``2·δ∇ + γ_4|g|`` (the
    harness's closed forms, sympy-checked, and the optimizer's computation each round
    relative to the same terms)."""
    run = _run(subject, spec)
    if isinstance(run, Observation):
        return run
    worst: tuple[float, dict[str, Any]] = (-math.inf, {})
    seen = 0
    for j, sweep in enumerate(run.sweeps):
        for st in sweep:
            if st.kind != "linearized":
                continue
            seen += 1
            if st.name == "o":
                ref = admm.grad_R(run.problem, st.before.o)
                y = admm.targets(run.problem)
                rnd = gamma(3, np.float64) * _H(run) * (np.abs(st.before.o) + np.abs(y))
            else:
                bg = admm.block_gradient(run.problem, st.before, st.name, run.nu, run.rho)
                ref, rnd = bg.grad, bg.rounding
            if st.grad.shape != ref.shape:
                return _error(
                    f"iteration {j}: block {st.name!r} records a gradient of shape "
                    f"{st.grad.shape}, expected {ref.shape}"
                )
            tau_a = EVALUATION_FACTOR * rnd + gamma(4, np.float64) * np.abs(ref)
            err_a = np.abs(st.grad - ref)
            ratio_a = err_a / np.maximum(tau_a, np.finfo(float).tiny)
            i = np.unravel_index(int(np.argmax(ratio_a)), ratio_a.shape)
            if float(ratio_a[i]) > worst[0]:
                worst = (float(ratio_a[i]), {
                    "iteration": j, "block": st.name, "entry": f"{st.name}{list(i)}",
                    "used": float(st.grad[i]), "exact": float(ref[i]), "tau": float(tau_a[i]),
                })  # fmt: skip
    if seen == 0:
        return Observation.na("the optimizer's sweeps have no linearized block")
    ratio, d = worst
    tol = Tolerance(d["tau"], "2·δ∇ + γ_4|∇|, entrywise")
    ineq = "|g_used − ∇_X L(X)| ≤ τ"
    q = {
        "iteration": float(d["iteration"]),
        "used": d["used"],
        "exact": d["exact"],
        "tau": d["tau"],
    }
    if ratio > 1:
        return _fail(
            f"iteration {d['iteration']}: the {d['block']}-step used {d['used']:.6g} at "
            f"{d['entry']} where ∇L = {d['exact']:.6g} (τ = {d['tau']:.3g}): transposes, a "
            "missing sum over t, or an activation derivative on the wrong argument",
            d["used"], d["exact"], ineq, tol, d["entry"], q, {}, score=ratio,
        )  # fmt: skip
    return _pass(f"worst {ratio:.2g}·τ", ratio, 1.0, ineq, tol, q, ratio, {})


def _claim(id_: str, summary: str, evaluate: Any, figure: str = "{:.3g}") -> Claim:
    return register_claim(
        Claim(
            id=id_, summary=summary, source=SOURCE, evaluate=evaluate, family=FAMILY, figure=figure
        )
    )


DUAL_IDENTITY = _claim(
    "admm.dual_identity",
    "λ^(k+1) = −∇R(o^k) (linearized o) or −∇R(o^(k+1)) (exact o), o last before the dual step",
    evaluate_dual_identity,
    "{:.2g}·τ",
)
EXACT_BLOCKS = _claim(
    "admm.exact_block_optimality",
    "after an exact block step (b, c, h_t, exact o) the block gradient of L vanishes",
    evaluate_exact_block_optimality,
    "{:.2g}·τ",
)
BLOCK_DESCENT = _claim(
    "admm.block_descent",
    "each linearized block step lowers L by (θ/2)‖X⁺ − X‖² when θ ≥ the block Lipschitz constant",
    evaluate_block_descent,
    "{:.2g}·tol",
)
LYAPUNOV = _claim(
    "admm.lyapunov_monotone",
    "Ψ^k = L^k + (H²/ρ)‖o^k − o^(k−1)‖² is non-increasing for k ≥ 1 when ρ > 2H",
    evaluate_lyapunov,
    "rise {:.2g}",
)
BOUNDED_RESIDUAL = _claim(
    "admm.bounded_residual_vanishes",
    "Ψ bounded below and Σ_k ‖r3^k‖² ≤ q²(Ψ¹ − Ψ_low)/c, so ‖r3^k‖ → 0 (ρ > 2H)",
    evaluate_bounded_residual,
    "{:.2g} of bound",
)
SUMMABILITY = _claim(
    "admm.summability",
    "Σ_k ‖o^(k+1) − o^k‖² ≤ (Ψ¹ − min Ψ)/((ρ − H)/2 − H²/ρ) (ρ > 2H)",
    evaluate_summability,
    "{:.2g} of bound",
)
FORWARD_FEASIBLE = _claim(
    "admm.forward_feasible",
    "auxiliaries from the forward pass give r1 = r2 = r3 = 0 (to rounding)",
    evaluate_forward_feasible,
    "{:.2g}·τ",
)
LINEARIZATION = _claim(
    "admm.linearization_gradients",
    "the gradient each linearized block step uses equals ∇_X L (for o: ∇R(o))",
    evaluate_linearization_gradients,
    "{:.2g}·τ",
)
