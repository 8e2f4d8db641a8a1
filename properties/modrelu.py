"""Claims about the modReLU activation (theory/orthogonal.md §2.4, §2.5 SCU-5/SCU-6, §6.5).

The activation checked is the cell's own, ``subject.optimizer.activation(z, b) -> h``
when the optimizer brings one (rnnverify/contract.py), else the problem's
``problem.activation.forward``. With ``r = |z|`` and a real bias ``b``::

    complex:  σ(z) = (r + b)·z/r  where r + b > 0,  0 elsewhere
    real:     σ(x) = sign(x)·max(|x| + b, 0)

It is evaluated on the pre-activations the problem produces, ``z_t = W_hh h_{t−1} +
W_ih x_t`` of the recurrence run with that activation, at the optimizer's parameters after
``init`` and after every step (``Subject.steps``), plus a few drawn points per unit,
``z = ρ·|b_j|·e^{iφ}`` (real: ``±ρ·|b_j|``) with ρ ∈ :data:`DRAWN_RATIOS`, which put
points on both sides of the threshold ``|z| = −b`` and close to the singularity at 0.

``modrelu.jacobian`` (§2.4, SCU-5)
    Complex: on ``|z| + b > 0`` the Jacobian of σ as a map R² → R² (central differences
    along Re and Im) has singular values 1 (radial) and ``1 + b/|z|`` (tangential); on
    ``|z| + b < 0`` it is 0. Real: σ' = 1 on ``|x| + b > 0`` (x ≠ 0), 0 on ``|x| + b < 0``.
``modrelu.nonexpansive`` (§2.4, §2.5 SCU-6, §6.5)
    For ``b ≤ 0``: ``|σ(z)| ≤ |z|`` entry by entry, hence ``‖h_t‖ ≤ ‖W_hh h_{t−1}‖ +
    ‖W_ih x_t‖`` (triangle inequality). Precondition b ≤ 0: the check runs the recurrence
    with the bias clipped, ``b₋ = min(b, 0)``, at every unit (the problem draws b of both
    signs, orthogonal.md §2.4). Clipping rather than skipping units with b > 0 keeps every
    unit of every step in the check: a unit with b > 0 is evaluated at b = 0, the boundary
    of the precondition, where σ must be the identity (the recurrence's states depend on
    every unit, so dropping units would change the z_t the others see).

Tolerances (derived; ε of the pre-activation's real dtype):

* Jacobian, complex. Step ``h = ε^{1/3}·r`` (the optimal central-difference step at scale
  r). On the active region σ(z) = z + b·z/|z|; the third derivative of x ↦ x/|x| in R² has
  norm ≤ 3/|x|³ (computed symbolically: at |x| = 1 it is (6 sin²a cos a, 6 sin a − 9 sin³a),
  whose norm peaks at 3), so the truncation error of one column is ≤ h²/6·3|b|/(r − h)³.
  Rounding: each evaluation of σ has error ≤ 4ε(r + h + |b|) per component (modulus,
  sum, quotient, product), so the quotient carries ≤ √2·4ε(r + h + |b|)/h per column;
  the step ``(z + h) − (z − h)`` is exact up to ε relative, ≤ ε·(1 + |b|/r) per column.
  ``‖ΔJ‖₂ ≤ ‖ΔJ‖_F ≤ √2·(column bound)`` bounds the singular values' error (Weyl), plus
  2ε(1 + |b|/r) for the SVD. Points must keep the whole stencil on one side of every
  kink: ``r + b > 2h`` and ``r > 2h`` (active), ``r + b < −2h`` (inactive; there
  ``h = ε^{1/3}·max(r, |b|)``). Altogether ``≈ 3.7e-11·(6 + 7|b|/r)`` in float64.
* Jacobian, real. σ is piecewise linear: no truncation error; rounding as above,
  ``(2·3ε(|x| + h + |b|))/(2h) + ε``, with ``h = ε^{1/3}·max(|x|, |b|)``.
* Non-expansive. ``|σ(z)| ≤ |z|`` holds exactly in rounded arithmetic for the reference
  formula (fl is monotone: fl(r + b) ≤ r for b ≤ 0, fl(s/r) ≤ 1, |fl(c·x)| ≤ |x| for
  c ≤ 1); two computed moduli differ from the exact ones by ≤ ε each and another formula
  (z·(1 + b/r)) by ≤ 2ε more: ``|h| ≤ (1 + 4ε)|z|``. The norm form adds the rounding of
  z_t = fl(W h + U x) and of the norms: ``γ_K·(‖|W||h|‖ + ‖|U||x|‖ + ‖Wh‖ + ‖Ux‖) +
  4ε‖z‖``, K = n + m + 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import Trajectory
from rnnverify.problems import ProblemSpec, RNNProblem, make_problem, rng_for
from rnnverify.tolerance import Tolerance, eps, gamma
from rnnverify.tree import Params
from rnnverify.verdict import Status, exact_repr

Array = NDArray[Any]
Act = Callable[[Array, Array], Array]
DRAWN_RATIOS = (1e-3, 0.1, 0.5, 0.9, 1.1, 2.0, 10.0)
"""|z|/|b_j| of the drawn points: near the singularity, both sides of |z| = |b|, far out."""
THIRD_DERIVATIVE = 3.0
"""max over unit x, v of ‖d³/dt³ (x + tv)/|x + tv|‖ at t = 0 (sympy; module docstring)."""
FAMILY = {"activations": ("modrelu",)}


# ---------------------------------------------------------------------------------------
# The activation under test and its evaluation points
# ---------------------------------------------------------------------------------------


def activation_of(subject: Subject, problem: RNNProblem) -> Act:
    """The optimizer's own activation, else the problem's (module docstring)."""
    act = subject.optimizer.activation
    return act if act is not None else problem.activation.forward


def _call(act: Act, z: Array, b: Array) -> Array | Observation:
    """``act(z, b)``, or an ERROR observation when it raises or returns the wrong shape."""
    try:
        h = np.asarray(act(z, b))
    except Exception as exc:  # a user function: report, never raise
        return Observation(
            Status.ERROR,
            summary=f"the activation raised {type(exc).__name__}: {exc}",
            score=math.inf,
        )
    if h.shape != z.shape:
        return Observation(
            Status.ERROR,
            summary=f"activation(z, b) returned shape {h.shape}, expected z's {z.shape}",
            score=math.inf,
        )
    return h


def recurrence(
    problem: RNNProblem, params: Params, act: Act, b: Array
) -> tuple[list[Array], list[Array]] | Observation:
    """``z_t = W_hh h_{t−1} + W_ih x_t``, ``h_t = act(z_t, b)`` for t = 1..T (each
    (n, B)); returns ``(Z, H)`` with ``H[0] = h0``."""
    W, U = params["W_hh"], params["W_ih"]
    bB = np.broadcast_to(np.asarray(b)[:, None], problem.data.h0.shape).copy()
    h = problem.data.h0
    Z, H = [], [h]
    for x in problem.data.x:
        z = W @ h + U @ x
        out = _call(act, z, bB)
        if isinstance(out, Observation):
            return out
        h = out
        Z.append(z)
        H.append(h)
    return Z, H


def _trajectory(subject: Subject, spec: ProblemSpec) -> tuple[RNNProblem, Trajectory] | Observation:
    problem = make_problem(spec)
    traj = subject.trajectory(problem)
    if isinstance(traj, Observation):
        return traj
    return problem, traj


def _inputs(problem: RNNProblem, params: Params, **extra: Any) -> str:
    return exact_repr(
        {
            **{f"params[{k!r}]": v for k, v in params.items()},
            "x": problem.data.x,
            **extra,
        }
    )


# ---------------------------------------------------------------------------------------
# modrelu.jacobian
# ---------------------------------------------------------------------------------------


class _Points:
    """Evaluation points: z, b and a label for each."""

    def __init__(self) -> None:
        self.z: list[Array] = []
        self.b: list[Array] = []
        self.where: list[str] = []

    def add(self, z: Array, b: Array, label: Callable[[int], str]) -> None:
        z, b = np.ravel(z), np.ravel(np.broadcast_to(b, np.shape(z)))
        self.z.append(z)
        self.b.append(b)
        self.where.extend(label(i) for i in range(z.size))


def _z_label(t: int, k: int, B: int) -> Callable[[int], str]:
    def label(i: int) -> str:
        return f"z_{t + 1}[{i // B}, batch {i % B}] after step {k}"

    return label


def _drawn_label(rho: float) -> Callable[[int], str]:
    def label(i: int) -> str:
        return f"drawn |z| = {rho}·|b[{i}]|"

    return label


def _points(
    problem: RNNProblem, traj: Trajectory, act: Act, spec: ProblemSpec
) -> _Points | Observation:
    pts = _Points()
    B = problem.data.h0.shape[1]
    for k, params in enumerate(traj.params):
        b = np.asarray(params["b"])
        got = recurrence(problem, params, act, b)
        if isinstance(got, Observation):
            return got
        for t, z in enumerate(got[0]):
            pts.add(
                z,
                np.broadcast_to(b[:, None], z.shape),
                _z_label(t, k, B),
            )
    rng = rng_for(spec, 23)
    b = np.asarray(traj.params[0]["b"])
    dtype = problem.data.h0.dtype
    for rho in DRAWN_RATIOS:
        mag = rho * np.abs(b)
        if np.iscomplexobj(problem.data.h0):
            z = mag * np.exp(1j * rng.uniform(0, 2 * np.pi, b.shape))
        else:
            z = mag * rng.choice((-1.0, 1.0), b.shape)
        pts.add(z.astype(dtype), b, _drawn_label(rho))
    return pts


def jacobian_check(act: Act, z: Array, b: Array) -> dict[str, Array] | Observation:
    """Central-difference Jacobians of ``act`` at the points ``z`` (1-D, real or complex)
    with biases ``b`` (1-D, real), their expected singular values, the errors and the
    tolerances (module docstring). Points too close to a kink get ``tol = nan``."""
    e = eps(z.dtype)
    cube = e ** (1 / 3)
    r, absb = np.abs(z), np.abs(b)
    active = r + b > 0
    scale = np.where(active, r, np.maximum(r, absb))
    h = (cube * scale).astype(r.dtype)
    usable = (h > 0) & np.where(active, (r + b > 2 * h) & (r > 2 * h), r + b < -2 * h)
    hs = np.where(usable, h, 1.0).astype(r.dtype)
    cplx = np.iscomplexobj(z)
    directions = (1.0, 1j) if cplx else (1.0,)
    cols = []
    for d in directions:
        zp, zm = z + hs * d, z - hs * d
        step = (zp - zm) / d  # the step actually taken (exact up to ε)
        fp, fm = _call(act, zp, b), _call(act, zm, b)
        if isinstance(fp, Observation):
            return fp
        if isinstance(fm, Observation):
            return fm
        cols.append((fp - fm) / np.real(step))
    safe_r = np.where(r > 0, r, 1.0)
    with np.errstate(all="ignore"):
        if cplx:
            J = np.empty((*z.shape, 2, 2))
            for j, c in enumerate(cols):
                J[..., 0, j], J[..., 1, j] = np.real(c), np.imag(c)
            finite = np.all(np.isfinite(J), axis=(-2, -1))
            sv = np.linalg.svd(np.where(finite[:, None, None], J, 0.0), compute_uv=False)
            sv = np.where(finite[:, None], sv, np.nan)
            t = 1 + b / safe_r
            want = np.where(
                active[:, None],
                np.stack([np.maximum(1.0, t), np.minimum(1.0, t)], axis=-1),
                0.0,
            )
            err = np.max(np.abs(sv - want), axis=-1)
            ratio_b = absb / safe_r
            trunc = hs**2 / 6 * THIRD_DERIVATIVE * absb / np.maximum(r - hs, 1e-300) ** 3
            rounding = math.sqrt(2) * 4 * e * (r + hs + absb) / hs
            col = np.where(active, trunc, 0.0) + rounding + e * (1 + ratio_b)
            tol = math.sqrt(2) * col + 2 * e * (1 + ratio_b)
            measured = sv
        else:
            D = np.real(cols[0])
            want = np.where(active, 1.0, 0.0)[:, None]
            measured = D[:, None]
            err = np.abs(D - want[:, 0])
            tol = 3 * e * (r + hs + absb) / hs + e
    err = np.where(np.isfinite(err), err, np.inf)
    return {
        "err": err,
        "tol": np.where(usable, tol, np.nan),
        "measured": measured,
        "want": want,
        "h": hs,
        "usable": usable,
    }


def evaluate_jacobian(subject: Subject, spec: ProblemSpec) -> Observation:
    """modrelu.jacobian: singular values of the central-difference Jacobian of σ."""
    got = _trajectory(subject, spec)
    if isinstance(got, Observation):
        return got
    problem, traj = got
    act = activation_of(subject, problem)
    pts = _points(problem, traj, act, spec)
    if isinstance(pts, Observation):
        return pts
    z, b = np.concatenate(pts.z), np.concatenate(pts.b).astype(np.real(pts.z[0]).dtype)
    res = jacobian_check(act, z, b)
    if isinstance(res, Observation):
        return res
    usable = res["usable"]
    if not np.any(usable):
        return Observation.na("every point is within a difference step of a kink of modReLU")
    ratio = np.where(usable, res["err"] / np.where(usable, res["tol"], 1.0), -1.0)
    i = int(np.argmax(ratio))
    worst = float(ratio[i])
    cplx = np.iscomplexobj(z)
    tol = Tolerance(
        float(res["tol"][i]),
        (
            "√2·(h²/6·3|b|/(r − h)³ + √2·4ε(r + h + |b|)/h + ε(1 + |b|/r)) + 2ε(1 + |b|/r), "
            "h = ε^{1/3}·r (truncation, rounding of σ and of the step, SVD)"
            if cplx
            else "3ε(|x| + h + |b|)/h + ε, h = ε^{1/3}·max(|x|, |b|) (rounding of σ)"
        ),
        {"h": float(res["h"][i]), "eps": eps(z.dtype)},
    )
    claim = CLAIMS["modrelu.jacobian"]
    quantities: dict[str, Any] = {
        "point": pts.where[i],
        "z": complex(z[i]) if cplx else float(z[i]),
        "b": float(b[i]),
        "|z| + b": float(abs(z[i]) + b[i]),
        "measured (singular values / derivative)": [float(v) for v in res["measured"][i]],
        "expected": [float(v) for v in res["want"][i]],
        "points checked": int(np.sum(usable)),
    }
    status = Status.PASS if worst <= 1.0 else Status.FAIL
    return Observation(
        status,
        summary=(
            f"worst |σ_fd − σ_expected|/tol = {worst:.2g} at {pts.where[i]}"
            if status is Status.PASS
            else (
                f"modrelu.jacobian: at {pts.where[i]} (z = {z[i]!r}, b = {b[i]!r}) the "
                f"Jacobian has {quantities['measured (singular values / derivative)']}, "
                f"the theorem says {quantities['expected']} ({worst:.3g}× the tolerance)"
            )
        ),
        measured=float(res["err"][i]),
        bound=tol.value,
        inequality=claim.summary,
        tolerance=tol,
        entry=None if status is Status.PASS else pts.where[i],
        quantities=quantities,
        inputs=None if status is Status.PASS else exact_repr({"z": z[i], "b": b[i]}),
        score=worst,
    )


# ---------------------------------------------------------------------------------------
# modrelu.nonexpansive
# ---------------------------------------------------------------------------------------


def evaluate_nonexpansive(subject: Subject, spec: ProblemSpec) -> Observation:
    """modrelu.nonexpansive: |σ(z)| ≤ |z| and ‖h_t‖ ≤ ‖W h_{t−1}‖ + ‖U x_t‖ for b₋ ≤ 0."""
    got = _trajectory(subject, spec)
    if isinstance(got, Observation):
        return got
    problem, traj = got
    act = activation_of(subject, problem)
    s = problem.spec
    e = eps(s.real_dtype)
    g = gamma(s.hidden + s.inputs + 2, s.real_dtype)
    worst: tuple[float, str, dict[str, Any], Tolerance, float, Params, Array] | None = None
    for k, params in enumerate(traj.params):
        b_minus = np.minimum(np.asarray(params["b"]), 0)
        got_zh = recurrence(problem, params, act, b_minus)
        if isinstance(got_zh, Observation):
            return got_zh
        Z, H = got_zh
        W, U = params["W_hh"], params["W_ih"]
        for t, (z, h) in enumerate(zip(Z, H[1:], strict=True)):
            # entry by entry: |h| ≤ (1 + 4ε)|z|
            az, ah = np.abs(z), np.abs(h)
            excess = np.where(np.isfinite(ah), ah - az, np.inf)
            tol_e = 4 * e * az
            with np.errstate(all="ignore"):
                r_e = np.where(excess > 0, excess / np.where(tol_e > 0, tol_e, 0.0), 0.0)
            r_e = np.where(np.isnan(r_e), np.inf, r_e)
            j = np.unravel_index(int(np.argmax(r_e)), r_e.shape)
            label = f"h_{t + 1}[{j[0]}, batch {j[1]}] after step {k}"
            q = {
                "|σ(z)|": float(ah[j]),
                "|z|": float(az[j]),
                "z": complex(z[j]) if np.iscomplexobj(z) else float(z[j]),
                "b₋": float(b_minus[j[0]]),
                "b": float(params["b"][j[0]]),
            }
            tol = Tolerance(float(tol_e[j]), "4ε|z| (two moduli, the scaling)", {"eps": e})
            if worst is None or r_e[j] > worst[0]:
                worst = (float(r_e[j]), label, q, tol, float(excess[j]), params, b_minus)
            # norms: ‖h_t‖ ≤ ‖W h_{t−1}‖ + ‖U x_t‖, per sequence of the batch
            hp, x = H[t], problem.data.x[t]
            Wh, Ux = W @ hp, U @ x
            nh = np.linalg.norm(h, axis=0)
            rhs = np.linalg.norm(Wh, axis=0) + np.linalg.norm(Ux, axis=0)
            tol_n = g * (
                np.linalg.norm(np.abs(W) @ np.abs(hp), axis=0)
                + np.linalg.norm(np.abs(U) @ np.abs(x), axis=0)
                + rhs
            ) + 4 * e * np.linalg.norm(z, axis=0)
            ex_n = np.where(np.isfinite(nh), nh - rhs, np.inf)
            with np.errstate(all="ignore"):
                r_n = np.where(ex_n > 0, ex_n / np.where(tol_n > 0, tol_n, 0.0), 0.0)
            r_n = np.where(np.isnan(r_n), np.inf, r_n)
            c = int(np.argmax(r_n))
            if r_n[c] > worst[0]:
                worst = (
                    float(r_n[c]),
                    f"‖h_{t + 1}[:, batch {c}]‖ after step {k}",
                    {
                        "‖h_t‖": float(nh[c]),
                        "‖W h_{t−1}‖": float(np.linalg.norm(Wh[:, c])),
                        "‖U x_t‖": float(np.linalg.norm(Ux[:, c])),
                    },
                    Tolerance(
                        float(tol_n[c]),
                        "γ_K(‖|W||h|‖ + ‖|U||x|‖ + ‖Wh‖ + ‖Ux‖) + 4ε‖z‖, K = n + m + 2",
                        {"gamma_K": g, "eps": e},
                    ),
                    float(ex_n[c]),
                    params,
                    b_minus,
                )
    if worst is None:
        return Observation.na("no time step")
    ratio, label, q, tol, excess_w, params_w, b_w = worst
    claim = CLAIMS["modrelu.nonexpansive"]
    if ratio <= 1.0:
        return Observation(
            Status.PASS,
            summary=f"worst excess/tol = {ratio:.2g} ({label})",
            measured=excess_w,
            bound=tol.value,
            inequality=claim.summary,
            tolerance=tol,
            quantities=q,
            score=ratio,
        )
    return Observation(
        Status.FAIL,
        summary=(
            f"modrelu.nonexpansive: at {label}, with the bias clipped to b₋ = min(b, 0), the "
            f"activation expands: {q} ({ratio:.3g}× the tolerance)"
        ),
        measured=excess_w,
        bound=tol.value,
        inequality=claim.summary,
        tolerance=tol,
        entry=label,
        quantities=q,
        inputs=_inputs(problem, params_w, b_clipped=b_w),
        score=ratio,
    )


CLAIMS: dict[str, Claim] = {}


def _register(claim: Claim) -> Claim:
    CLAIMS[claim.id] = claim
    return register_claim(claim)


JACOBIAN = _register(
    Claim(
        id="modrelu.jacobian",
        summary=(
            "on |z| + b > 0: sv(∂σ/∂(Re z, Im z)) = {1, 1 + b/|z|} (real: σ' = 1); 0 on |z| + b < 0"
        ),
        source="theory/orthogonal.md §2.4, §2.5 SCU-5",
        evaluate=evaluate_jacobian,
        family=FAMILY,
        figure="err {:.1e}",
    )
)
NONEXPANSIVE = _register(
    Claim(
        id="modrelu.nonexpansive",
        summary="b ≤ 0: |σ(z)| ≤ |z|, hence ‖h_t‖ ≤ ‖W h_{t−1}‖ + ‖U x_t‖",
        source="theory/orthogonal.md §2.4, §2.5 SCU-6, §6.5, §6.6",
        evaluate=evaluate_nonexpansive,
        family=FAMILY,
        figure="{:.1e}",
    )
)
