"""Allen-Zhu–Li–Song claims at (and near) initialization (theory/allen-zhu.md §1, §2, §7,
§8, §10 Z1, Z2, Z4, Z8, Z12).

The optimizer under test (rnnverify/optimizers/allen_zhu_gd.py) keeps in its state the
paper's W (trained), A, B (frozen), the normalized inputs X, targets Y, its forward G
(pre-activations g_{i,l}), H (h_{i,l}) and its Fact 2.5 gradient at the current W. The
checks recompute the theory's side themselves (never through rnnverify.allen_zhu).

``az.d_identity``
    h_{i,l} = D_{i,l} g_{i,l}, D = diag(1[g ≥ 0]) (bitwise), and g_{i,l} = W h_{i,l−1} + A x_{i,l}.
``az.gradient``
    The state's gradient vs a central difference of f(W) = Σ_i ½Σ_{l≥2}‖B h_{i,l} − y*‖².
``init.no_explosion``
    ‖Π_{l=1}^{10} D_l W‖₂ and the ratio to the length-5 product, at m = 64 (§8).
``init.variance``
    χ² tests of the variances 2/m (W, A) and 1/d (B) at m = 64, α = 10⁻⁶.
``relu.difference_lemma``
    φ(u) − φ(v) = Δ(u − v) with Δ diagonal in [0, 1], on every pair of the state's (g, h).
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from typing import Any

import numpy as np

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import run
from rnnverify.problems import ProblemSpec, make_problem, rng_for
from rnnverify.tolerance import (
    Tolerance,
    central_difference_step,
    central_difference_tolerance,
    gamma,
)
from rnnverify.tolerance import eps as eps_of
from rnnverify.verdict import Status, exact_repr

FIELDS = ("W", "A", "B", "X", "Y", "G", "H", "grad")
EPS = eps_of(np.float64)


def _trajectory(subject: Subject, spec: ProblemSpec, steps: int | None = None) -> Any:
    traj = subject.trajectory(make_problem(spec), steps, state_fields=FIELDS)
    return (None, traj) if isinstance(traj, Observation) else (traj, None)


def _finite(st: Any) -> bool:
    """Whether the state's W, G, H and gradient are finite (a diverged GD run is skipped;
    non-finite output from finite input is the contract's ``non_finite`` violation)."""
    return all(
        bool(np.all(np.isfinite(np.asarray(getattr(st, f))))) for f in ("W", "G", "H", "grad")
    )


def _obs(
    ok: bool,
    summary: str,
    measured: float,
    bound: float,
    tol: Tolerance,
    ineq: str,
    q: dict[str, Any],
    entry: str | None = None,
    inputs: str | None = None,
) -> Observation:
    ratio = measured / bound if bound > 0 else (0.0 if measured <= 0 else math.inf)
    return Observation(
        Status.PASS if ok else Status.FAIL,
        summary=summary,
        measured=measured,
        bound=bound,
        tolerance=tol,
        inequality=ineq,
        entry=None if ok else entry,
        quantities=q,
        inputs=None if ok else inputs,
        score=ratio,
    )


def _forward(W: Any, A: Any, X: Any) -> tuple[Any, Any]:
    """The check's own recurrence: g_l = W h_{l−1} + A x_l, h_l = max(g_l, 0); (n, L, m)."""
    n, L, _ = X.shape
    m = W.shape[0]
    G, H = np.empty((n, L, m)), np.empty((n, L, m))
    h = np.zeros((n, m))
    for t in range(L):
        g = h @ W.T + X[:, t, :] @ A.T
        h = np.maximum(g, 0.0)
        G[:, t], H[:, t] = g, h
    return G, H


def _f(W: Any, A: Any, B: Any, X: Any, Y: Any) -> float:
    """f(W) = Σ_i ½ Σ_{l=2}^{L} ‖B h_{i,l} − y*_{i,l}‖² (Sec. 2.2)."""
    _, H = _forward(W, A, X)
    R = H[:, 1:, :] @ B.T - Y[:, 1:, :]
    return 0.5 * float(np.sum(R * R))


