"""Quasi-Newton (L-BFGS) and adaQN claims, checked on the optimizer's recorded state.

theory/adaqn.md §2–§7. The optimizer's state (rnnverify/optimizers/adaqn.py,
``AdaQNState``) records the pairs ``S, Y`` (rows, oldest first), each step's gradient
``g``, direction ``d = H g`` and ``h0``, the probe ``Hy = TwoLoop(y_newest)``, and the
window/reset record. ``states[j]`` is the state *before* step j, ``states[j+1]`` after it,
so step j's direction uses the pairs of ``states[j]`` and the ``h0`` of ``states[j+1]``.

Claims (ids from theory/README.md):

* ``qn.two_loop_dense`` (Q1): ``d == H_dense g`` with H the recursive inverse-BFGS matrix.
* ``qn.secant`` (Q2): ``H y_newest == s_newest`` (newest pair only, never older ones).
* ``qn.positive_definite`` (Q3): ``gᵀHg > 0`` for the step gradient and for y_newest.
* ``qn.pair_acceptance`` (Q5): every stored pair passes the declared test; a tried pair
  is stored iff it passes; FIFO memory ≤ M.
* ``adaqn.averaging_window`` (Q6): every average is the mean of exactly L consecutive
  (pre-step) iterates, windows every L steps, also after a reset.
* ``adaqn.h0_adagrad`` (Q8): h0 = 1/sqrt(Σ_j g_j² + ε), positive, non-increasing.
* ``adaqn.reset`` (Q7, Q10): f_M(w_n) > 1.01·f_M(w_o) ⇔ reset; after a reset the
  memory is empty, w = w_o, w_o unchanged; the monitoring set never changes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import Trajectory
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.quasi_newton import (
    ACCEPTANCE_TESTS,
    dense_inverse_bfgs,
    passes_test,
    two_loop_tolerance,
)
from rnnverify.tolerance import Tolerance, gamma, loss_rounding
from rnnverify.verdict import Status

RESET_FACTOR = 1.01
"""γ of the reset test (adaqn.md §1.1, §5)."""

STATE_FIELDS = (
    "S", "Y", "g", "d", "h0", "Hy", "F", "L", "M", "t", "monitor", "w_o", "w_n",
    "averaged", "reset", "pair_tried", "pair_stored", "s_cand", "y_cand",
)  # fmt: skip

SOURCE = "Keskar & Berahas, adaQN (ECML-PKDD 2016); theory/adaqn.md"


def _flat(params: Any) -> np.ndarray:
    return np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in params.values()])


def _finite(*arrays: np.ndarray) -> bool:
    return all(bool(np.all(np.isfinite(a))) for a in arrays)


def _run(subject: Subject, spec: ProblemSpec) -> tuple[Any, Trajectory | Observation]:
    problem = make_problem(spec)
    return problem, subject.trajectory(problem, state_fields=STATE_FIELDS)


def _fail(summary: str, measured: float, bound: float, inequality: str, tol: Tolerance,
          entry: str, q: dict[str, float]) -> Observation:  # fmt: skip
    return Observation(
        Status.FAIL,
        summary=summary,
        measured=measured,
        bound=bound,
        inequality=inequality,
        tolerance=tol,
        entry=entry,
        quantities=q,
        score=math.inf,
    )


def _pass(summary: str, measured: float, bound: float, inequality: str, tol: Tolerance,
          q: dict[str, float], score: float) -> Observation:  # fmt: skip
    return Observation(
        Status.PASS,
        summary=summary,
        measured=measured,
        bound=bound,
        inequality=inequality,
        tolerance=tol,
        quantities=q,
        score=score,
    )


# ---------------------------------------------------------------------------------------
# Q1: two-loop == dense inverse BFGS
# ---------------------------------------------------------------------------------------


def evaluate_two_loop_dense(subject: Subject, spec: ProblemSpec) -> Observation:
    """‖d_j − H_dense(S, Y, h0)·g_j‖ ≤ tol_j for every step j that used pairs, with the
    tolerance of :func:`rnnverify.quasi_newton.two_loop_tolerance` (the conditioning
    κ_i = ‖s_i‖‖y_i‖/(s_iᵀy_i) of the pairs, n, m)."""
    _, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    worst: tuple[float, float, float, dict[str, float]] | None = None
    for j in range(traj.steps):
        pre, post = traj.states[j], traj.states[j + 1]
        S, Y = pre.S, pre.Y
        if S.shape[0] == 0:
            continue
        if any(float(s @ y) == 0.0 for s, y in zip(S, Y, strict=True)):
            continue  # ρ undefined: outside the identity
        if not _finite(post.g, S, Y, post.h0):
            continue  # the problem overflowed (divergence): no finite identity to check
        ref = dense_inverse_bfgs(S, Y, post.h0) @ post.g
        err = float(np.linalg.norm(post.d - ref))
        tol, terms = two_loop_tolerance(post.g, S, Y, post.h0)
        q = {"step": float(j), "|d - H g|": err, "|H g|": float(np.linalg.norm(ref)), **terms}
        t = Tolerance(tol, "(2m+1)(γ_{n+2}+γ_{3n})·Π(1+κ_i)²·(‖h0‖∞+Σρ_i‖s_i‖²)·‖g‖", terms)
        if not err <= tol:
            return _fail(
                f"step {j}: two-loop direction differs from the dense inverse-BFGS H·g by "
                f"{err:.3g} > {tol:.3g}",
                err, tol, "‖TwoLoop(g) − H_dense g‖ ≤ tol", t, f"step {j}", q,
            )  # fmt: skip
        ratio = err / tol if tol > 0 else 0.0
        if worst is None or ratio > worst[0]:
            worst = (ratio, err, tol, q)
    if worst is None:
        return Observation.na("no step used stored pairs")
    ratio, err, tol, q = worst
    return _pass(
        f"worst |d − H g| = {err:.3g} ({ratio:.2g} of tol)", ratio, 1.0,
        "‖TwoLoop(g) − H_dense g‖/tol ≤ 1",
        Tolerance(tol, "two_loop_tolerance (pair conditioning)"), q, ratio,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Q2: secant equation for the newest pair
# ---------------------------------------------------------------------------------------


def evaluate_secant(subject: Subject, spec: ProblemSpec) -> Observation:
    """‖Hy − s_newest‖ ≤ tol for every state holding pairs, ``Hy`` the optimizer's own
    two-loop applied to y_newest; tolerance as for Q1 with g = y_newest. Older pairs are
    not checked: the hereditary property does not hold for stochastic pairs (§3)."""
    _, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    worst: tuple[float, float, float, dict[str, float]] | None = None
    for j, st in enumerate(traj.states):
        if st.S.shape[0] == 0 or st.Hy.size == 0:
            continue
        s, y = st.S[-1], st.Y[-1]
        if not _finite(st.S, st.Y, st.h0):
            continue  # the problem overflowed (divergence)
        err = float(np.linalg.norm(st.Hy - s))
        tol, terms = two_loop_tolerance(y, st.S, st.Y, st.h0)
        q = {"state": float(j), "|H y - s|": err, "|s|": float(np.linalg.norm(s)), **terms}
        t = Tolerance(tol, "two_loop_tolerance with g = y_newest", terms)
        if not err <= tol:
            return _fail(
                f"state {j}: H y_newest differs from s_newest by {err:.3g} > {tol:.3g}",
                err, tol, "‖H y_newest − s_newest‖ ≤ tol", t, f"state {j}", q,
            )  # fmt: skip
        ratio = err / tol if tol > 0 else 0.0
        if worst is None or ratio > worst[0]:
            worst = (ratio, err, tol, q)
    if worst is None:
        return Observation.na("no pair was stored")
    ratio, err, tol, q = worst
    return _pass(
        f"worst |H y − s| = {err:.3g} ({ratio:.2g} of tol)", ratio, 1.0,
        "‖H y_newest − s_newest‖/tol ≤ 1", Tolerance(tol, "two_loop_tolerance"), q, ratio,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Q3: positive definiteness (descent)
# ---------------------------------------------------------------------------------------


def evaluate_positive_definite(subject: Subject, spec: ProblemSpec) -> Observation:
    """vᵀ(H v) > −margin for v = g_j (the step's gradient, so −H g is a descent direction
    for the minibatch loss) and v = y_newest (``yᵀHy = yᵀs``): the operator the optimizer
    applies is positive definite. margin = ‖v‖·tol(v) (the two-loop forward error, Q1)
    + γ_n‖v‖‖Hv‖ (the dot product)."""
    _, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    worst: tuple[float, dict[str, float]] | None = None
    n_checked = 0
    for j in range(traj.steps):
        pre, post = traj.states[j], traj.states[j + 1]
        probes = []
        if pre.S.shape[0]:
            probes.append(("g", post.g, post.d, pre.S, pre.Y))
        if post.S.shape[0] and post.Hy.size:
            probes.append(("y_newest", post.Y[-1], post.Hy, post.S, post.Y))
        for name, v, Hv, S, Y in probes:
            if not _finite(v, S, Y, post.h0) or not float(np.min(post.h0)) > 0:
                continue  # the problem overflowed (divergence) or H0 ≯ 0: outside the theorem
            nv, nHv = float(np.linalg.norm(v)), float(np.linalg.norm(Hv))
            if nv == 0.0:
                continue
            tol, terms = two_loop_tolerance(v, S, Y, post.h0)
            margin = nv * tol + gamma(v.size, np.float64) * nv * nHv
            vHv = float(v @ Hv)
            sty = [float(s @ y) for s, y in zip(S, Y, strict=True)]
            q = {"step": float(j), "v^T H v": vHv, "|v|": nv, "|Hv|": nHv,
                 "min s^T y": min(sty), "min h0": float(np.min(post.h0)), **terms}  # fmt: skip
            t = Tolerance(margin, "‖v‖·tol_two_loop(v) + γ_n‖v‖‖Hv‖", terms)
            n_checked += 1
            if not vHv > -margin:
                return _fail(
                    f"step {j}: {name}ᵀH{name} = {vHv:.3g} ≤ 0 (min sᵀy = {min(sty):.3g}, "
                    f"min h0 = {float(np.min(post.h0)):.3g}): H is not positive definite",
                    vHv, -margin, "vᵀHv > 0", t, f"step {j} probe {name}", q,
                )  # fmt: skip
            cos = vHv / (nv * nHv) if nHv > 0 else 1.0
            if worst is None or cos < worst[0]:
                worst = (cos, q)
    if worst is None:
        return Observation.na("no step used stored pairs")
    cos, q = worst
    return _pass(
        f"{n_checked} probes; smallest cos(v, Hv) = {cos:.3g} > 0", cos, 0.0,
        "vᵀHv/(‖v‖‖Hv‖) > 0", Tolerance(0.0, "sign test with rounding margin"), q, -cos,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Q3 (step): −H g is the direction taken, and it descends
# ---------------------------------------------------------------------------------------


def evaluate_descent_direction(subject: Subject, spec: ProblemSpec) -> Observation:
    """Every step that is not a reset moves along a descent direction of the step's
    minibatch loss: ``⟨g_j, w_{j+1} − w_j⟩ < 0``, judged outside the rounding margin
    ``γ_n·Σ|g||Δw| + Σ|g|·γ_2(|w_j| + |Δw|)`` (the dot product, and the rounding of
    ``w − α·d`` itself). A product within the margin cannot be decided and is not judged."""
    _, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    worst: tuple[float, dict[str, float]] | None = None
    judged = 0
    for j in range(traj.steps):
        post = traj.states[j + 1]
        if post.reset:
            continue  # a reset jumps back to w_o (adaqn.reset), not along −Hg
        w, w1, g = _flat(traj.params[j]), _flat(traj.params[j + 1]), post.g
        if not _finite(w, w1, g) or not np.any(g):
            continue
        dw = w1 - w
        gdw = float(g @ dw)
        margin = gamma(g.size, np.float64) * float(np.abs(g) @ np.abs(dw)) + gamma(
            2, np.float64
        ) * float(np.abs(g) @ (np.abs(w) + np.abs(dw)))
        cos = gdw / max(float(np.linalg.norm(g) * np.linalg.norm(dw)), np.finfo(float).tiny)
        q = {"step": float(j), "g^T dw": gdw, "margin": margin, "cos": cos,
             "pairs": float(traj.states[j].S.shape[0])}  # fmt: skip
        t = Tolerance(margin, "γ_n·Σ|g||Δw| + γ_2·Σ|g|(|w| + |Δw|)")
        if gdw > margin:
            return _fail(
                f"step {j}: ⟨g, w⁺ − w⟩ = {gdw:.3g} > 0 (cos = {cos:.3g}): the step goes uphill "
                "on its own minibatch loss, so it is not along −Hg with H positive definite",
                gdw, 0.0, "⟨g_j, w_(j+1) − w_j⟩ < 0", t, f"step {j}", q,
            )  # fmt: skip
        if abs(gdw) > margin:
            judged += 1
            if worst is None or cos > worst[0]:
                worst = (cos, q)
    if worst is None:
        return Observation.na("no step moved decidably (all resets, zero gradients or steps)")
    cos, q = worst
    return _pass(
        f"{judged} steps; largest cos(g, Δw) = {cos:.3g} < 0", cos, 0.0,
        "⟨g_j, w_(j+1) − w_j⟩ < 0", Tolerance(0.0, "sign test outside the rounding margin"),
        q, cos,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Q4: Fisher curvature pairs
# ---------------------------------------------------------------------------------------


def evaluate_fisher_pair(subject: Subject, spec: ProblemSpec) -> Observation:
    """Every candidate pair has ``y = (1/|F|)·Fᵀ(F s)`` (option ``normalized=yes``; ``no``:
    ``Fᵀ(F s)``, minSQN's convention) with F the Fisher store of that step, entrywise
    within ``2·γ_{n+|F|}·|F|ᵀ(|F||s|)/|F|`` (two evaluations of the same products); hence
    ``sᵀy = ‖F s‖²/|F| ≥ 0`` and ``y ∈ span(rows of F)``."""
    normalized = FISHER_PAIR.option(subject, "normalized") == "yes"
    _, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    worst: tuple[float, dict[str, float]] | None = None
    for j in range(traj.steps):
        post = traj.states[j + 1]
        if not post.pair_tried:
            continue
        F, s, y = post.F, post.s_cand, post.y_cand
        if not _finite(F, s, y):
            continue
        k = F.shape[0]
        ref = F.T @ (F @ s) / (k if normalized else 1)
        mag = np.abs(F).T @ (np.abs(F) @ np.abs(s)) / (k if normalized else 1)
        tau = 2 * gamma(s.size + k + 1, np.float64) * mag
        err = np.abs(y - ref)
        ratio_a = err / np.maximum(tau, np.finfo(float).tiny)
        i = int(np.argmax(ratio_a))
        q = {"step": float(j), "|F|": float(k), "y_i": float(y[i]), "expected": float(ref[i]),
             "tau": float(tau[i]), "s^T y": float(s @ y)}  # fmt: skip
        t = Tolerance(float(tau[i]), "2·γ_(n+|F|+1)·|F|ᵀ(|F||s|)/|F|, entrywise")
        if float(ratio_a[i]) > 1:
            form = "(1/|F|)Fᵀ(Fs)" if normalized else "Fᵀ(Fs)"
            return _fail(
                f"step {j}: y[{i}] = {float(y[i]):.6g} but {form} = {float(ref[i]):.6g} "
                f"(τ = {float(tau[i]):.3g}): the pair is not the declared Fisher product",
                float(y[i]), float(ref[i]), f"y = {form}", t, f"step {j}, y[{i}]", q,
            )  # fmt: skip
        if worst is None or float(ratio_a[i]) > worst[0]:
            worst = (float(ratio_a[i]), q)
    if worst is None:
        return Observation.na("no curvature pair was tried")
    r, q = worst
    t = Tolerance(q["tau"], "2·γ_(n+|F|+1)·|F|ᵀ(|F||s|)/|F|, entrywise")
    return _pass(f"worst {r:.2g}·τ", r, 1.0, "y = Fisher product", t, q, r)


# ---------------------------------------------------------------------------------------
# Q5: pair acceptance and FIFO memory
# ---------------------------------------------------------------------------------------


def evaluate_pair_acceptance(subject: Subject, spec: ProblemSpec) -> Observation:
    """For every step: memory ≤ M; each stored pair passes the declared test (option
    ``test``: ``sts`` sᵀy > 1e-4·sᵀs, ``yty`` sᵀy > 1e-4·yᵀy); a tried candidate is
    stored iff it passes; the memory is FIFO (unchanged, emptied by a reset, or the old
    pairs with the candidate appended, oldest dropped beyond M). Exact: the test is a
    comparison of the stored floats, recomputed identically."""
    test = PAIR_ACCEPTANCE.option(subject, "test")
    _, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    t = Tolerance(0.0, "exact: the declared test recomputed on the stored floats")
    tried = 0
    for j in range(traj.steps):
        pre, post = traj.states[j], traj.states[j + 1]
        m = post.S.shape[0]
        q = {"step": float(j), "memory": float(m), "M": float(post.M)}
        if m > post.M:
            return _fail(f"step {j}: memory holds {m} > M = {post.M} pairs", m, post.M,
                         "|memory| ≤ M", t, f"step {j}", q)  # fmt: skip
        for i, (s, y) in enumerate(zip(post.S, post.Y, strict=True)):
            if not passes_test(s, y, test):
                q2 = {**q, "s^T y": float(s @ y), "s^T s": float(s @ s), "y^T y": float(y @ y)}
                return _fail(
                    f"step {j}: stored pair {i} fails the declared test {test}: "
                    f"sᵀy = {float(s @ y):.3g}", float(s @ y), 0.0,
                    f"sᵀy > 1e-4·{'sᵀs' if test == 'sts' else 'yᵀy'}", t, f"pair {i}", q2,
                )  # fmt: skip
        if post.pair_tried:
            tried += 1
            ok = passes_test(post.s_cand, post.y_cand, test)
            if ok != post.pair_stored:
                return _fail(f"step {j}: candidate passes={ok} but stored={post.pair_stored}",
                             float(post.pair_stored), float(ok), "stored ⇔ test", t,
                             f"step {j}", q)  # fmt: skip
        if post.pair_stored:
            S_exp = np.vstack([pre.S, post.s_cand[None, :]])[-post.M :]
            Y_exp = np.vstack([pre.Y, post.y_cand[None, :]])[-post.M :]
        elif post.reset:
            S_exp, Y_exp = pre.S[:0], pre.Y[:0]
        else:
            S_exp, Y_exp = pre.S, pre.Y
        if not (np.array_equal(post.S, S_exp) and np.array_equal(post.Y, Y_exp)):
            return _fail(f"step {j}: the pair memory is not the FIFO update of the previous one",
                         float(m), float(S_exp.shape[0]), "S_{j+1} = FIFO(S_j, s)", t,
                         f"step {j}", q)  # fmt: skip
    if tried == 0:
        return Observation.na("no curvature pair was tried")
    return _pass(f"{tried} candidate pairs, all decided by the declared test {test}",
                 float(tried), 0.0, "stored ⇔ test; |memory| ≤ M", t, {"tried": float(tried)},
                 0.0)  # fmt: skip


# ---------------------------------------------------------------------------------------
# Q6: averaging window
# ---------------------------------------------------------------------------------------


def evaluate_averaging_window(subject: Subject, spec: ProblemSpec) -> Observation:
    """Windows close exactly at steps j with (j+1) ≡ 0 (mod L), and the average is
    w_n = (1/L)·Σ_{i=j−L+1}^{j} w_i (pre-step iterates, ``params[i]``), resets included.
    Tolerance per entry: both sides sum the same L floats, each with error ≤ γ_L·Σ|w_i|
    (Higham Lemma 3.1), so ‖Δ‖_∞ ≤ 2γ_L·max_i‖w_i‖_∞."""
    _, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    windows = after_reset = 0
    worst = 0.0
    since_reset = False
    for j in range(traj.steps):
        post = traj.states[j + 1]
        L = post.L
        should = (j + 1) % L == 0
        q = {"step": float(j), "L": float(L), "windows": float(windows)}
        t0 = Tolerance(0.0, "exact: window positions")
        if post.averaged != should:
            return _fail(f"step {j}: a window {'closed' if post.averaged else 'did not close'}"
                         f" although (j+1) mod L = {(j + 1) % L}", float(post.averaged),
                         float(should), "windows close every L steps", t0, f"step {j}",
                         q)  # fmt: skip
        if not should:
            continue
        W = np.stack([_flat(traj.params[i]) for i in range(j - L + 1, j + 1)])
        mean = W.sum(axis=0) / L
        err = float(np.max(np.abs(post.w_n - mean)))
        tol = 2 * gamma(L, np.float64) * float(np.max(np.abs(W)))
        windows += 1
        after_reset += int(since_reset)
        since_reset = bool(post.reset)
        q.update({"|w_n - mean|_inf": err, "after_reset": float(after_reset)})
        if not err <= tol:
            return _fail(
                f"step {j}: w_n is not the mean of the last L = {L} iterates (error "
                f"{err:.3g} > {tol:.3g})", err, tol, "‖w_n − mean(w_{j−L+1..j})‖∞ ≤ 2γ_L max|w|",
                Tolerance(tol, "2γ_L·max|w|"), f"step {j}", q,
            )  # fmt: skip
        worst = max(worst, err / tol if tol > 0 else 0.0)
    if windows == 0:
        return Observation.na("no averaging window closed")
    return _pass(f"{windows} windows ({after_reset} after a reset), worst {worst:.2g} of tol",
                 worst, 1.0, "‖w_n − mean‖∞/tol ≤ 1", Tolerance(0.0, "2γ_L·max|w|"),
                 {"windows": float(windows), "after_reset": float(after_reset)},
                 worst)  # fmt: skip


# ---------------------------------------------------------------------------------------
# Q7/Q10: reset rule
# ---------------------------------------------------------------------------------------


def evaluate_reset(subject: Subject, spec: ProblemSpec) -> Observation:
    """At every window after the first: reset ⇔ f_M(w_n) > γ·f_M(w_o) (γ = 1.01, f_M on
    the fixed monitoring subset, recomputed here; decisions within 2δ_f·(1+γ) of the
    threshold are not judged, δ_f the loss rounding); after a reset the memory is empty,
    w_{j+1} = w_o (bitwise) and w_o is unchanged; the monitoring set never changes."""
    from rnnverify.optimizers.adaqn import subproblem, unflatten

    problem, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    t0 = Tolerance(0.0, "exact")
    judged = resets = 0
    monitor0 = traj.states[0].monitor
    for j in range(traj.steps):
        pre, post = traj.states[j], traj.states[j + 1]
        q: dict[str, float] = {"step": float(j)}
        if not np.array_equal(post.monitor, monitor0):
            return _fail(f"step {j}: the monitoring set changed", 1.0, 0.0,
                         "monitor fixed", t0, f"step {j}", q)  # fmt: skip
        if post.reset:
            resets += 1
            m = post.S.shape[0]
            w_next = _flat(traj.params[j + 1])
            q.update({"memory": float(m), "|w - w_o|": float(np.max(np.abs(w_next - pre.w_o))),
                      "|w_o change|": float(np.max(np.abs(post.w_o - pre.w_o)))})  # fmt: skip
            if m != 0:
                return _fail(f"step {j}: reset left {m} pairs in memory", float(m), 0.0,
                             "memory empty after a reset", t0, f"step {j}", q)  # fmt: skip
            if not np.array_equal(w_next, pre.w_o):
                return _fail(f"step {j}: after the reset w ≠ w_o", q["|w - w_o|"], 0.0,
                             "w = w_o after a reset", t0, f"step {j}", q)  # fmt: skip
            if not np.array_equal(post.w_o, pre.w_o):
                return _fail(f"step {j}: the reset changed w_o", q["|w_o change|"], 0.0,
                             "w_o unchanged by a reset", t0, f"step {j}", q)  # fmt: skip
        if not (post.averaged and pre.t > 0):
            continue
        sub = subproblem(problem, monitor0)
        like = problem.params0
        p_new, p_old = unflatten(post.w_n, like), unflatten(pre.w_o, like)
        f_new, f_old = sub.loss(p_new), sub.loss(p_old)
        delta = loss_rounding(sub, p_new).value + RESET_FACTOR * loss_rounding(sub, p_old).value
        gap = f_new - RESET_FACTOR * f_old
        q.update({"f_M(w_n)": f_new, "f_M(w_o)": f_old, "delta": delta})
        if math.isfinite(gap) and abs(gap) <= 2 * delta:
            continue  # too close to the threshold to judge
        judged += 1
        expected = gap > 0 or not math.isfinite(f_new)  # non-finite f_M(w_n): reset (stochQN)
        if expected != post.reset:
            return _fail(
                f"step {j}: f_M(w_n) = {f_new:.6g} vs 1.01·f_M(w_o) = {RESET_FACTOR * f_old:.6g}"
                f" but reset = {post.reset}", f_new, RESET_FACTOR * f_old,
                "reset ⇔ f_M(w_n) > 1.01·f_M(w_o)",
                Tolerance(2 * delta, "2·(δ_f(w_n) + γ δ_f(w_o))"), f"step {j}", q,
            )  # fmt: skip
    if judged == 0 and resets == 0:
        return Observation.na("no reset decision was taken")
    return _pass(f"{judged} reset decisions judged, {resets} resets", float(resets), 0.0,
                 "reset ⇔ f_M(w_n) > 1.01 f_M(w_o)", t0,
                 {"judged": float(judged), "resets": float(resets)}, 0.0)  # fmt: skip


# ---------------------------------------------------------------------------------------
# Q8: AdaGrad H0
# ---------------------------------------------------------------------------------------

H0_EPS = {"1e-4": 1e-4, "sqrt_eps": float(np.sqrt(np.finfo(np.float64).eps))}
"""ε of H0 (option ``eps``): stochQN's scal_reg = 1e-4, minSQN's sqrt(ε_mach) (§6)."""


def evaluate_h0_adagrad(subject: Subject, spec: ProblemSpec) -> Observation:
    """After step k: h0_k = 1/sqrt(Σ_{j≤k} g_j² + ε) (g_j the recorded minibatch
    gradients, the current one included), h0_k > 0, and h0_k ≤ h0_{k−1} entrywise (exact:
    the accumulated sum never decreases in floating point). Tolerance, relative: the
    recomputed sum of k squares and the optimizer's running sum each carry ≤ γ_k (Higham
    Lemma 3.1), then the sqrt and the division one rounding each: 2·(γ_k + 2u)."""
    eps_h0 = H0_EPS[H0_ADAGRAD.option(subject, "eps")]
    _, traj = _run(subject, spec)
    if isinstance(traj, Observation):
        return traj
    acc = None
    worst = 0.0
    judged = 0
    for j in range(traj.steps):
        pre, post = traj.states[j], traj.states[j + 1]
        if not _finite(post.g):
            break  # the problem overflowed (divergence)
        acc = post.g * post.g if acc is None else acc + post.g * post.g
        expect = 1.0 / np.sqrt(acc + eps_h0)
        rel = float(np.max(np.abs(post.h0 - expect) / expect))
        k = j + 1
        tol = 2 * (gamma(k, np.float64) + 2 * gamma(1, np.float64))
        q = {"step": float(j), "max rel err": rel, "min h0": float(np.min(post.h0))}
        t = Tolerance(tol, "2·(γ_k + 2u): two sums of k squares, sqrt, division", {"k": k})
        if not rel <= tol:
            i = int(np.argmax(np.abs(post.h0 - expect) / expect))
            return _fail(
                f"step {j}: h0[{i}] = {post.h0[i]:.6g} ≠ 1/sqrt(Σ g² + ε) = {expect[i]:.6g}",
                rel, tol, "|h0 − 1/sqrt(Σ_j g_j² + ε)|/h0 ≤ tol", t, f"h0[{i}]", q,
            )  # fmt: skip
        if not float(np.min(post.h0)) > 0:
            return _fail(f"step {j}: h0 not positive", float(np.min(post.h0)), 0.0, "h0 > 0",
                         t, f"step {j}", q)  # fmt: skip
        if j > 0 and np.any(post.h0 > pre.h0):
            i = int(np.argmax(post.h0 - pre.h0))
            return _fail(f"step {j}: h0[{i}] increased", float(post.h0[i]), float(pre.h0[i]),
                         "h0_k ≤ h0_{k−1}", t, f"h0[{i}]", q)  # fmt: skip
        judged += 1
        worst = max(worst, rel / tol)
    if judged == 0:
        return Observation.na("no finite step")
    return _pass(f"{judged} steps; worst {worst:.2g} of tol", worst, 1.0,
                 "|h0 − 1/sqrt(Σ g² + ε)|/h0 ≤ tol", Tolerance(0.0, "2·(γ_k + 2u)"),
                 {"steps": float(judged)}, worst)  # fmt: skip


TWO_LOOP_DENSE = register_claim(
    Claim(
        id="qn.two_loop_dense",
        summary="the L-BFGS two-loop direction equals the dense inverse-BFGS H·g",
        source=SOURCE + " §2, §3, §7 Q1; Nocedal & Wright (2006) Alg. 7.4, eq. (6.17)",
        evaluate=evaluate_two_loop_dense,
        figure="{:.2g} of tol",
    )
)
SECANT = register_claim(
    Claim(
        id="qn.secant",
        summary="H y_newest = s_newest for the newest pair",
        source=SOURCE + " §3, §7 Q2",
        evaluate=evaluate_secant,
        figure="{:.2g} of tol",
    )
)
POSITIVE_DEFINITE = register_claim(
    Claim(
        id="qn.positive_definite",
        summary="H0 > 0 and all sᵀy > 0 ⇒ vᵀHv > 0 (−Hg is a descent direction)",
        source=SOURCE + " §3, §7 Q3",
        evaluate=evaluate_positive_definite,
        worst="min",
        figure="cos {:.2g}",
    )
)
DESCENT_DIRECTION = register_claim(
    Claim(
        id="qn.descent_direction",
        summary="every non-reset step moves along a descent direction: ⟨g_j, w_(j+1) − w_j⟩ < 0",
        source=SOURCE + " §3, §7 Q3",
        evaluate=evaluate_descent_direction,
        figure="cos {:.2g}",
    )
)
FISHER_PAIR = register_claim(
    Claim(
        id="qn.fisher_pair",
        summary="y = (1/|F|)Fᵀ(F s) (or Fᵀ(F s), declared), so sᵀy ≥ 0 and y ∈ span(F)",
        source=SOURCE + " §1.3, §3, §7 Q4",
        evaluate=evaluate_fisher_pair,
        options={"normalized": ("yes", "no")},
        figure="{:.2g}·τ",
    )
)
PAIR_ACCEPTANCE = register_claim(
    Claim(
        id="qn.pair_acceptance",
        summary="a pair is stored iff the declared curvature test holds; FIFO memory ≤ M",
        source=SOURCE + " §4, §7 Q5",
        evaluate=evaluate_pair_acceptance,
        options={"test": ACCEPTANCE_TESTS},
        figure="{:.0f} pairs",
    )
)
AVERAGING_WINDOW = register_claim(
    Claim(
        id="adaqn.averaging_window",
        summary="every averaged iterate is the mean of exactly L consecutive iterates",
        source=SOURCE + " §1.2, §7 Q6, §8 D1–D2",
        evaluate=evaluate_averaging_window,
        figure="{:.2g} of tol",
    )
)
RESET = register_claim(
    Claim(
        id="adaqn.reset",
        summary="f_M(w_n) > 1.01 f_M(w_o) ⇔ reset: memory emptied, w = w_o, w_o kept",
        source=SOURCE + " §5, §7 Q7, Q10",
        evaluate=evaluate_reset,
        figure="{:.0f} resets",
    )
)
H0_ADAGRAD = register_claim(
    Claim(
        id="adaqn.h0_adagrad",
        summary="H0 = diag(1/sqrt(Σ_j g_j² + ε)), positive and non-increasing",
        source=SOURCE + " §6, §7 Q8, §8 D3",
        evaluate=evaluate_h0_adagrad,
        options={"eps": tuple(H0_EPS)},
        figure="{:.2g} of tol",
    )
)
