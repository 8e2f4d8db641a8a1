"""MomentumRNN claims (theory/orthogonal.md §5.2, §5.3 MOM-1…MOM-5).

The optimizer under test (rnnverify/optimizers/momentum_sgd.py) keeps in its state, after
``init`` and after every step, what its cell computes at the current parameters: μ, s,
the forward states ``H``/``Vel``, the Jacobians ``J_h``/``J_x`` and the augmented linear
map ``A`` (paper's letters: U = W_hh recurrent, W = W_ih input). Every check recomputes
the theory's side itself (its own loop below, never rnnverify.momentum), so a broken cell
is a broken optimizer that these claims catch.

``momentum.reduces_to_vanilla``
    μ = 0, s = 1: ``H`` equals the problem's Elman forward bitwise (§5.2 item 1).
``momentum.second_order_identity``
    tanh, t ≥ 2: h_t = σ(U h_{t−1} + μ(σ⁻¹(h_{t−1}) − U h_{t−2}) + s W x_t) on ``H``
    (§5.2 item 2; σ⁻¹(h) = artanh(h) − b with the bias inside σ).
``momentum.jacobians``
    ``J_h[t]`` = ∂h_T/∂h_t with v_t fixed and ``J_x[t]`` = ∂h_T/∂x_{t+1} against central
    differences of the check's forward (§5.2 item 4), smooth σ (tanh, identity).
``momentum.linear_stability``
    spec(A) = spec(U) ∪ {μ} (§5.2 item 5, MOM-4) and ‖v_t‖ ≤ |s|·max_{j≤t}‖W x_j‖·Σ_{i<t}|μ|^i
    (MOM-5) on ``Vel``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.tolerance import Tolerance, central_difference_step, eps, gamma
from rnnverify.verdict import Status, exact_repr

FIELDS = ("mu", "s", "H", "Vel", "J_h", "J_x", "A")


def _trajectory(subject: Subject, spec: ProblemSpec) -> Any:
    traj = subject.trajectory(make_problem(spec), state_fields=FIELDS)
    return (None, traj) if isinstance(traj, Observation) else (traj, None)


def _finite(traj: Any, k: int) -> bool:
    """Whether parameters and forward states of step k are finite. A diverged GD run (too
    large a step for the problem, e.g. identity activation) is skipped: the claims are
    about the cell, and non-finite output from finite input is the contract's
    ``non_finite`` violation already."""
    st = traj.states[k]
    arrays = [*traj.params[k].values(), np.asarray(st.H), np.asarray(st.Vel)]
    return all(bool(np.all(np.isfinite(a))) for a in arrays)


class _Worst:
    """The worst ratio measured/bound seen so far, and the first violation."""

    def __init__(self) -> None:
        self.ratio = -math.inf
        self.item: dict[str, Any] | None = None
        self.fail: dict[str, Any] | None = None

    def add(self, measured: float, bound: float, **item: Any) -> None:
        ratio = measured / bound if bound > 0 else (0.0 if measured <= 0 else math.inf)
        entry = dict(item, measured=measured, bound=bound, ratio=ratio)
        if ratio > self.ratio:
            self.ratio, self.item = ratio, entry
        if self.fail is None and not measured <= bound:
            self.fail = entry

    def observation(self, ineq: str, what: str) -> Observation:
        it = self.fail or self.item
        if it is None:
            return Observation.na("no finite state to check (the run diverged)")
        status = Status.FAIL if self.fail is not None else Status.PASS
        head = f"{it['where']}: {what} violated" if self.fail else f"worst {it['where']}"
        return Observation(
            status,
            summary=f"{head}: {it['measured']:.3g} vs bound {it['bound']:.3g}",
            measured=it["measured"],
            bound=it["bound"],
            tolerance=it["tol"],
            inequality=ineq,
            entry=it["where"] if self.fail else None,
            quantities=it.get("q", {}),
            inputs=it.get("inputs") if self.fail else None,
            score=it["ratio"],
        )


# ---------------------------------------------------------------------------------------
# the check's own forward (theory/orthogonal.md §5.1), independent of rnnverify.momentum
# ---------------------------------------------------------------------------------------


def _run(U: Any, W: Any, b: Any, xs: Any, h: Any, v: Any, mu: float, s: float, act: Any) -> Any:
    """h after the inputs ``xs`` (k, m, B) from (h, v): v ← μv + sWx, h ← σ(Uh + v; b)."""
    bb = b[:, None]
    for x in xs:
        v = mu * v + s * (W @ x)
        h = act.forward(U @ h + v, bb)
    return h, v


# ---------------------------------------------------------------------------------------
# momentum.reduces_to_vanilla (MOM-1)
# ---------------------------------------------------------------------------------------


def _vanilla(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    w = _Worst()
    for k, st in enumerate(traj.states):
        mu, s = float(st.mu), float(st.s)
        if not _finite(traj, k):
            continue
        if not (mu == 0.0 and s == 1.0):
            return Observation.na(f"μ = {mu!r}, s = {s!r}: the claim is about μ = 0, s = 1")
        H = np.asarray(st.H)
        ref = np.stack(traj.problem.forward(traj.params[k]).h)
        diff = np.abs(H - ref)
        i = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else (0,)
        tol = Tolerance(
            0.0,
            "0 (bitwise): the same operations in the same order — W x_t for all t as one "
            "product, v = 0·v + 1·Wx and 1·a, 0·a are exact, then z = v + U h = Wx + U h",
            {},
        )
        w.add(
            float(diff.max()) if diff.size else 0.0,
            0.0,
            where=f"h_{i[0]} after step {k}",
            tol=tol,
            q={"step k": k, "index (t, i, b)": tuple(int(j) for j in i)},
            inputs=exact_repr({"H_momentum": H, "H_elman": ref}),
        )
    return w.observation("max |h_t(μ=0, s=1) − h_t(Elman)| = 0", "bitwise equality")


# ---------------------------------------------------------------------------------------
# momentum.second_order_identity (MOM-2)
# ---------------------------------------------------------------------------------------


def _second_order(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    e = eps(spec.real_dtype)
    n, m = spec.hidden, spec.inputs
    g = gamma(n + m + 4, spec.real_dtype)
    w = _Worst()
    skipped = 0
    x = traj.problem.data.x
    for k, st in enumerate(traj.states):
        if not _finite(traj, k):
            continue
        p = traj.params[k]
        U, W, b = p["W_hh"], p["W_ih"], p["b"][:, None]
        mu, s = float(st.mu), float(st.s)
        H = np.asarray(st.H)
        for t in range(2, spec.steps + 1):
            h1, h2, h = H[t - 1], H[t - 2], H[t]
            one_minus = 1.0 - h1 * h1
            if np.any(one_minus <= 0):  # |h| rounded to 1: σ⁻¹ undefined
                skipped += 1
                continue
            inv = np.arctanh(h1) - b
            Wx = W @ x[t - 1]
            z = U @ h1 + mu * (inv - U @ h2) + s * Wx + b
            rhs = np.tanh(z)
            # h_{t−1} = tanh(ẑ)(1 + δ), |δ| ≤ 2ε ⇒ artanh moves by 2ε|h|/(1 − h²); every
            # product/sum on both sides (the optimizer's z and this z) errs by γ_{n+m+4}
            # relative to the sum of the absolute values P; tanh is 1-Lipschitz with
            # tanh' = 1 − h² and |tanh''| ≤ 0.77; both tanh evaluations round by ε|h|.
            P = (
                np.abs(U) @ np.abs(h1)
                + abs(mu) * (np.abs(inv) + np.abs(b) + np.abs(U) @ np.abs(h2))
                + abs(s) * (np.abs(W) @ np.abs(x[t - 1]))
                + np.abs(b)
            )
            dz = abs(mu) * 2 * e * np.abs(h1) / one_minus + 2 * g * P
            tol_arr = dz * np.minimum(1.0, (1 - h * h) + 0.77 * dz) + 2 * e * np.abs(h)
            err = np.abs(h - rhs)
            ratio = err / tol_arr
            i = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            w.add(
                float(err[i]),
                float(tol_arr[i]),
                where=f"h_{t}[{i[0]}, {i[1]}] after step {k}",
                tol=Tolerance(
                    float(tol_arr[i]),
                    "Δz·min(1, 1 − h_t² + 0.77Δz) + 2ε|h_t|, Δz = |μ|·2ε|h_{t−1}|/(1 − "
                    "h_{t−1}²) + 2γ_{n+m+4}·P (P: the sum of |terms| of the pre-activation)",
                    {"eps": e, "gamma": g, "P": float(P[i]), "dz": float(dz[i])},
                ),
                q={"step k": k, "t": t, "μ": mu, "s": s, "h_t": float(h[i]), "σ(…)": float(rhs[i])},
                inputs=exact_repr({"h_t": h, "h_t-1": h1, "h_t-2": h2}),
            )
    if w.item is None:
        return Observation.na(f"no t ≥ 2 with |h_{{t−1}}| < 1 ({skipped} skipped)")
    return w.observation(
        "|h_t − σ(U h_{t−1} + μσ⁻¹(h_{t−1}) − μU h_{t−2} + sWx_t)| ≤ tol (entrywise)",
        "second-order identity",
    )


# ---------------------------------------------------------------------------------------
# momentum.jacobians (MOM-3)
# ---------------------------------------------------------------------------------------


def _jacobians_at(
    w: _Worst,
    k: int,
    U: Any,
    W: Any,
    b: Any,
    st: Any,
    x0: Any,
    h00: Any,
    act: Any,
    spec: ProblemSpec,
) -> None:
    """Compare the state's J_h, J_x at step k with central differences (column 0)."""
    T, n, m = spec.steps, spec.hidden, spec.inputs
    e = eps(spec.real_dtype)
    K = n + m + 4 + T
    gK = gamma(K, spec.real_dtype)
    mu, s = float(st.mu), float(st.s)
    J_h, J_x = np.asarray(st.J_h), np.asarray(st.J_x)
    # the check's states h_t, v_t (column 0) to start the perturbed runs from
    hs, vs = [h00], [np.zeros_like(h00)]
    for t in range(T):
        h, v = _run(U, W, b, x0[t : t + 1], hs[-1], vs[-1], mu, s, act)
        hs.append(h)
        vs.append(v)
    # δ_f: rounding of h_T, each step erring by γ_K·S (S: the largest |Uh| + |v| + |b|)
    # and carried to h_T with gain ≤ ‖U‖_∞ per step (|σ'| ≤ 1 for tanh and identity)
    S = max(
        float(np.max(np.abs(U) @ np.abs(hs[j]) + np.abs(vs[j + 1]) + np.abs(b)[:, None]))
        for j in range(T)
    )
    gain = float(np.linalg.norm(U, np.inf))
    delta_f = gK * S * float(np.sum(np.power(max(gain, 1.0), np.arange(T)))) + e

    def compare(name: str, t: int, col: int, got: Any, f: Any, scale: float) -> None:
        hstep = central_difference_step(spec.real_dtype) * max(1.0, scale)
        D1 = (f(hstep) - f(-hstep)) / (2 * hstep)
        D2 = (f(2 * hstep) - f(-2 * hstep)) / (4 * hstep)
        # central_difference_tolerance, entrywise (rnnverify.tolerance)
        tol_arr = 2 * (1.5 * delta_f / hstep + np.abs(D2 - D1) / 3 + gK * np.abs(got))
        err = np.abs(D1 - got)
        i = int(np.argmax(err / tol_arr))
        w.add(
            float(err[i]),
            float(tol_arr[i]),
            where=f"{name}[{t}][{i}, {col}] after step {k}",
            tol=Tolerance(
                float(tol_arr[i]),
                "2·(1.5·δ_f/h + |D(2h) − D(h)|/3 + γ_K·|J|), δ_f = γ_K·S·Σ_j max(1, ‖U‖_∞)^j + ε",
                {"delta_f": delta_f, "h": hstep, "K": K},
            ),
            q={"step k": k, "FD": float(D1[i]), "optimizer": float(got[i]), "μ": mu, "s": s},
            inputs=exact_repr({"U": U, "W": W, "b": b, "x": x0}),
        )

    for t in range(T):
        for c in range(n):

            def f_h(d: float, t: int = t, c: int = c) -> Any:
                h = hs[t].copy()
                h[c, 0] += d
                return _run(U, W, b, x0[t:], h, vs[t], mu, s, act)[0][:, 0]

            compare("∂h_T/∂h_t (v_t fixed)", t, c, J_h[t][:, c], f_h, abs(float(hs[t][c, 0])))
        for c in range(m):

            def f_x(d: float, t: int = t, c: int = c) -> Any:
                xx = x0.copy()
                xx[t, c, 0] += d
                return _run(U, W, b, xx, h00, np.zeros_like(h00), mu, s, act)[0][:, 0]

            compare("∂h_T/∂x_t", t + 1, c, J_x[t][:, c], f_x, abs(float(x0[t, c, 0])))


