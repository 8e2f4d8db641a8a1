"""Claims of the retraction-based orthogonal optimizers: Givens coordinate descent, RGD,
expRNN's gradient through exp, and Wisdom et al.'s Cayley retraction
(theory/orthogonal.md §4, §6.1, §6.3, §6.6, §9 items 2–3).

Every check runs the optimizer through its contract (``init``/``step``/``diagnostics``)
and recomputes the theory's quantities from the problem's exact gradient; the step size
is never assumed (the claim does not know ``lr``): where a theorem is about the step
``−η·(direction)``, η is *measured* from the update and must be positive.

``givens.*`` need ``diagnostics`` with the chosen pair ``i``, ``j`` (and ``omega_ij`` for
``givens.coordinate_derivative``); ``expm.*`` need an :class:`ExpRNNState`-like state with
fields ``base``, ``R`` and ``grad_R`` (the raw gradient of the last step).
``givens.sufficient_decrease``, ``givens.rate`` and the uniform ``givens.selection`` run on
the Procrustes problem ``f(Q) = −tr(CᵀQ)`` of §4.3, built inside the claim from the spec's
seed and size n (the Haar ``W_hh`` of the spec is the start).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from properties.orthogonal import drift_bound, gram_error
from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import Trajectory
from rnnverify.manifolds import expm_skew, skew
from rnnverify.problems import ProblemSpec, RNNProblem, make_problem, rng_for
from rnnverify.tolerance import (
    Tolerance,
    accumulation_length,
    central_difference_step,
    central_difference_tolerance,
    eps,
    gamma,
    loss_rounding,
)
from rnnverify.tree import Params
from rnnverify.verdict import Status, exact_repr

SOURCE = "theory/orthogonal.md"


# ---------------------------------------------------------------------------------------
# Problems built inside the claims
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcrustesProblem(RNNProblem):
    """``f(Q) = −tr(CᵀQ)`` on ``W_hh`` (orthogonal.md §4.3); every other parameter has
    gradient 0. φ''(t) along a Givens geodesic is ``−tr(CᵀQE²e^{tE})``, so
    ``L_c ≤ 2‖C‖₂``."""

    C: NDArray[Any] = field(default_factory=lambda: np.zeros((1, 1)), repr=False)

    def loss(self, params: Any) -> float:
        return -float(np.sum(self.C * params["W_hh"]))

    def value_and_grad(self, params: Any) -> tuple[float, Params]:
        g = {k: np.zeros_like(v) for k, v in params.items()}
        g["W_hh"] = (-self.C).astype(params["W_hh"].dtype)
        return self.loss(params), g

    def grad(self, params: Any) -> Params:
        return self.value_and_grad(params)[1]


@dataclass(frozen=True)
class RandomGradientProblem(RNNProblem):
    """The RNN problem whose gradient oracle returns a fixed random ``G`` (any G: the
    Cayley retraction must stay unitary whatever it is fed, §6.3)."""

    G: Params = field(default_factory=dict, repr=False)

    def value_and_grad(self, params: Any) -> tuple[float, Params]:
        return self.loss(params), {k: v.copy() for k, v in self.G.items()}

    def grad(self, params: Any) -> Params:
        return self.value_and_grad(params)[1]


def procrustes(spec: ProblemSpec, scale: float = 1.0) -> ProcrustesProblem:
    """The Procrustes problem of ``spec``: C Gaussian (seeded by the spec), ‖C‖₂ = scale."""
    base = make_problem(spec)
    n = spec.hidden
    C0 = rng_for(spec, 3).standard_normal((n, n))
    C = C0 * (scale / float(np.linalg.norm(C0, 2)))
    return ProcrustesProblem(base.spec, base.data, base.params0, base.activation, C=C)


def procrustes_min(C: NDArray[Any], det_sign: float) -> float:
    """``f* = −max tr(CᵀQ)`` over the component ``sign det Q = det_sign``: Q* = U·S·Vᵀ,
    S = diag(1, …, 1, s) with ``det Q* = det_sign`` (orthogonal.md §4.3)."""
    U, sig, Vt = np.linalg.svd(C)
    s = det_sign * float(np.sign(np.linalg.det(U @ Vt)))
    return -float(np.sum(sig[:-1]) + s * sig[-1])


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _trajectory(
    subject: Subject, problem: RNNProblem, steps: int
) -> tuple[Trajectory | None, Observation | None]:
    traj = subject.trajectory(problem, steps)
    return (None, traj) if isinstance(traj, Observation) else (traj, None)


def _fast_run(subject: Subject, problem: RNNProblem, steps: int) -> Trajectory | Observation:
    """The long runs of ``givens.rate`` and the uniform ``givens.selection`` (thousands of
    steps) skip the runner's purity checks (input snapshots, aliasing, determinism: the
    business of ``contract.pure``), which cost more than a Givens step here; time limits,
    exceptions and the output checks still apply."""
    return subject.trajectory(problem, steps, purity_checks=False)


def _pair(traj: Trajectory, k: int) -> tuple[int, int] | Observation:
    """The pair of step k (0-based) from ``diagnostics(state_{k+1})``."""
    d = traj.diagnostics[k + 1] if k + 1 < len(traj.diagnostics) else {}
    if "i" not in d or "j" not in d:
        return Observation(
            Status.ERROR,
            summary="givens.* need diagnostics()['i'] and ['j'] (the chosen pair) every step",
            score=math.inf,
        )
    i, j = int(d["i"]), int(d["j"])
    return (min(i, j), max(i, j))


def _measured_angle(Q: NDArray[Any], Q1: NDArray[Any], i: int, j: int) -> float:
    """α̂ with ``Q1[:, (i, j)] = Q[:, (i, j)]·[[cos α, sin α], [−sin α, cos α]]``:
    ``cos α = q_i·q1_i``, ``sin α = q_i·q1_j``."""
    return math.atan2(float(Q[:, i] @ Q1[:, j]), float(Q[:, i] @ Q1[:, i]))


def _omega(Q: NDArray[Any], G: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """Ω = skew(QᴴG) and the entrywise rounding bound γ_n·(|Q|ᵀ|G| + |G|ᵀ|Q|)/2."""
    n = Q.shape[0]
    QG = np.abs(Q).T @ np.abs(G)
    return skew(Q.conj().T @ G), gamma(n, Q.dtype) * (QG + QG.T) / 2


def _rotated(Q: NDArray[Any], i: int, j: int, t: float) -> NDArray[Any]:
    """``Q·expm(t·E_ij)`` with the sympy closed form of expm(tE₁₂) (the oracle)."""
    from rnnverify.derivations.givens import rotation

    out = Q.copy()
    out[:, [i, j]] = Q[:, [i, j]] @ rotation(t)
    return out


def _fd(
    phi: Any, directional: float, problem: RNNProblem, params: Params
) -> tuple[float, Tolerance]:
    """Central difference of φ at 0 and its tolerance (rnnverify.tolerance)."""
    dtype = problem.spec.real_dtype
    h = central_difference_step(dtype)
    d1 = (phi(h) - phi(-h)) / (2 * h)
    d2 = (phi(2 * h) - phi(-2 * h)) / (4 * h)
    tol = central_difference_tolerance(
        loss_rounding(problem, params).value,
        h,
        abs(d2 - d1),
        directional,
        dtype,
        accumulation_length(problem),
    )
    return d1, tol


def _fail(
    summary: str,
    measured: float,
    bound: float,
    tol: Tolerance | None,
    ineq: str,
    quantities: dict[str, Any],
    inputs: dict[str, Any],
    entry: str | None = None,
) -> Observation:
    return Observation(
        Status.FAIL,
        summary=summary,
        measured=measured,
        bound=bound,
        tolerance=tol,
        inequality=ineq,
        entry=entry,
        quantities=quantities,
        inputs=exact_repr(inputs),
        score=math.inf if bound == 0 else abs(measured) / abs(bound),
    )


def _pass(
    summary: str,
    measured: float,
    bound: float,
    tol: Tolerance | None,
    ineq: str,
    quantities: dict[str, Any],
) -> Observation:
    return Observation(
        Status.PASS,
        summary=summary,
        measured=measured,
        bound=bound,
        tolerance=tol,
        inequality=ineq,
        quantities=quantities,
        score=abs(measured) / abs(bound) if bound else 0.0,
    )


# ---------------------------------------------------------------------------------------
# givens.update_exact
# ---------------------------------------------------------------------------------------

UPDATE_INEQ = (
    "columns ∉ {i, j} bitwise unchanged; |Q⁺[:, (i,j)] − Q[:, (i,j)]·expm(α̂E₁₂)| ≤ tol; "
    "α̂·Ω_ij ≤ 0 (α = −η·Ω_ij, η > 0)"
)


def evaluate_update_exact(subject: Subject, spec: ProblemSpec) -> Observation:
    problem = make_problem(spec)
    traj, bad = _trajectory(subject, problem, subject.steps)
    if traj is None:
        return bad or Observation.na("no trajectory")
    tgt = subject.target or "W_hh"
    worst = (0.0, 0.0, 1.0)
    for k in range(traj.steps):
        Q, Q1 = traj.params[k][tgt], traj.params[k + 1][tgt]
        pair = _pair(traj, k)
        if isinstance(pair, Observation):
            return pair
        i, j = pair
        others = [c for c in range(Q.shape[1]) if c not in (i, j)]
        changed = [c for c in others if Q[:, c].tobytes() != Q1[:, c].tobytes()]
        inputs = {f"{tgt} (step {k})": Q, f"{tgt} (step {k + 1})": Q1}
        if changed:
            c = changed[0]
            diff = float(np.max(np.abs(Q1[:, c] - Q[:, c])))
            return _fail(
                f"step {k}: column {c} changed but the pair was ({i}, {j})",
                diff,
                0.0,
                None,
                UPDATE_INEQ,
                {"i": i, "j": j, "k": k, "changed columns": changed},
                inputs,
                entry=f"{tgt}[:, {c}] after step {k + 1}",
            )
        if i < 0:
            continue
        n = Q.shape[0]
        e = eps(Q.dtype)
        e_k = gram_error(Q)
        alpha = _measured_angle(Q, Q1, i, j)
        ref = Q[:, [i, j]] @ _rotation_checked(alpha)
        scale = np.abs(Q[:, [i]]) + np.abs(Q[:, [j]])
        # each side: γ_2 product rounding + ε/2 in cos, sin; α̂ from two dot products of
        # length n: γ_n plus the non-orthogonality e_k of Q moves cos/sin by ≤ γ_n + e_k
        unit = 4 * e + 2 * (gamma(n, Q.dtype) + e_k)
        tol_entries = unit * scale
        res = np.abs(Q1[:, [i, j]] - ref)
        ratio = float(np.max(res / tol_entries)) if res.size else 0.0
        G = problem.grad(traj.params[k])[tgt]
        Omega, omega_tol = _omega(Q, G)
        w, w_tol = float(Omega[i, j]), float(omega_tol[i, j])
        q = {"k": k, "i": i, "j": j, "alpha_hat": alpha, "Omega_ij": w, "e_k": e_k}
        tol = Tolerance(
            unit, "(4ε + 2(γ_n + e_k))·(|q_i| + |q_j|) entrywise", {"eps": e, "n": n, "e_k": e_k}
        )
        if not ratio <= 1.0:
            return _fail(
                f"step {k}: columns ({i}, {j}) are not Q·expm(α̂E_ij): residual "
                f"{float(np.max(res)):.3g}",
                ratio,
                1.0,
                tol,
                UPDATE_INEQ,
                q,
                inputs,
                entry=f"{tgt}[:, ({i}, {j})] after step {k + 1}",
            )
        reported = traj.diagnostics[k + 1].get("alpha")
        if reported is not None:
            # the reported α must be the angle applied (mod 2π); cos/sin of a large α are
            # off by ≤ ε|α| each
            slip = abs(math.remainder(float(reported) - alpha, 2 * math.pi))
            slip_tol = 2 * unit + 4 * e * abs(float(reported))
            q["alpha (reported)"] = float(reported)
            if not slip <= slip_tol:
                return _fail(
                    f"step {k}: applied angle α̂ = {alpha:.6g} but reported α = "
                    f"{float(reported):.6g}",
                    slip,
                    slip_tol,
                    tol,
                    UPDATE_INEQ,
                    q,
                    inputs,
                    entry=f"{tgt}[:, ({i}, {j})] after step {k + 1}",
                )
        # the sign of the angle: the reported α if any (exact), else α̂ — whose sign is
        # meaningful only while |α| < π/2 (a wrapped angle says nothing about η)
        sign_alpha = float(reported) if reported is not None else alpha
        judged = reported is not None or abs(alpha) < math.pi / 2
        if judged and sign_alpha * w > 0 and abs(sign_alpha) > unit and abs(w) > w_tol:
            return _fail(
                f"step {k}: the rotation angle α = {sign_alpha:.3g} has the sign of Ω_ij = "
                f"{w:.3g} (α = +η·Ω_ij: an ascent step)",
                sign_alpha * w,
                0.0,
                tol,
                UPDATE_INEQ,
                q,
                inputs,
                entry=f"{tgt}[:, ({i}, {j})] after step {k + 1}",
            )
        if ratio >= worst[0]:
            worst = (ratio, alpha, w)
    return _pass(
        f"worst residual {worst[0]:.2g} of the tolerance",
        worst[0],
        1.0,
        None,
        UPDATE_INEQ,
        {"alpha_hat": worst[1], "Omega_ij": worst[2]},
    )


def _rotation_checked(alpha: float) -> NDArray[Any]:
    from rnnverify.derivations.givens import rotation

    return rotation(alpha)


# ---------------------------------------------------------------------------------------
# givens.coordinate_derivative
# ---------------------------------------------------------------------------------------

COORD_INEQ = "|FD of t ↦ f(Q·expm(tE_ij)) at 0 − 2·Ω_ij| ≤ tol (Ω_ij as reported)"


def evaluate_coordinate_derivative(subject: Subject, spec: ProblemSpec) -> Observation:
    problem = make_problem(spec)
    traj, bad = _trajectory(subject, problem, 1)
    if traj is None:
        return bad or Observation.na("no trajectory")
    pair = _pair(traj, 0)
    if isinstance(pair, Observation):
        return pair
    i, j = pair
    if i < 0:
        return Observation.na("n < 2: no pair")
    d = traj.diagnostics[1]
    if "omega_ij" not in d:
        return Observation(Status.ERROR, summary="needs diagnostics()['omega_ij']", score=math.inf)
    omega = float(d["omega_ij"])
    tgt = subject.target or "W_hh"
    x = dict(problem.params0)
    Q = x[tgt]
    direction = {k: np.zeros_like(v) for k, v in x.items()}
    direction[tgt] = Q @ _generator(Q.shape[0], i, j)  # d/dt Q·expm(tE_ij) at 0
    h = central_difference_step(problem.spec.real_dtype)
    if problem.kink_step(x, direction) < 4 * h:
        return Observation.na("an activation kink is within the difference steps")

    def phi(t: float) -> float:
        return problem.loss({**x, tgt: _rotated(Q, i, j, t).astype(Q.dtype)})

    fd, tol = _fd(phi, 2 * omega, problem, x)
    err = abs(fd - 2 * omega)
    q = {"i": i, "j": j, "FD": fd, "2·Omega_ij (reported)": 2 * omega}
    if not err <= tol.value:
        return _fail(
            f"φ'(0) = {fd:.6g} but 2·Ω_ij = {2 * omega:.6g}",
            err,
            tol.value,
            tol,
            COORD_INEQ,
            q,
            {**{f"params[{k!r}]": v for k, v in x.items()}},
            entry=f"Omega[{i}, {j}]",
        )
    return _pass(f"|FD − 2Ω_ij| = {err:.3g} ≤ {tol.value:.3g}", err, tol.value, tol, COORD_INEQ, q)


def _generator(n: int, i: int, j: int) -> NDArray[Any]:
    E = np.zeros((n, n))
    E[i, j], E[j, i] = 1.0, -1.0
    return E


# ---------------------------------------------------------------------------------------
# givens.sufficient_decrease and givens.rate (Procrustes)
# ---------------------------------------------------------------------------------------


def _procrustes_run(
    subject: Subject, spec: ProblemSpec, steps: int, fast: bool = False
) -> tuple[ProcrustesProblem, Trajectory, float] | Observation:
    """Measure η from one step on ‖C₀‖₂ = 1, then run ``steps`` steps on C = C₀/η, so that
    the optimizer's step α = −ηΩ_ij is the theorem's −2Ω_ij/L_c with L_c = 2‖C‖₂ = 2/η."""
    if spec.hidden < 2:
        return Observation.na("n < 2: SO(n) has no Givens coordinate")
    probe = procrustes(spec)
    traj, bad = _trajectory(subject, probe, 1)
    if traj is None:
        return bad or Observation.na("no trajectory")
    pair = _pair(traj, 0)
    if isinstance(pair, Observation):
        return pair
    i, j = pair
    tgt = subject.target or "W_hh"
    Q, Q1 = traj.params[0][tgt], traj.params[1][tgt]
    Omega = skew(Q.T @ -probe.C)
    alpha = _measured_angle(Q, Q1, i, j)
    if i < 0 or abs(alpha) < 1e-6 or abs(Omega[i, j]) < 1e-6:
        return Observation.na("the probe step did not resolve the step size")
    eta = abs(alpha / float(Omega[i, j]))
    problem = procrustes(spec, 1.0 / eta)
    if fast:
        fast_run = _fast_run(subject, problem, steps)
        if isinstance(fast_run, Observation):
            return fast_run
        return problem, fast_run, eta
    traj, bad = _trajectory(subject, problem, steps)
    if traj is None:
        return bad or Observation.na("no trajectory")
    return problem, traj, eta


DECREASE_INEQ = "f(Q_{k+1}) ≤ f(Q_k) − 2·Ω_ij²/L_c + tol, L_c = 2‖C‖₂, step −2Ω_ij/L_c"


def evaluate_sufficient_decrease(subject: Subject, spec: ProblemSpec) -> Observation:
    out = _procrustes_run(subject, spec, max(subject.steps, 10))
    if isinstance(out, Observation):
        return out
    problem, traj, eta = out
    tgt = subject.target or "W_hh"
    C, n = problem.C, spec.hidden
    L_c = 2 * float(np.linalg.norm(C, 2))
    worst = (-math.inf, 0)
    for k in range(traj.steps):
        pair = _pair(traj, k)
        if isinstance(pair, Observation):
            return pair
        i, j = pair
        Q = traj.params[k][tgt]
        w = float(skew(Q.T @ -C)[i, j])
        f0, f1 = traj.losses[k], traj.losses[k + 1]
        # two evaluations of −tr(CᵀQ), each off by ≤ γ_{n²}·Σ|C∘Q|
        round_f = 2 * gamma(n * n, C.dtype) * float(np.sum(np.abs(C) * (np.abs(Q) + 1)))
        tol = Tolerance(
            round_f,
            "2·γ_{n²}·Σ|C|(|Q| + 1) (rounding of f at both points)",
            {"n": n, "L_c": L_c, "eta": eta},
        )
        bound = f0 - 2 * w * w / L_c + round_f
        margin = f1 - bound
        if margin > worst[0]:
            worst = (margin, k)
        if not f1 <= bound:
            return _fail(
                f"step {k}: f went {f0:.6g} → {f1:.6g}, bound {bound:.6g}",
                f1,
                bound,
                tol,
                DECREASE_INEQ,
                {"k": k, "i": i, "j": j, "Omega_ij": w, "L_c": L_c, "f_k": f0},
                {"C": C, "Q_k": Q, "Q_k+1": traj.params[k + 1][tgt]},
                entry=f"step {k}, pair ({i}, {j})",
            )
    return _pass(
        f"held at every step; worst margin {worst[0]:.3g} at step {worst[1]}",
        worst[0],
        0.0,
        None,
        DECREASE_INEQ,
        {"L_c": L_c},
    )


RATE_INEQ = "min_{k<K} ‖Ω_k‖_F² ≤ N·L_c·(f(Q₀) − f*)/K + tol (deterministic, Gauss–Southwell)"
RATE_STEPS_PER_PAIR = 50


def evaluate_rate(subject: Subject, spec: ProblemSpec) -> Observation:
    n = spec.hidden
    N = n * (n - 1) // 2
    K = RATE_STEPS_PER_PAIR * max(N, 1)
    out = _procrustes_run(subject, spec, K, fast=True)
    if isinstance(out, Observation):
        return out
    problem, traj, eta = out
    tgt = subject.target or "W_hh"
    C = problem.C
    L_c = 2 * float(np.linalg.norm(C, 2))
    Q0 = traj.params[0][tgt]
    f_star = procrustes_min(C, float(np.sign(np.linalg.det(Q0))))
    norms = [float(np.linalg.norm(skew(traj.params[k][tgt].T @ -C)) ** 2) for k in range(K)]
    measured = min(norms)
    e = eps(C.dtype)
    # rounding of f₀ − f*: γ_{n²}·Σ|C∘Q₀| + n·ε·Σσ (SVD), times N·L_c/K; ‖Ω‖² to γ_n relative
    gap_round = gamma(n * n, C.dtype) * float(np.sum(np.abs(C * Q0))) + n * e * float(
        np.sum(np.linalg.svd(C, compute_uv=False))
    )
    gap = traj.losses[0] - f_star
    bound = N * L_c * (gap + gap_round) / K
    tol = Tolerance(
        N * L_c * gap_round / K,
        "N·L_c·(rounding of f₀ − f*)/K",
        {"N": N, "L_c": L_c, "K": K, "f0 - f*": gap},
    )
    q = {"N": N, "K": K, "L_c": L_c, "f(Q0)": traj.losses[0], "f*": f_star, "eta": eta}
    if not measured * (1 - gamma(n, C.dtype)) <= bound:
        return _fail(
            f"min ‖Ω_k‖² = {measured:.3g} > {bound:.3g} after K = {K} steps",
            measured,
            bound,
            tol,
            RATE_INEQ,
            q,
            {"C": C, "Q_0": Q0},
        )
    return _pass(
        f"min ‖Ω_k‖² = {measured:.3g} ≤ {bound:.3g} (K = {K})", measured, bound, tol, RATE_INEQ, q
    )


# ---------------------------------------------------------------------------------------
# givens.selection
# ---------------------------------------------------------------------------------------

ALPHA_CHI2 = 1e-6
Z_UPPER = 4.753424308822899
"""Upper 1e-6 quantile of N(0, 1)."""
UNIFORM_DRAWS_PER_PAIR = 50


def chi2_critical(k: int) -> float:
    """The upper-α quantile (α = 1e-6) of χ²_k: exact for k = 1 (z²_{α/2} = 23.92813) and
    k = 2 (−2 ln α); Wilson–Hilferty ``k(1 − 2/(9k) + z·sqrt(2/(9k)))³`` for k ≥ 3, which
    over-estimates the quantile this far in the tail (32.8 vs 30.7 at k = 3, 37.5 vs 35.9
    at k = 5, 77.8 vs 77.2 at k = 27; checked against scipy in tests/test_retraction.py),
    so the false-alarm rate per example is at most 1e-6."""
    if k == 1:
        return 23.92812697693483  # z_{α/2}², z_{5e-7} = 4.891638475698

    if k == 2:
        return -2 * math.log(ALPHA_CHI2)
    c = 2 / (9 * k)
    return k * (1 - c + Z_UPPER * math.sqrt(c)) ** 3


SELECT_INEQ_GS = "|Ω_ij| ≥ max_{a<b} |Ω_ab| − tol (Gauss–Southwell)"
SELECT_INEQ_U = "χ² of the pair counts ≤ χ²_{N−1}(1 − 1e-6) (uniform over the N pairs)"


def evaluate_selection(subject: Subject, spec: ProblemSpec) -> Observation:
    if spec.hidden < 2:
        return Observation.na("n < 2: no pair")
    rule = SELECTION.option(subject, "selection")
    tgt = subject.target or "W_hh"
    if rule == "gauss_southwell":
        problem = make_problem(spec)
        traj, bad = _trajectory(subject, problem, subject.steps)
        if traj is None:
            return bad or Observation.na("no trajectory")
        worst = 0.0
        for k in range(traj.steps):
            pair = _pair(traj, k)
            if isinstance(pair, Observation):
                return pair
            i, j = pair
            Q = traj.params[k][tgt]
            Omega, w_tol = _omega(Q, problem.grad(traj.params[k])[tgt])
            upper = np.abs(np.triu(Omega, 1))
            a, b = np.unravel_index(int(np.argmax(upper)), upper.shape)
            tol = 2 * float(np.max(w_tol))
            gap = float(upper[a, b] - abs(Omega[i, j]))
            worst = max(worst, gap)
            if not gap <= tol:
                return _fail(
                    f"step {k}: picked ({i}, {j}) with |Ω_ij| = {abs(Omega[i, j]):.3g}, but "
                    f"|Ω_{a}{b}| = {upper[a, b]:.3g}",
                    gap,
                    tol,
                    Tolerance(tol, "2·max γ_n·(|Q|ᵀ|G|) (ties within rounding)"),
                    SELECT_INEQ_GS,
                    {"k": k, "picked": (i, j), "argmax": (int(a), int(b))},
                    {"Q": Q},
                    entry=f"pair ({i}, {j}) at step {k}",
                )
        return _pass(
            f"always the argmax (worst gap {worst:.3g})", worst, 1.0, None, SELECT_INEQ_GS, {}
        )
    n = spec.hidden
    N = n * (n - 1) // 2
    S = UNIFORM_DRAWS_PER_PAIR * N
    draws = _fast_run(subject, procrustes(spec), S)
    if isinstance(draws, Observation):
        return draws
    rows, cols = np.triu_indices(n, 1)
    index = {(int(a), int(b)): r for r, (a, b) in enumerate(zip(rows, cols, strict=True))}
    counts = np.zeros(N)
    for k in range(S):
        pair = _pair(draws, k)
        if isinstance(pair, Observation):
            return pair
        if pair not in index:
            return _fail(
                f"step {k}: pair {pair} is not a pair i < j of {n} indices",
                1.0,
                0.0,
                None,
                SELECT_INEQ_U,
                {"k": k},
                {},
            )
        counts[index[(int(pair[0]), int(pair[1]))]] += 1
    if N == 1:
        return _pass("n = 2: the only pair", 0.0, 1.0, None, SELECT_INEQ_U, {})
    expected = S / N
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    crit = chi2_critical(N - 1)
    chi2_tol = Tolerance(
        crit,
        "upper 1e-6 quantile of χ²_{N−1} (exact k ≤ 2, Wilson–Hilferty k ≥ 3)",
        {"N": N, "S": S},
    )
    q = {
        "N": N,
        "draws": S,
        "chi2": chi2,
        "min count": int(counts.min()),
        "max count": int(counts.max()),
    }
    if not chi2 <= crit:
        r = int(np.argmax(np.abs(counts - expected)))
        return _fail(
            f"χ² = {chi2:.4g} > {crit:.4g}: the pairs are not uniform",
            chi2,
            crit,
            chi2_tol,
            SELECT_INEQ_U,
            q,
            {"counts": counts},
            entry=f"pair {list(index)[r]} drawn {int(counts[r])}× vs {expected:g}",
        )
    return _pass(f"χ² = {chi2:.3g} ≤ {crit:.3g}", chi2, crit, chi2_tol, SELECT_INEQ_U, q)


# ---------------------------------------------------------------------------------------
# rgd.descent and wisdom.descent: the first-order direction of one step
# ---------------------------------------------------------------------------------------


RGD_INEQ = "WᴴW⁺ = expm(−η̂Ω) with η̂ > 0 (Ω = skew(WᴴG)) ⇒ f(W⁺) − f(W) = −η̂‖Ω‖_F² + O(η̂²)"
RGD_MAX_TURNS = 3
"""Lifts tried per plane: rotations up to 3 full turns (η‖Ω‖₂ ≤ 6π)."""


def _wrap(a: NDArray[Any]) -> NDArray[Any]:
    """Angles to (−π, π]."""
    return np.asarray(-np.angle(np.exp(-1j * a)), dtype=np.float64)


def evaluate_rgd_descent(subject: Subject, spec: ProblemSpec) -> Observation:
    """Read the step in the eigenbasis of Ω: with iΩ = U·diag(λ)·Uᴴ (Hermitian),
    expm(−ηΩ) = U·diag(e^{iηλ})·Uᴴ, so D = Uᴴ(WᴴW⁺)U must be diagonal and its phases φ_k
    ≡ ηλ_k (mod 2π) for one η, which must be > 0. The endpoint fixes η only up to the
    lifts φ_k + 2πj: every lift of the widest plane (|j| ≤ :data:`RGD_MAX_TURNS`) that fits
    all phases is kept. Lifts of both signs (a plane turned by more than π, or too few
    independent planes to tell, as on SO(2)) are decided by the smallest one when it turns
    by at most π/2, else the example is n.a.: its endpoint does not say whether the step
    descended. Tolerances: ``off ≤ τ``, ``|φ_k − ηλ_k| ≤ τ`` with
    τ = 4·(‖WᴴW − I‖ + ‖W⁺ᴴW⁺ − I‖ + 2n·γ_n + n·ε·(1 + |η|‖Ω‖₂)): the unitarity of the two
    iterates, the product, and the eigendecomposition (its error scales with the rotation)."""
    problem = make_problem(spec)
    traj, bad = _trajectory(subject, problem, 1)
    if traj is None:
        return bad or Observation.na("no trajectory")
    tgt = subject.target or "W_hh"
    W, W1 = traj.params[0][tgt], traj.params[1][tgt]
    G = problem.grad(traj.params[0])[tgt]
    Omega = skew(W.conj().T @ G)
    if not np.any(Omega):
        return Observation.na("Ω = 0: stationary point")
    n = W.shape[0]
    M = (W.conj().T @ W1).astype(np.complex128)
    lam, U = np.linalg.eigh(1j * Omega.astype(np.complex128))
    D = U.conj().T @ M @ U
    off = float(np.linalg.norm(D - np.diag(np.diag(D))))
    phi = np.angle(np.diag(D))
    s2, sF = float(np.max(np.abs(lam))), float(np.linalg.norm(Omega))
    base = gram_error(W) + gram_error(W1) + 2 * n * gamma(n, W.dtype)
    u = float(np.finfo(np.float64 if W.dtype.itemsize >= 8 else np.float32).eps)

    def tau(eta: float) -> float:
        return 4 * (base + n * u * (1 + abs(eta) * s2))

    k = int(np.argmax(np.abs(lam)))
    lifts = sorted(
        (
            eta
            for j in range(-RGD_MAX_TURNS, RGD_MAX_TURNS + 1)
            for eta in [(phi[k] + 2 * math.pi * j) / lam[k]]
            if float(np.max(np.abs(_wrap(phi - eta * lam)))) <= tau(eta)
        ),
        key=abs,
    )
    tol = Tolerance(
        tau(lifts[0]) if lifts else tau(0.0),
        "4·(‖WᴴW − I‖ + ‖W⁺ᴴW⁺ − I‖ + 2n·γ_n + n·ε·(1 + |η|‖Ω‖₂))",
        {"base": base},
    )
    q: dict[str, Any] = {
        "f(W)": traj.losses[0], "f(W⁺)": traj.losses[1], "‖Ω‖_F²": sF * sF,
        "‖Ω‖₂": s2, "off-diagonal of Uᴴ(WᴴW⁺)U": off, "lifts η": list(map(float, lifts)),
    }  # fmt: skip
    inputs = {f"{tgt}": W, f"{tgt}⁺": W1}
    worst_tau = tau(RGD_MAX_TURNS * 2 * math.pi / s2)
    if off > worst_tau:
        return _fail(
            f"WᴴW⁺ does not commute with Ω (off-diagonal {off:.3g} > {worst_tau:.3g}): the "
            "step is not W·expm(−ηΩ) for any η",
            off, worst_tau, tol, RGD_INEQ, q, inputs,
        )  # fmt: skip
    if not lifts:
        return _fail(
            f"the phases of WᴴW⁺ in Ω's eigenbasis fit no single η (up to {RGD_MAX_TURNS} "
            "turns): the step is not W·expm(−ηΩ)",
            float(np.max(np.abs(phi))), 0.0, tol, RGD_INEQ, q, inputs,
        )  # fmt: skip
    signs = {eta > 0 for eta in lifts}
    eta = lifts[0]
    if len(signs) > 1 and abs(eta) * s2 > math.pi / 2:
        return Observation.na(
            f"the endpoint is W·expm(−ηΩ) for η = {', '.join(f'{e:.3g}' for e in lifts)} of "
            "both signs, the smallest turning by more than π/2: it does not tell whether the "
            "step descended"
        )
    if eta < 0:
        return _fail(
            f"the step moves along +Ω (η̂ = {eta:.3g} < 0): first-order ascent",
            eta, 0.0, tol, RGD_INEQ, {**q, "eta_hat": eta}, inputs,
        )  # fmt: skip
    q.update({"eta_hat": eta, "first-order change −η̂‖Ω‖²": -eta * sF * sF})
    return _pass(f"η̂ = {eta:.3g} > 0", eta, 0.0, tol, RGD_INEQ, q)


WISDOM_INEQ = (
    "W⁺ = (I + λ̂A/2)⁻¹(I − λ̂A/2)W, i.e. (I + W⁺Wᴴ)⁻¹(I − W⁺Wᴴ) = λ̂A/2, with λ̂ > 0, "
    "A = GWᴴ − WGᴴ; AW = 2WS; Re⟨G, AW⟩ = ‖A‖_F²/2 (so dL/dλ|₀ = −‖A‖_F²/2)"
)


def evaluate_wisdom_descent(subject: Subject, spec: ProblemSpec) -> Observation:
    problem = make_problem(spec)
    traj, bad = _trajectory(subject, problem, 1)
    if traj is None:
        return bad or Observation.na("no trajectory")
    tgt = subject.target or "W_hh"
    W, W1 = traj.params[0][tgt], traj.params[1][tgt]
    G = problem.grad(traj.params[0])[tgt]
    n = W.shape[0]
    Wh = W.conj().T
    A = G @ Wh - W @ G.conj().T
    if not np.any(A):
        return Observation.na("A = 0: stationary point")
    S = (Wh @ G - G.conj().T @ W) / 2
    e0 = gram_error(W)
    g_n = gamma(n, W.dtype)
    nG = float(np.linalg.norm(G))
    # AW − 2WS = G(WᴴW) − (WWᴴ)G: ≤ 2e₀‖G‖_F, plus rounding of four products
    ident = float(np.linalg.norm(A @ W - 2 * W @ S))
    ident_tol = 2 * e0 * nG + 8 * n * g_n * nG
    nA2 = float(np.real(np.vdot(A, A)))
    slope = float(np.real(np.vdot(G, A @ W)))
    slope_tol = 2 * e0 * nG**2 + 8 * n * g_n * nG**2
    inputs = {f"{tgt}": W, "G": G}
    q = {"‖AW − 2WS‖_F": ident, "Re⟨G, AW⟩": slope, "‖A‖_F²/2": nA2 / 2}
    if not ident <= ident_tol:
        return _fail(
            f"AW ≠ 2WS: {ident:.3g} > {ident_tol:.3g}",
            ident,
            ident_tol,
            None,
            WISDOM_INEQ,
            q,
            inputs,
        )
    if not abs(slope - nA2 / 2) <= slope_tol:
        return _fail(
            f"Re⟨G, AW⟩ = {slope:.6g} ≠ ‖A‖²/2 = {nA2 / 2:.6g}",
            abs(slope - nA2 / 2),
            slope_tol,
            None,
            WISDOM_INEQ,
            q,
            inputs,
        )
    return _cayley_coordinate_check(W, W1, A, n, e0, q, {**inputs, "W⁺": W1})


def _cayley_coordinate_check(
    W: NDArray[Any],
    W1: NDArray[Any],
    A: NDArray[Any],
    n: int,
    e0: float,
    quantities: dict[str, Any],
    inputs: dict[str, Any],
) -> Observation:
    """W⁺ = C(λ̂A/2)·W with λ̂ > 0, C(B) = (I + B)⁻¹(I − B), checked in Cayley coordinates.

    C is an involution, so the step's generator is recovered exactly at *any* step length:
    B̂ = C(Ĉ) = (I + Ĉ)⁻¹(I − Ĉ) with Ĉ = W⁺Wᴴ, and B̂ = λA/2 for the claimed step. The
    fitted λ̂ = 2Re⟨B̂, A⟩/‖A‖_F² minimizes ‖B̂ − tA/2‖_F over t, so the residual is at most
    ‖B̂ − λA/2‖_F, which is rounding alone. (A first-order test of X = W⁺Wᴴ − I against
    −λ̂A needs λ‖A‖₂ ≤ 1: beyond it the Cayley factor saturates towards −I and X is no
    multiple of A, although the step is exact.)

    Rounding: B̂ − B = −2(I + Ĉ)⁻¹·Δ·(I + C)⁻¹ with Δ = Ĉ − C(B), so with κ̂ = ‖(I + Ĉ)⁻¹‖₂
    (measured) and κ̂‖Δ‖_F < 1, ‖B̂ − B‖_F ≤ 2κ̂²‖Δ‖_F/(1 − κ̂‖Δ‖_F); ‖Δ‖_F ≤ δ = e₀ + e₁ +
    nγ_n(1 + 4κ̂) (WWᴴ ≠ I, W⁺ not unitary, the product W⁺Wᴴ, and the step's own solve with
    I + B, whose condition number is ≤ √(1 + ‖B‖₂²) = 2‖(I + C)⁻¹‖₂ ≈ 2κ̂); the solve for
    B̂ adds ≤ 2κ̂·2nγ_n·‖B̂‖_F (condition number of I + Ĉ ≤ 2κ̂)."""
    eye = np.eye(n, dtype=W.dtype)
    C = W1 @ W.conj().T
    s_min = float(np.linalg.svd(eye + C, compute_uv=False)[-1])
    kappa = math.inf if s_min == 0 else 1 / s_min
    g_n = gamma(n, W.dtype)
    delta = e0 + gram_error(W1) + n * g_n * (1 + 4 * kappa)
    if not kappa * delta < 0.5:
        return Observation.na(
            f"W⁺Wᴴ has an eigenvalue at −1 within rounding (‖(I + W⁺Wᴴ)⁻¹‖₂ = {kappa:.3g}, "
            f"‖Δ‖_F ≤ {delta:.3g}): no Cayley coordinate to compare"
        )
    B_hat = np.linalg.solve(eye + C, eye - C)
    nA2 = float(np.real(np.vdot(A, A)))
    lam = 2 * float(np.real(np.vdot(A, B_hat))) / nA2
    res = float(np.linalg.norm(B_hat - (lam / 2) * A))
    nB = float(np.linalg.norm(B_hat))
    tol_v = 2 * kappa**2 * delta / (1 - kappa * delta) + 4 * kappa * n * g_n * nB
    tol = Tolerance(
        tol_v,
        "2κ̂²δ/(1 − κ̂δ) + 4κ̂nγ_n‖B̂‖_F: inverting the Cayley map at the rounding δ of W⁺Wᴴ",
        {"kappa_hat": kappa, "delta": delta, "‖B̂‖_F": nB},
    )
    q = {
        **quantities,
        "lambda_hat": lam,
        "λ̂‖A‖₂": lam * float(np.linalg.norm(A, 2)),
        "first-order change −λ̂‖A‖²/2": -lam * nA2 / 2,
        "‖B̂ − λ̂A/2‖_F": res,
    }
    if lam < 0 and abs(lam) * math.sqrt(nA2) / 2 > tol_v:
        return _fail(
            f"the step moves along +A (λ̂ = {lam:.3g} < 0): first-order ascent",
            lam,
            0.0,
            tol,
            WISDOM_INEQ,
            q,
            inputs,
        )
    if not res <= tol_v:
        return _fail(
            f"the step is no Cayley step along −A: ‖B̂ − λ̂A/2‖_F = {res:.3g} > {tol_v:.3g}",
            res,
            tol_v,
            tol,
            WISDOM_INEQ,
            q,
            inputs,
        )
    return _pass(
        f"λ̂ = {lam:.3g}, ‖B̂ − λ̂A/2‖_F = {res:.3g} ≤ {tol_v:.3g}", res, tol_v, tol, WISDOM_INEQ, q
    )


# ---------------------------------------------------------------------------------------
# wisdom.unitary_any_g
# ---------------------------------------------------------------------------------------

UNITARY_INEQ = "‖W_kᴴW_k − I‖_F ≤ e₀ + k·(n²ε + 20nε) for a random G of norm 1e-2..10"


def evaluate_unitary_any_g(subject: Subject, spec: ProblemSpec) -> Observation:
    base = make_problem(spec)
    rng = rng_for(spec, 5)
    G: Params = {}
    for name, v in base.params0.items():
        r = rng.standard_normal(v.shape)
        if np.iscomplexobj(v):
            r = r + 1j * rng.standard_normal(v.shape)
        G[name] = r.astype(v.dtype)
    tgt = subject.target or "W_hh"
    scale = 10.0 ** rng.uniform(-2, 1)
    G[tgt] = (G[tgt] * (scale / max(float(np.linalg.norm(G[tgt])), 1e-300))).astype(G[tgt].dtype)
    problem = RandomGradientProblem(base.spec, base.data, base.params0, base.activation, G=G)
    traj, bad = _trajectory(subject, problem, subject.steps)
    if traj is None:
        return bad or Observation.na("no trajectory")
    W0 = traj.params[0][tgt]
    n = W0.shape[1]
    e0 = gram_error(W0)
    worst = (0.0, 0.0, 1.0)
    for k in range(1, traj.steps + 1):
        W = traj.params[k][tgt]
        err = gram_error(W)
        tol = drift_bound("multiplicative", n, W.dtype, k, e0, None)
        if not err <= tol.value:
            return _fail(
                f"step {k}: ‖WᴴW − I‖_F = {err:.3g} > {tol.value:.3g} with ‖G‖ = {scale:.3g}",
                err,
                tol.value,
                tol,
                UNITARY_INEQ,
                {"k": k, "‖G‖_F": scale, "e0": e0},
                {"G": G[tgt], "W_k": W, "W_0": W0},
                entry=f"{tgt} after step {k}",
            )
        if err / tol.value >= worst[0]:
            worst = (err / tol.value, err, tol.value)
    return _pass(
        f"worst {worst[1]:.3g} ≤ {worst[2]:.3g}",
        worst[1],
        worst[2],
        None,
        UNITARY_INEQ,
        {"‖G‖_F": scale},
    )


# ---------------------------------------------------------------------------------------
# expm.gradient and expm.gradient_at_zero
# ---------------------------------------------------------------------------------------


def _skew_from_raw(R: NDArray[Any]) -> NDArray[Any]:
    U = np.triu(R, 1)
    return U - U.T


def frechet_exp_skew(X: NDArray[Any], E: NDArray[Any]) -> NDArray[Any]:
    """Daleckii–Krein: for normal (here skew) ``X = V·diag(λ)·Vᴴ``,
    ``dexp_X(E) = V·(Φ ∘ VᴴEV)·Vᴴ`` with ``Φ_ab = e^{λ_b}·φ₁(λ_a − λ_b)``,
    ``φ₁(iθ) = e^{iθ/2}·sin(θ/2)/(θ/2)`` (no cancellation for close eigenvalues). An
    independent oracle of the block identity."""
    mu, V = np.linalg.eigh(1j * X)  # iX = V·diag(μ)·Vᴴ ⇒ X = V·diag(−iμ)·Vᴴ
    lam = -1j * mu
    theta = -(mu[:, None] - mu[None, :])  # λ_a − λ_b = iθ
    Phi = np.exp(lam[None, :]) * np.exp(1j * theta / 2) * np.sinc(theta / (2 * np.pi))
    out = V @ (Phi * (V.conj().T @ E @ V)) @ V.conj().T
    return out.real if not np.iscomplexobj(E) else out


def _state_fields(state: Any) -> dict[str, Any] | None:
    if hasattr(state, "_asdict"):
        return dict(state._asdict())
    if isinstance(state, dict):
        return dict(state)
    return None


def _replace_state(state: Any, **changes: Any) -> Any:
    return state._replace(**changes) if hasattr(state, "_replace") else {**state, **changes}


EXPM_INEQ = "|FD of t ↦ L(base·exp(A(R + tD))) − ⟨∇_R L, D⟩| ≤ tol, ∇_R L from dexp_{Aᵀ}"


def evaluate_expm_gradient(subject: Subject, spec: ProblemSpec) -> Observation:
    if spec.hidden < 2:
        return Observation.na("n < 2: A = 0 always")
    problem = make_problem(spec)
    tgt = subject.target or "W_hh"
    x = dict(problem.params0)
    try:
        state = subject.optimizer.init(problem, x)
        fields = _state_fields(state)
        if fields is None or not {"base", "R"} <= set(fields):
            return Observation(
                Status.ERROR, summary="expm.* need a state with fields base and R", score=math.inf
            )
        n = spec.hidden
        rng = rng_for(spec, 4)
        R = (rng.standard_normal((n, n)) * (1.5 / math.sqrt(n))).astype(x[tgt].dtype)
        base = np.asarray(fields["base"])
        A = _skew_from_raw(R)
        W = (base @ expm_skew(A)).astype(x[tgt].dtype)
        params = {**x, tgt: W}
        state = _replace_state(state, R=R)
        _, new_state = subject.optimizer.step(problem, params, state)
    except Exception as exc:  # a user's optimizer: report, never raise
        return Observation(Status.ERROR, summary=f"init/step raised {exc!r}", score=math.inf)
    new_fields = _state_fields(new_state) or {}
    if "grad_R" not in new_fields:
        return Observation(
            Status.ERROR, summary="expm.gradient needs state field grad_R", score=math.inf
        )
    grad_R = np.asarray(new_fields["grad_R"])
    D = np.triu(rng.standard_normal((n, n)), 1)
    D /= np.linalg.norm(D)
    G = problem.grad(params)[tgt]
    oracle = np.triu(_antisym(frechet_exp_skew(A.T, base.T @ G)), 1)
    direction = {k: np.zeros_like(v) for k, v in params.items()}
    direction[tgt] = base @ frechet_exp_skew(A, _skew_from_raw(D))
    h = central_difference_step(problem.spec.real_dtype)
    if problem.kink_step(params, direction) < 4 * h:
        return Observation.na("an activation kink is within the difference steps")

    def phi(t: float) -> float:
        return problem.loss({**params, tgt: (base @ expm_skew(_skew_from_raw(R + t * D)))})

    gd = float(np.sum(grad_R * D))
    fd, tol = _fd(phi, gd, problem, params)
    err = abs(fd - gd)
    rel = float(np.linalg.norm(grad_R - oracle)) / max(float(np.linalg.norm(oracle)), 1e-300)
    q = {
        "FD": fd,
        "⟨∇_R L, D⟩": gd,
        "‖A‖₂": float(np.linalg.norm(A, 2)),
        "relative error vs dexp_{Aᵀ} (Daleckii–Krein)": rel,
    }
    if not err <= tol.value:
        return _fail(
            f"∇_R L is not the gradient: FD {fd:.6g} vs ⟨∇_R L, D⟩ {gd:.6g} "
            f"(relative error vs dexp_{{Aᵀ}}: {rel:.3g})",
            err,
            tol.value,
            tol,
            EXPM_INEQ,
            q,
            {"R": R, "base": base, "D": D},
        )
    return _pass(
        f"|FD − ⟨∇_R L, D⟩| = {err:.3g} ≤ {tol.value:.3g}", err, tol.value, tol, EXPM_INEQ, q
    )


def _antisym(M: NDArray[Any]) -> NDArray[Any]:
    return M - M.T


ZERO_INEQ = "|∇_R L − 2·triu(Ω, 1)| ≤ 2γ_n(|W|ᵀ|G| + |G|ᵀ|W|) entrywise at A = 0"


def evaluate_expm_gradient_at_zero(subject: Subject, spec: ProblemSpec) -> Observation:
    problem = make_problem(spec)
    traj, bad = _trajectory(subject, problem, 1)
    if traj is None:
        return bad or Observation.na("no trajectory")
    f0 = _state_fields(traj.states[0]) or {}
    f1 = _state_fields(traj.states[1]) or {}
    if "R" not in f0 or "grad_R" not in f1:
        return Observation(
            Status.ERROR, summary="expm.* need state fields R and grad_R", score=math.inf
        )
    if np.any(np.asarray(f0["R"])):
        return Observation.na("the optimizer does not start at A = 0")
    tgt = subject.target or "W_hh"
    W = traj.params[0][tgt]
    G = problem.grad(traj.params[0])[tgt]
    Omega, w_tol = _omega(W, G)
    expected = 2 * np.triu(Omega, 1)
    grad_R = np.asarray(f1["grad_R"])
    tol_e = 4 * np.triu(w_tol, 1) + eps(W.dtype) * np.abs(expected)
    res = np.abs(grad_R - expected)
    ratio_m = res / np.where(tol_e > 0, tol_e, np.inf)
    ratio_m[(res == 0)] = 0.0
    worst = float(np.max(ratio_m)) if ratio_m.size else 0.0
    tol = Tolerance(worst, "4·γ_n·(|W|ᵀ|G| + |G|ᵀ|W|)/2 + ε|2Ω| entrywise")
    if not worst <= 1.0:
        a, b = np.unravel_index(int(np.argmax(ratio_m)), ratio_m.shape)
        return _fail(
            f"∇_R L[{a},{b}] = {grad_R[a, b]:.6g} but 2·Ω[{a},{b}] = {expected[a, b]:.6g}",
            float(res[a, b]),
            float(tol_e[a, b]),
            tol,
            ZERO_INEQ,
            {"grad_R": grad_R[a, b], "2·Omega": expected[a, b]},
            {"W": W, "G": G, "grad_R": grad_R},
            entry=f"grad_R[{a}, {b}]",
        )
    return _pass(f"worst {worst:.2g} of the tolerance", worst, 1.0, None, ZERO_INEQ, {})


# ---------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------

ORTHO = {"recurrent": ("orthogonal",)}
REAL = {"cells": ("elman",)}


def _claim(
    cid: str,
    summary: str,
    source: str,
    fn: Any,
    family: dict[str, Any] | None = None,
    options: dict[str, tuple[str, ...]] | None = None,
    worst: str = "max",
) -> Claim:
    return register_claim(
        Claim(
            id=cid,
            summary=summary,
            source=f"{SOURCE} {source}",
            evaluate=fn,
            worst=worst,
            family=family or {},
            requires=ORTHO,
            needs_target=True,
            options=options or {},
        )
    )


UPDATE_EXACT = _claim(
    "givens.update_exact",
    "the two-column update is Q·expm(αE_ij) with α·Ω_ij ≤ 0; other columns bitwise unchanged",
    "§4.1, §4.4 CD-1",
    evaluate_update_exact,
    REAL,
)
COORDINATE = _claim(
    "givens.coordinate_derivative",
    "d/dt f(Q·expm(tE_ij))|₀ = 2·Ω_ij, Ω = skew(QᵀG)",
    "§4.2, §4.4 CD-2",
    evaluate_coordinate_derivative,
    REAL,
)
DECREASE = _claim(
    "givens.sufficient_decrease",
    "f(Q⁺) ≤ f(Q) − 2Ω_ij²/L_c with step −2Ω_ij/L_c (Procrustes, L_c = 2‖C‖₂)",
    "§4.3, §4.4 CD-4",
    evaluate_sufficient_decrease,
    REAL,
)
RATE = _claim(
    "givens.rate",
    "min_{k<K} ‖Ω_k‖_F² ≤ N·L_c·(f₀ − f*)/K (Procrustes, Gauss–Southwell)",
    "§4.3, §4.4 CD-6",
    evaluate_rate,
    REAL,
)
SELECTION = _claim(
    "givens.selection",
    "Gauss–Southwell picks argmax_{i<j}|Ω_ij|; uniform picks each pair w.p. 1/N",
    "§4.1, §4.4 CD-5",
    evaluate_selection,
    REAL,
    {"selection": ("gauss_southwell", "uniform")},
)
RGD_DESCENT = _claim(
    "rgd.descent",
    "Q·expm(−ηΩ): first-order change −η‖Ω‖_F², η > 0",
    "§4.1, §4.4",
    evaluate_rgd_descent,
)
EXPM_GRADIENT = _claim(
    "expm.gradient",
    "expRNN's raw gradient triu(G_A − G_Aᵀ, 1), "
    "G_A = dexp_{Aᵀ}(baseᵀG), is the derivative of L(base·exp(A(R)))",
    "§6.1, §6.6",
    evaluate_expm_gradient,
    REAL,
)
EXPM_ZERO = _claim(
    "expm.gradient_at_zero",
    "at A = 0 the raw gradient is 2·triu(Ω, 1)",
    "§6.1, §9 item 2",
    evaluate_expm_gradient_at_zero,
    REAL,
)
WISDOM_UNITARY = _claim(
    "wisdom.unitary_any_g",
    "(I + λA/2)⁻¹(I − λA/2)W stays unitary for any G (drift §7)",
    "§6.3, §6.6, §7",
    evaluate_unitary_any_g,
)
WISDOM_DESCENT = _claim(
    "wisdom.descent",
    "d/dλ L(W(λ))|₀ = −‖A‖_F²/2 and AW = 2WS",
    "§6.3, §9 item 3",
    evaluate_wisdom_descent,
)