# ---------------------------------------------------------------------------------------
# az.d_identity (Z1)
# ---------------------------------------------------------------------------------------


def _d_identity(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    worst: tuple[float, Any] = (-math.inf, None)
    for k, st in enumerate(traj.states):
        if not _finite(st):
            continue
        G, H, W, A, X = (np.asarray(getattr(st, f)) for f in ("G", "H", "W", "A", "X"))
        n, L, m = G.shape
        D = (G >= 0).astype(np.float64)
        err_h = float(np.max(np.abs(H - D * G)))  # D·g is exact: 0·g and 1·g
        # g_{i,l} = W h_{i,l−1} + A x_{i,l}: a length-(m + d_x) dot product per entry, off
        # by ≤ γ_{m+d_x}·(|W||h_{l−1}| + |A||x_l|), for the optimizer's and for this one
        Hprev = np.concatenate([np.zeros((n, 1, m)), H[:, :-1]], axis=1)
        g_chk = Hprev @ W.T + X @ A.T
        scale = np.abs(Hprev) @ np.abs(W).T + np.abs(X) @ np.abs(A).T
        tol_g = 2 * gamma(m + X.shape[2], np.float64) * scale
        r = np.abs(G - g_chk) / np.where(tol_g > 0, tol_g, EPS)
        i = np.unravel_index(int(np.argmax(r)), r.shape)
        checks = [
            (err_h, 0.0, "max |h − D·g| = 0 (bitwise)", f"h after step {k}"),
            (
                float(np.abs(G - g_chk)[i]),
                float(tol_g[i]),
                "|g_{i,l} − (W h_{i,l−1} + A x_{i,l})| ≤ 2γ_{m+d_x}(|W||h| + |A||x|)",
                f"g[{i[0]}, l={i[1] + 1}, {i[2]}] after step {k}",
            ),
        ]
        for measured, bound, ineq, where in checks:
            ratio = measured / bound if bound > 0 else (0.0 if measured <= 0 else math.inf)
            tol = Tolerance(bound, "0 for D·g (exact products by 0 and 1); 2γ_{m+d_x}·scale for g")
            if not measured <= bound:
                return _obs(
                    False,
                    f"{where}: {ineq} violated ({measured:.3g} > {bound:.3g})",
                    measured,
                    bound,
                    tol,
                    ineq,
                    {"step k": k, "m": m, "L": L},
                    where,
                    exact_repr({"G": G, "H": H}),
                )
            if ratio > worst[0]:
                worst = (ratio, (measured, bound, tol, ineq, where))
    if worst[1] is None:
        return Observation.na("no finite state to check (the run diverged)")
    measured, bound, tol, ineq, where = worst[1]
    return _obs(
        True, f"worst {where}: {measured:.3g} ≤ {bound:.3g}", measured, bound, tol, ineq, {}
    )


# ---------------------------------------------------------------------------------------
# az.gradient (Z2)
# ---------------------------------------------------------------------------------------


def _gradient(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    rng = rng_for(spec, 9)
    worst: tuple[float, Any] = (-math.inf, None)
    checked = 0
    for k, st in enumerate(traj.states):
        if not _finite(st):
            continue
        W, A, B, X, Y, grad = (np.asarray(getattr(st, f)) for f in FIELDS if f not in ("G", "H"))
        n, L, d_x = X.shape
        m, d = W.shape[0], B.shape[0]
        Dir = rng.standard_normal(W.shape)
        Dir /= np.linalg.norm(Dir)
        h = central_difference_step(np.float64)
        G0, H0 = _forward(W, A, X)
        pattern = G0 >= 0
        # a ReLU kink inside [−2h, 2h] makes the central difference meaningless: require
        # the activation pattern at the five evaluation points to be the one at W, and
        # every |g| ≥ 2h·‖D‖₂·(‖h‖ bound): a crude margin (n.a. otherwise)
        same = all(
            np.array_equal(_forward(W + t * Dir, A, X)[0] >= 0, pattern)
            for t in (-2 * h, -h, h, 2 * h)
        )
        if not same or float(np.min(np.abs(G0))) < 1e-8:
            continue
        checked += 1

        def f(t: float, W: Any = W, Dir: Any = Dir, A: Any = A, B: Any = B, X: Any = X) -> float:
            return _f(W + t * Dir, A, B, X, Y)  # noqa: B023 (called in this iteration only)

        D1 = (f(h) - f(-h)) / (2 * h)
        D2 = (f(2 * h) - f(-2 * h)) / (4 * h)
        directional = float(np.sum(grad * Dir))
        # δ_f: the loss is a chain of L recurrence steps (dot products of length m + d_x),
        # the readout (length m) and a sum over n·(L − 1)·d squares, each relative to
        # ½Σ(|B h| + |y*|)² (the rnnverify.tolerance.loss_rounding model)
        K = L * (m + d_x + 2) + m + 1 + n * d * L
        R_abs = np.abs(H0[:, 1:, :]) @ np.abs(B).T + np.abs(Y[:, 1:, :])
        delta_f = gamma(K, np.float64) * 0.5 * float(np.sum(R_abs * R_abs))
        tol = central_difference_tolerance(delta_f, h, abs(D2 - D1), directional, np.float64, K)
        err = abs(D1 - directional)
        ratio = err / tol.value if tol.value > 0 else math.inf
        q = {"step k": k, "FD": D1, "⟨∇f, D⟩": directional, "m": m, "L": L, "n": n}
        if not err <= tol.value:
            return _obs(
                False,
                f"step {k}: Fact 2.5 off its central difference by {err:.3g} > {tol.value:.3g}",
                err,
                tol.value,
                tol,
                "|D(h) − ⟨∇f(W), D⟩| ≤ tol",
                q,
                f"∇f at step {k}",
                exact_repr({"W": W, "A": A, "B": B, "X": X, "Y": Y, "D": Dir}),
            )
        if ratio > worst[0]:
            worst = (ratio, (err, tol, q))
    if not checked:
        return Observation.na("a ReLU kink within the difference step at every state")
    err, tol, q = worst[1]
    return _obs(
        True,
        f"|D(h) − ⟨∇f, D⟩| = {err:.3g} ≤ {tol.value:.3g}",
        err,
        tol.value,
        tol,
        "|D(h) − ⟨∇f(W), D⟩| ≤ tol",
        q,
    )


# ---------------------------------------------------------------------------------------
# init.no_explosion (Z8) and init.variance (Z4): at m = 64, the optimizer's own init
# ---------------------------------------------------------------------------------------

M_INIT = 64
"""The hidden size of the statistical init claims (§8: m ≥ 64 for a clean signal)."""
INITS = 8
"""Independent inits per example for init.no_explosion (seeds ``8·seed + k``)."""
S10_WINDOW = (math.sqrt(0.24 * 7.8), math.sqrt(7.8 * 245.0))
"""Pass window of ‖Π_{10} D W‖₂: the geometric midpoints between §7's values at variance
1/m (≈ 0.24), 2/m (≈ 7.8) and 4/m (≈ 245), i.e. a factor √32 = (√2)⁵ either side of 7.8
on a log scale (the three values are (√2)^{±10} apart)."""
RATIO_MAX = 4.0
"""§8: the ratio between lengths 10 and 5 is ≤ 4 at 2/m (≈ (√2)⁵ = 5.7 at 4/m)."""
ALPHA = 1e-6
"""False-alarm rate of init.variance per example (three tests, Bonferroni α/3 each)."""


def _init_states(subject: Subject, spec: ProblemSpec, count: int) -> Any:
    out = []
    for k in range(count):
        s64 = dataclasses.replace(
            spec,
            hidden=M_INIT,
            steps=10,
            batch=1,
            inputs=max(spec.inputs, 2),
            seed=INITS * spec.seed + k,
        )
        traj = run(subject.optimizer, make_problem(s64), 0, time_limit=subject.time_limit)
        if traj.violation is not None:
            return None, Observation.from_violation(traj.violation)
        st = traj.states[0]
        if not all(hasattr(st, f) for f in FIELDS):
            return None, Observation(
                Status.ERROR, summary="init.* claims need the state's W, G", score=math.inf
            )
        out.append((s64, st))
    return out, None


def _no_explosion(subject: Subject, spec: ProblemSpec) -> Observation:
    inits, bad = _init_states(subject, spec, INITS)
    if bad is not None:
        return bad
    s10, s5 = [], []
    for _, st in inits:
        W, G = np.asarray(st.W), np.asarray(st.G)
        P = np.eye(W.shape[0])
        for step in range(1, 11):
            P = (G[0, step - 1] >= 0)[:, None] * (W @ P)  # D_l W ⋯ D_1 W, l = step
            if step == 5:
                s5.append(float(np.linalg.norm(P, 2)))
        s10.append(float(np.linalg.norm(P, 2)))
    gm10 = math.exp(float(np.mean(np.log(np.maximum(s10, 1e-300)))))
    gm5 = math.exp(float(np.mean(np.log(np.maximum(s5, 1e-300)))))
    ratio = gm10 / gm5 if gm5 > 0 else math.inf
    lo, hi = S10_WINDOW
    tol = Tolerance(
        hi,
        "geometric midpoints of §7's 0.24 (1/m), 7.8 (2/m), 245 (4/m): a factor (√2)⁵ = 5.66 "
        f"either side of 7.8; geometric mean over {INITS} inits; ratio 10/5 ≤ 4 (§8)",
        {"low": lo, "high": hi, "ratio_max": RATIO_MAX},
    )
    # one score: how far out of the window, in the log-scale units of its half-width
    half = math.log(hi / 7.8)
    score = max(math.log(gm10 / 7.8) / half, math.log(7.8 / gm10) / half, ratio / RATIO_MAX)
    q = {
        "m": M_INIT,
        "geomean ‖Π₁₀ DW‖₂": gm10,
        "geomean ‖Π₅ DW‖₂": gm5,
        "ratio 10/5": ratio,
        "‖Π₁₀ DW‖₂ per init": s10,
    }
    ok = lo <= gm10 <= hi and ratio <= RATIO_MAX
    if not ok:
        why = "explodes" if gm10 > hi or ratio > RATIO_MAX else "vanishes"
        return Observation(
            Status.FAIL,
            summary=f"‖Π₁₀ D W‖₂ {why}: geometric mean {gm10:.3g} (window [{lo:.3g}, "
            f"{hi:.3g}]), ratio 10/5 = {ratio:.3g} (≤ {RATIO_MAX:g})",
            measured=gm10,
            bound=hi if gm10 > lo else lo,
            tolerance=tol,
            inequality="1.37 ≤ ‖Π₁₀ DW‖₂ ≤ 43.7 and ‖Π₁₀‖/‖Π₅‖ ≤ 4 (geometric means)",
            entry=f"init at m = {M_INIT}, seeds {INITS}·seed + 0..{INITS - 1}",
            quantities=q,
            score=score,
        )
    return Observation(
        Status.PASS,
        summary=f"geometric mean ‖Π₁₀ D W‖₂ = {gm10:.3g} ∈ [{lo:.3g}, {hi:.3g}], ratio {ratio:.3g}",
        measured=gm10,
        bound=hi,
        tolerance=tol,
        inequality="1.37 ≤ ‖Π₁₀ DW‖₂ ≤ 43.7 and ‖Π₁₀‖/‖Π₅‖ ≤ 4 (geometric means)",
        quantities=q,
        score=score,
    )


def _chi2_z(values: Any, var: float) -> float:
    """Wilson–Hilferty: with S = Σv²/var ~ χ²_N, (S/N)^{1/3} ≈ N(1 − 2/(9N), 2/(9N))."""
    v = np.asarray(values, dtype=np.float64).ravel()
    N = v.size
    S = float(np.sum(v * v)) / var
    return ((S / N) ** (1 / 3) - (1 - 2 / (9 * N))) / math.sqrt(2 / (9 * N))


def _variance(subject: Subject, spec: ProblemSpec) -> Observation:
    inits, bad = _init_states(subject, spec, 1)
    if bad is not None:
        return bad
    s64, st = inits[0]
    W, A, B = np.asarray(st.W), np.asarray(st.A), np.asarray(st.B)
    m, d = W.shape[0], B.shape[0]
    z = {"W (2/m)": _chi2_z(W, 2 / m), "A (2/m)": _chi2_z(A, 2 / m), "B (1/d)": _chi2_z(B, 1 / d)}
    crit = NormalDist().inv_cdf(1 - ALPHA / 6)  # two-sided, three tests
    name, zmax = max(z.items(), key=lambda kv: abs(kv[1]))
    tol = Tolerance(
        crit,
        f"z_(1 − α/6), α = {ALPHA:g}: two-sided χ² variance tests of W, A, B (Wilson–Hilferty "
        "normal approximation), Bonferroni over the three",
        {"alpha": ALPHA, "N_W": W.size, "N_A": A.size, "N_B": B.size},
    )
    q = {"m": m, "d": d, **{f"z {k}": v for k, v in z.items()}, "seed": s64.seed}
    return _obs(
        abs(zmax) <= crit,
        f"|z| of {name} = {abs(zmax):.3g} " + ("≤" if abs(zmax) <= crit else ">") + f" {crit:.3g}",
        abs(zmax),
        crit,
        tol,
        "max |z| ≤ z_(1−α/6)",
        q,
        f"init at m = {m}",
        None,
    )


# ---------------------------------------------------------------------------------------
# relu.difference_lemma (Z12)
# ---------------------------------------------------------------------------------------


def _difference(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    worst: tuple[float, Any] = (-math.inf, None)
    for k, st in enumerate(traj.states):
        if not _finite(st):
            continue
        G = np.asarray(st.G).reshape(-1, np.asarray(st.G).shape[-1])  # all (i, l) as rows
        H = np.asarray(st.H).reshape(G.shape)
        iu, ju = np.triu_indices(G.shape[0], 1)
        du, dh = G[iu] - G[ju], H[iu] - H[ju]
        same = du == 0
        # where u = v the lemma needs φ(u) = φ(v) exactly
        if iu.size == 0:
            continue
        excess_eq = float(np.max(np.abs(dh[same]))) if np.any(same) else -math.inf
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = np.where(same, 0.5, dh / np.where(same, 1.0, du))
        # Δ = fl(fl(φ(u) − φ(v))/fl(u − v)): φ's values rounded by ε|h| each, the two
        # differences and the division by ε each: τ = 2ε(|h| + |h'|)/|u − v| + 2ε
        absdu = np.where(same, 1.0, np.abs(du))
        tau = 2 * EPS * (np.abs(H[iu]) + np.abs(H[ju])) / absdu + 2 * EPS
        excess = np.maximum(-delta - tau, delta - 1 - tau)
        excess = np.where(same, -tau, excess)
        r = int(np.argmax(excess))
        measured = max(float(excess.ravel()[r]), excess_eq)
        if not measured <= 0:
            p, c = np.unravel_index(r, excess.shape)
            tol = Tolerance(float(tau.ravel()[r]), "2ε(|h| + |h'|)/|u − v| + 2ε")
            u, v = float(G[iu[p], c]), float(G[ju[p], c])
            why = (
                f"step {k}: Δ = {float(delta[p, c]):.3g} outside [0, 1] (u = {u!r}, v = {v!r})"
                if excess_eq <= 0
                else f"step {k}: φ(u) ≠ φ(v) where u = v"
            )
            return _obs(
                False,
                why,
                measured,
                0.0,
                tol,
                "Δ_kk = (φ(u_k) − φ(v_k))/(u_k − v_k) ∈ [−τ, 1 + τ]",
                {"step k": k, "Δ": float(delta[p, c]), "τ": float(tau[p, c])},
                f"pair {int(iu[p])}, {int(ju[p])} (rows (i, l)), coord. {int(c)}, step {k}",
                exact_repr({"u": G[iu[p]], "v": G[ju[p]], "phi_u": H[iu[p]], "phi_v": H[ju[p]]}),
            )
        if measured > worst[0]:
            worst = (measured, (k, int(iu.size)))
    if worst[1] is None:
        return Observation.na("no pair of pre-activations")
    k, pairs = worst[1]
    tol = Tolerance(0.0, "Δ ∈ [−τ, 1 + τ], τ = 2ε(|h| + |h'|)/|u − v| + 2ε; reported: excess")
    return _obs(
        True,
        f"Δ ∈ [0, 1] on all pairs ({pairs} per state); worst excess {worst[0]:.3g}",
        worst[0],
        0.0,
        tol,
        "max excess of Δ over [−τ, 1 + τ] ≤ 0",
        {"pairs per state": pairs},
    )


def _claim(cid: str, summary: str, source: str, fn: Any, **kw: Any) -> Claim:
    return register_claim(
        Claim(
            id=cid,
            summary=summary,
            source=source,
            evaluate=fn,
            figure="{:.3g}",
            family=kw.pop(
                "family", {"cells": ("elman",), "activations": ("relu",), "inputs": (2, 4)}
            ),
            **kw,
        )
    )


D_IDENTITY = _claim(
    "az.d_identity",
    "h_{i,l} = D_{i,l} g_{i,l}, D = diag(1[g ≥ 0]), g_{i,l} = W h_{i,l−1} + A x_{i,l}",
    "theory/allen-zhu.md §1, §10 Z1 (arXiv 1810.12065v4 Sec. 2.1)",
    _d_identity,
)
GRADIENT = _claim(
    "az.gradient",
    "Fact 2.5: ∇f(W) = Σ_i Σ_{a≥2} Σ_{l<a} D_{l+1}(Back_{l+1→a}ᵀ loss_a) h_lᵀ matches a "
    "central difference of f (loss from l = 2)",
    "theory/allen-zhu.md §2, §10 Z2 (Fact 2.5, p. 5)",
    _gradient,
    family={"cells": ("elman",), "activations": ("relu",), "inputs": (2, 4), "steps": (2, 10)},
)
NO_EXPLOSION = _claim(
    "init.no_explosion",
    "at m = 64, ‖Π₁₀ D W‖₂ ≈ 7.8 (no explosion ≈ 245 at 4/m, no vanishing ≈ 0.24 at 1/m)",
    "theory/allen-zhu.md §7, §8, §10 Z8 (Lemma B.11)",
    _no_explosion,
)
VARIANCE = _claim(
    "init.variance",
    "entries of W and A have variance 2/m, of B 1/d (χ² tests at α = 10⁻⁶)",
    "theory/allen-zhu.md §1, §7, §10 Z4 (Def. 2.3)",
    _variance,
)
DIFFERENCE_LEMMA = _claim(
    "relu.difference_lemma",
    "φ(u) − φ(v) = Δ(u − v) with Δ diagonal, entries in [0, 1]",
    "theory/allen-zhu.md §6 (Claim G.2), §10 Z12",
    _difference,
)