def _jacobians(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    act = traj.problem.activation
    data = traj.problem.data
    x0 = np.asarray(data.x[:, :, :1])  # batch column 0, as the state's Jacobians
    h00 = np.asarray(data.h0[:, :1])
    w = _Worst()
    for k, st in enumerate(traj.states):
        if not _finite(traj, k):
            continue
        p = traj.params[k]
        _jacobians_at(w, k, p["W_hh"], p["W_ih"], p["b"], st, x0, h00, act, spec)
    return w.observation("|FD − J| ≤ tol (entrywise)", "Jacobian")


# ---------------------------------------------------------------------------------------
# momentum.linear_stability (MOM-4, MOM-5)
# ---------------------------------------------------------------------------------------


def _kappa(A: Any) -> float:
    _, X = np.linalg.eig(A)
    try:
        Y = np.linalg.inv(X)
    except np.linalg.LinAlgError:
        return math.inf
    return float(np.max(np.linalg.norm(X, axis=0) * np.linalg.norm(Y, axis=1)))


def _hausdorff(a: Any, b: Any) -> float:
    d = np.abs(a[:, None] - b[None, :])
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def _stability(subject: Subject, spec: ProblemSpec) -> Observation:
    traj, bad = _trajectory(subject, spec)
    if bad is not None:
        return bad
    e = eps(spec.real_dtype)
    n, m = spec.hidden, spec.inputs
    x = traj.problem.data.x
    w = _Worst()
    for k, st in enumerate(traj.states):
        if not _finite(traj, k):
            continue
        U, W = traj.params[k]["W_hh"], traj.params[k]["W_ih"]
        mu, s = float(st.mu), float(st.s)
        A = np.asarray(st.A)
        expected = np.concatenate([np.linalg.eigvals(U), np.full(n, mu)])
        got = np.linalg.eigvals(A)
        # backward-stable eig (error ≈ N²ε‖·‖_F for an N×N matrix, Higham Lemma 19.3)
        # moved by the eigenvalue condition number κ (first-order Bauer–Fike): once for A
        # (N = 2n), once for U (N = n)
        kA, kU = _kappa(A), _kappa(U)
        bound = (4 * n * n + 1) * e * kA * float(np.linalg.norm(A)) + (n * n + 1) * e * kU * float(
            np.linalg.norm(U)
        )
        w.add(
            _hausdorff(got, expected),
            bound,
            where=f"spec(A) after step {k}",
            tol=Tolerance(
                bound,
                "(4n² + 1)·ε·κ_A·‖A‖_F + (n² + 1)·ε·κ_U·‖U‖_F (backward-stable eig, Bauer–Fike)",
                {"kappa_A": kA, "kappa_U": kU},
            ),
            q={
                "step k": k,
                "μ": mu,
                "s": s,
                "eig(A)": got.tolist(),
                "eig(U) ∪ {μ}": expected.tolist(),
            },
            inputs=exact_repr({"A": A, "U": U}),
        )
        Vel = np.asarray(st.Vel)
        WX = W @ x  # (T, n, B)
        norms = np.linalg.norm(np.abs(W) @ np.abs(x), axis=1)  # ‖|W||x_j|‖ per (j, b)
        wx = np.linalg.norm(WX, axis=1)
        for t in range(1, spec.steps + 1):
            geo = sum(abs(mu) ** i for i in range(t))
            vt = np.linalg.norm(Vel[t], axis=0)
            bnd = abs(s) * wx[:t].max(axis=0) * geo
            # the optimizer's v_t = Σ μ^{t−j} s·Wx_j errs by γ_{m+t+2} relative to
            # Σ |μ|^{t−j}|s|·|W||x_j|; the check's norms by (n + 1)ε
            tol = gamma(m + t + 2, spec.real_dtype) * abs(s) * norms[:t].max(axis=0) * geo
            tol = tol + (n + 1) * e * (vt + bnd)
            excess = vt - bnd
            i = int(np.argmax(excess / np.where(tol > 0, tol, e)))
            w.add(
                float(excess[i]),
                float(tol[i]),
                where=f"‖v_{t}‖ (batch {i}) after step {k}",
                tol=Tolerance(
                    float(tol[i]),
                    "γ_{m+t+2}·|s|·max_j‖|W||x_j|‖·Σ|μ|^i + (n+1)ε(‖v_t‖ + bound)",
                    {"eps": e},
                ),
                q={"step k": k, "‖v_t‖": float(vt[i]), "bound": float(bnd[i]), "μ": mu, "s": s},
                inputs=exact_repr({"v_t": Vel[t]}),
            )
    return w.observation(
        "dist_H(spec A, spec U ∪ {μ}) ≤ τ; ‖v_t‖ − |s|·max‖Wx_j‖·Σ|μ|^i ≤ τ'",
        "linear stability",
    )


def _claim(cid: str, summary: str, source: str, fn: Any, **kw: Any) -> Claim:
    return register_claim(
        Claim(id=cid, summary=summary, source=source, evaluate=fn, figure="{:.1e}", **kw)
    )


REDUCES_TO_VANILLA = _claim(
    "momentum.reduces_to_vanilla",
    "μ = 0, s = 1: the momentum cell's states equal the Elman forward bitwise",
    "theory/orthogonal.md §5.2 item 1, §5.3 MOM-1",
    _vanilla,
    family={"cells": ("elman",)},
)
SECOND_ORDER_IDENTITY = _claim(
    "momentum.second_order_identity",
    "h_t = σ(U h_{t−1} + μσ⁻¹(h_{t−1}) − μU h_{t−2} + sWx_t) for tanh, t ≥ 2",
    "theory/orthogonal.md §5.2 item 2, §5.3 MOM-2",
    _second_order,
    family={"cells": ("elman",), "activations": ("tanh",), "steps": (2, 10)},
)
JACOBIANS = _claim(
    "momentum.jacobians",
    "∂h_T/∂h_t (v fixed) = ΠΣ_kU and ∂h_T/∂x_t = Σ_j[ΠΣ_kU]Σ_jμ^{j−t}sW match central differences",
    "theory/orthogonal.md §5.2 item 4, §5.3 MOM-3",
    _jacobians,
    family={"cells": ("elman",), "activations": ("tanh", "identity")},
)
LINEAR_STABILITY = _claim(
    "momentum.linear_stability",
    "spec([[U, μI], [0, μI]]) = spec(U) ∪ {μ}; ‖v_t‖ ≤ s·max‖Wx_j‖(1 − μ^t)/(1 − μ)",
    "theory/orthogonal.md §5.2 item 5, §5.3 MOM-4, MOM-5",
    _stability,
    family={"cells": ("elman",)},
)
