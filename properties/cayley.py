"""Claims about Cayley-parametrized recurrent matrices (scoRNN, scuRNN).

An optimizer that keeps ``W = C(A)·D`` (theory/orthogonal.md §1, §2) exposes its
parametrization in its state, as attributes or mapping keys:

==============  =========================================================================
``A``           the skew (skew-Hermitian) matrix after the step
``D``           the diagonal of D (±1, real); or ``theta``, D = diag(e^{iθ}) (complex)
``grad_A``      the gradient DFA the step that produced this state descended along,
                evaluated at the previous state's A and the previous parameters
``grad_theta``  (complex) ∂L/∂θ of that step
==============  =========================================================================

The claims run the optimizer (``Subject.steps`` steps from a Haar start) and check, at
every step ``k``, the state against the parameters and the loss:

``cayley.skew_exact``
    ``A_kᵀ == −A_k`` bitwise (real), ``A_kᴴ == −A_k`` bitwise (complex: Re antisymmetric,
    Im symmetric, Re diag == 0) for every state (§1.3 SCO-2, §2.3 SCU-2).
``cayley.gradient``
    ``d/dt L(C(A_k + tE)D)|₀ = ½⟨DFA_k, E⟩`` for a random skew E (so, coordinate by
    coordinate, ``∂L/∂a_ij = DFA_ij``; the worst (i, j) is located on failure) (§1.2, SCO-3).
``cayley.descent``
    Along E = −DFA/‖DFA‖_F: ``L(A − η·DFA) − L(A) = −(η/2)‖DFA‖_F² + O(η²)`` (§1.4 SCO-7).
``cayley.spectrum``
    With ``iA_k = U·diag(λ)·Uᴴ`` (μ = −λ: A's eigenvalues iμ), ``Uᴴ(W_k D⁻¹)U =
    diag(e^{−2i·arctan μ})``: the eigen-angles of C(A) are −2·arctan μ and −1 is never an
    eigenvalue (§1.1, SCO-5).
``cayley.convention``
    ``C(W_k D⁻¹) = A_k`` (C is an involution) and ``W_k D⁻¹ = Cay(−2A_k)``, the PyTorch /
    geotorch map (§0.2, SCO-6, §9 item 1).
``cayley_complex.gradient``
    ``d/dt L(C(A_k + tE)D)|₀ = Re tr(DFA_kᴴE)`` for random skew-Hermitian E (§2.2, SCU-3).
``cayley_complex.theta_gradient``
    ``d/dθ_j L(C(A_k)·diag(e^{iθ}))`` equals ``grad_theta_j`` (§2.2, SCU-4).

States where a check is not computable (the loss not finite along a direction after a
diverged run, ``I + W D⁻¹`` numerically singular because ‖A‖ is beyond 1/ε) are skipped;
a claim none of whose states or directions is computable is inapplicable (n.a.).

Tolerances (every claim states its own in :class:`~rnnverify.tolerance.Tolerance`): the
forward rounding of ``C(A)`` by one LU solve is ``e_W = 10·√n·n·ε·sqrt(1 + ‖A‖₂²)`` in
Frobenius norm (κ(I + A) = sqrt(1 + ‖A‖₂²), the constant 10 is §7's envelope, √n turns
the operator-norm bound into a Frobenius one); central differences use
:func:`rnnverify.tolerance.central_difference_tolerance` with the loss rounding of
:func:`rnnverify.tolerance.loss_rounding` plus ``‖G‖_F·e_W`` (the rounding of W(t) seen by
the loss).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import Trajectory
from rnnverify.manifolds import cayley, cayley_torch
from rnnverify.problems import ProblemSpec, RNNProblem, make_problem, rng_for
from rnnverify.tolerance import (
    Tolerance,
    accumulation_length,
    central_difference_step,
    central_difference_tolerance,
    eps,
    loss_rounding,
)
from rnnverify.tree import Params
from rnnverify.verdict import Status, exact_repr

Array = NDArray[Any]
KINK_SAFETY = 0.5
"""Difference steps stay below half the certified first-order distance to a kink (as in
properties/gradient.py)."""
DIRECTIONS = 2
"""Random directions per step for the directional-derivative checks."""
REQUIRES = {"recurrent": ("orthogonal",)}
STATE_FIELDS = "A, D (or theta) and grad_A (grad_theta for the complex claims)"


# ---------------------------------------------------------------------------------------
# Reading the optimizer's state
# ---------------------------------------------------------------------------------------


def state_field(state: Any, name: str) -> Array | None:
    """``state.name`` or ``state[name]`` as an array, or None."""
    value = state.get(name) if isinstance(state, Mapping) else getattr(state, name, None)
    return None if value is None else np.asarray(value)


def diagonal_of_D(state: Any) -> Array | None:
    """The diagonal of D: ``state.D`` (±1) or ``e^{iθ}`` from ``state.theta``."""
    D = state_field(state, "D")
    if D is not None:
        return np.diagonal(D) if D.ndim == 2 else D
    theta = state_field(state, "theta")
    return None if theta is None else np.exp(1j * theta)


def _missing(name: str) -> Observation:
    return Observation(
        Status.ERROR,
        summary=(
            f"the optimizer's state has no {name!r}: a Cayley-parametrized optimizer must "
            f"expose {STATE_FIELDS} (docs/claims/cayley.gradient.md)"
        ),
        score=math.inf,
    )


def _run(subject: Subject, spec: ProblemSpec) -> tuple[RNNProblem, Trajectory] | Observation:
    problem = make_problem(spec)
    target = subject.target or "W_hh"
    if target not in problem.params0:
        return Observation(Status.ERROR, summary=f"target {target!r} is not a parameter")
    traj = subject.trajectory(problem)
    if isinstance(traj, Observation):
        return traj
    if traj.steps == 0:
        return Observation.na("the run took no step")
    return problem, traj


class StepData:
    """What the claims need at step k: parameters, A, D before the step; the gradients
    the step used (from the next state)."""

    def __init__(self, k: int, params: Params, A: Array, d: Array, after: Any) -> None:
        self.k, self.params, self.A, self.d, self.after = k, params, A, d, after


def _steps(traj: Trajectory, need: tuple[str, ...]) -> list[StepData] | Observation:
    out = []
    for k in range(traj.steps):
        before, after = traj.states[k], traj.states[k + 1]
        A, d = state_field(before, "A"), diagonal_of_D(before)
        if A is None:
            return _missing("A")
        if d is None:
            return _missing("D")
        for name in need:
            if state_field(after, name) is None:
                return _missing(name)
        out.append(StepData(k, traj.params[k], A, d, after))
    return out


def _norm2(A: Array) -> float:
    return float(np.linalg.norm(A, 2)) if A.size else 0.0


def forward_error_W(A: Array) -> Tolerance:
    """``e_W``: Frobenius rounding of ``C(A)`` by one LU solve (module docstring)."""
    n, e, a = A.shape[0], eps(A.dtype), _norm2(A)
    return Tolerance(
        10 * math.sqrt(n) * n * e * math.hypot(1.0, a),
        "10·√n·n·ε·sqrt(1 + ‖A‖₂²) (LU solve, κ(I + A) = sqrt(1 + ‖A‖₂²))",
        {"n": n, "eps": e, "norm_A": a},
    )


def _W_of(A: Array, d: Array, dtype: Any) -> Array:
    return (cayley(A) * d[None, :]).astype(dtype)


def _inputs(problem: RNNProblem, s: StepData, **extra: Any) -> str:
    return exact_repr(
        {
            "A": s.A,
            "D": s.d,
            **{f"params[{k!r}]": v for k, v in s.params.items()},
            "x": problem.data.x,
            "y": problem.data.y,
            **extra,
        }
    )


# ---------------------------------------------------------------------------------------
# Directional derivatives of L(C(A + tE)·D) by central differences
# ---------------------------------------------------------------------------------------


def _directional(
    problem: RNNProblem,
    s: StepData,
    target: str,
    E: Array,
    analytic: float,
    vary: str = "A",
) -> dict[str, Any] | None:
    """Central difference of ``φ(t) = L(params with target = C(A + tE)D)`` (``vary="A"``)
    or of ``L(C(A)·diag(d·e^{itE}))`` (``vary="theta"``, E a real vector), compared with
    ``analytic``; ``None`` if a kink is within reach of the steps."""
    dtype = s.params[target].dtype
    n = s.A.shape[0]
    W = _W_of(s.A, s.d, np.result_type(dtype, s.A.dtype, s.d.dtype))
    if vary == "A":

        def W_at(t: float) -> Array:
            return _W_of(s.A + t * E, s.d, dtype)

        # dW = −(I + A)⁻¹ E (W + D): the first-order change, for the kink distance
        dW = -np.linalg.solve(np.eye(n) + s.A, E @ (W + np.diag(s.d)))
    else:

        def W_at(t: float) -> Array:
            return _W_of(s.A, s.d * np.exp(1j * t * E), dtype)

        dW = W * (1j * E)[None, :]
    direction = {k: np.zeros_like(v) for k, v in s.params.items()}
    direction[target] = dW.astype(dtype)
    h = central_difference_step(problem.spec.real_dtype)
    if 2 * h > KINK_SAFETY * problem.kink_step(s.params, direction):
        return None

    def phi(t: float) -> float:
        return problem.loss({**s.params, target: W_at(t)})

    D1 = (phi(h) - phi(-h)) / (2 * h)
    D2 = (phi(2 * h) - phi(-2 * h)) / (4 * h)
    if not (math.isfinite(D1) and math.isfinite(D2)):
        return None  # the loss is not finite along the direction: nothing to compare
    G = problem.grad(s.params)[target]
    e_W = forward_error_W(s.A)
    delta_f = (
        max(
            loss_rounding(problem, {**s.params, target: W_at(t)}).value
            for t in (-2 * h, 0.0, 2 * h)
        )
        + float(np.linalg.norm(G)) * e_W.value
    )
    cd = central_difference_tolerance(
        delta_f, h, abs(D2 - D1), analytic, problem.spec.real_dtype, accumulation_length(problem)
    )
    # the analytic side: V = (I + A)⁻ᵀG(D + Wᵀ) is one solve (relative error ≤ e_W·‖G‖_F·
    # ‖D + Wᵀ‖₂ ≤ 2·e_W·‖G‖_F), DFA = Vᵀ − V doubles it, and ⟨DFA, E⟩ ≤ ‖·‖_F‖E‖_F
    e_an = 4 * e_W.value * float(np.linalg.norm(G)) * float(np.linalg.norm(E))
    tol = Tolerance(
        cd.value + e_an,
        cd.derivation + " + 4·e_W·‖G‖_F·‖E‖_F (rounding of DFA); δ_f includes ‖G‖_F·e_W",
        {**cd.terms, "e_W": e_W.value, "analytic_rounding": e_an},
    )
    return {"fd": D1, "analytic": analytic, "error": abs(D1 - analytic), "tol": tol, "h": h}


def _skew_unit(n: int, rng: np.random.Generator, complex_: bool) -> Array:
    X = rng.standard_normal((n, n))
    if complex_:
        X = X + 1j * rng.standard_normal((n, n))
    E = X - X.conj().T
    norm = float(np.linalg.norm(E))
    return E / norm if norm > 0 else E


def _E_ij(n: int, i: int, j: int) -> Array:
    E = np.zeros((n, n))
    E[i, j], E[j, i] = 1.0, -1.0
    return E


def _worst_coordinate(
    problem: RNNProblem, s: StepData, target: str, DFA: Array
) -> tuple[str, float, float]:
    """The (i, j), i < j, where ∂L/∂a_ij (central difference) and DFA_ij differ most."""
    n = s.A.shape[0]
    best, best_err = ("?", 0.0, 0.0), -1.0
    for i in range(n):
        for j in range(i + 1, n):
            res = _directional(problem, s, target, _E_ij(n, i, j), float(DFA[i, j].real))
            if res is not None and res["error"] > best_err:
                best_err = res["error"]
                best = (f"A[{i}, {j}] at step {s.k}", res["analytic"], res["fd"])
    return best


def _fd_claim(
    subject: Subject,
    spec: ProblemSpec,
    claim_id: str,
    need: tuple[str, ...],
    cases: Callable[[StepData, np.random.Generator], list[tuple[str, Array, float, str]]],
    locate: bool,
) -> Observation:
    """Run the optimizer; at every step compare central differences along the directions
    ``cases`` gives (label, E, analytic value, vary) with the analytic values."""
    got = _run(subject, spec)
    if isinstance(got, Observation):
        return got
    problem, traj = got
    target = subject.target or "W_hh"
    steps = _steps(traj, need)
    if isinstance(steps, Observation):
        return steps
    rng = rng_for(spec, 11)
    worst: tuple[float, StepData, str, dict[str, Any]] | None = None
    checked = 0
    for s in steps:
        for label, E, analytic, vary in cases(s, rng):
            if not np.isfinite(analytic):
                # the optimizer's gradient overflowed (‖A‖ near the float range after a
                # diverging run); a NaN/inf there reaches W at the next step, where the
                # runner reports it as a non-finite parameter
                continue
            res = _directional(problem, s, target, E, analytic, vary)
            if res is None:
                continue
            checked += 1
            ratio = res["error"] / res["tol"].value if res["tol"].value > 0 else math.inf
            if worst is None or ratio > worst[0]:
                worst = (ratio, s, label, res)
    if worst is None:
        return Observation.na(
            "nothing to differentiate: no direction (n = 1 has no skew direction, or a zero "
            "gradient), or every direction is within a difference step of a kink"
        )
    ratio, s, label, res = worst
    claim = CLAIMS[claim_id]
    quantities: dict[str, Any] = {
        "direction": label,
        "step k": s.k,
        "central difference D(h)": res["fd"],
        "optimizer's value": res["analytic"],
        "h": res["h"],
        "‖A_k‖₂": _norm2(s.A),
        "directions checked": checked,
    }
    if ratio <= 1.0:
        return Observation(
            Status.PASS,
            summary=f"worst |D(h) − value|/tol = {ratio:.2g} ({label}, step {s.k})",
            measured=res["error"],
            bound=res["tol"].value,
            inequality=claim.summary,
            tolerance=res["tol"],
            quantities=quantities,
            score=ratio,
        )
    entry = f"{label} at step {s.k}"
    extra: dict[str, Any] = {}
    if locate:
        DFA = state_field(s.after, "grad_A")
        assert DFA is not None
        entry, an, fd = _worst_coordinate(problem, s, target, DFA)
        quantities.update({"worst entry DFA_ij": an, "worst entry ∂L/∂a_ij (central diff.)": fd})
        extra["grad_A"] = DFA
    return Observation(
        Status.FAIL,
        summary=(
            f"{claim_id}: along {label} at step {s.k} the loss changes at rate "
            f"{res['fd']:.6g}, the optimizer's gradient says {res['analytic']:.6g} "
            f"({ratio:.3g}× the tolerance); worst entry {entry}"
        ),
        measured=res["error"],
        bound=res["tol"].value,
        inequality=claim.summary,
        tolerance=res["tol"],
        entry=entry,
        quantities=quantities,
        inputs=_inputs(problem, s, **extra),
        score=ratio,
    )


# ---------------------------------------------------------------------------------------
# The claims
# ---------------------------------------------------------------------------------------


def evaluate_gradient(subject: Subject, spec: ProblemSpec) -> Observation:
    """cayley.gradient: ½⟨DFA, E⟩ is the derivative along random skew E."""

    def cases(s: StepData, rng: np.random.Generator) -> list[tuple[str, Array, float, str]]:
        DFA = state_field(s.after, "grad_A")
        assert DFA is not None
        out: list[tuple[str, Array, float, str]] = []
        if s.A.shape[0] < 2:  # Skew(1) = {0}
            return out
        for r in range(DIRECTIONS):
            E = _skew_unit(s.A.shape[0], rng, complex_=False)
            out.append((f"random skew E #{r}", E, 0.5 * float(np.sum(DFA * E)), "A"))
        return out

    return _fd_claim(subject, spec, "cayley.gradient", ("grad_A",), cases, locate=True)


def evaluate_descent(subject: Subject, spec: ProblemSpec) -> Observation:
    """cayley.descent: along E = −DFA/‖DFA‖_F the slope is −‖DFA‖_F/2."""

    def cases(s: StepData, rng: np.random.Generator) -> list[tuple[str, Array, float, str]]:
        DFA = state_field(s.after, "grad_A")
        assert DFA is not None
        norm = float(np.linalg.norm(DFA))
        if not np.isfinite(norm):
            return [("−DFA/‖DFA‖", DFA, math.inf, "A")]
        if norm == 0:
            return []
        return [("−DFA/‖DFA‖", -DFA / norm, -0.5 * norm, "A")]

    return _fd_claim(subject, spec, "cayley.descent", ("grad_A",), cases, locate=False)


def evaluate_complex_gradient(subject: Subject, spec: ProblemSpec) -> Observation:
    """cayley_complex.gradient: Re tr(DFAᴴE) along random skew-Hermitian E."""

    def cases(s: StepData, rng: np.random.Generator) -> list[tuple[str, Array, float, str]]:
        DFA = state_field(s.after, "grad_A")
        assert DFA is not None
        out = []
        for r in range(DIRECTIONS):
            E = _skew_unit(s.A.shape[0], rng, complex_=True)
            out.append((f"random skew-Hermitian E #{r}", E, float(np.real(np.vdot(DFA, E))), "A"))
        return out

    return _fd_claim(subject, spec, "cayley_complex.gradient", ("grad_A",), cases, locate=False)


def evaluate_theta_gradient(subject: Subject, spec: ProblemSpec) -> Observation:
    """cayley_complex.theta_gradient: ∂L/∂θ_j by central differences, every j."""

    def cases(s: StepData, rng: np.random.Generator) -> list[tuple[str, Array, float, str]]:
        g = state_field(s.after, "grad_theta")
        assert g is not None
        n = s.A.shape[0]
        return [(f"θ[{j}]", np.eye(n)[j], float(g[j]), "theta") for j in range(n)]

    return _fd_claim(
        subject, spec, "cayley_complex.theta_gradient", ("grad_theta",), cases, locate=False
    )


def evaluate_skew_exact(subject: Subject, spec: ProblemSpec) -> Observation:
    """cayley.skew_exact: every state's A is bitwise skew (skew-Hermitian)."""
    got = _run(subject, spec)
    if isinstance(got, Observation):
        return got
    _, traj = got
    claim = CLAIMS["cayley.skew_exact"]
    for k, state in enumerate(traj.states):
        A = state_field(state, "A")
        if A is None:
            return _missing("A")
        # bitwise: Re A antisymmetric, Im A symmetric (so Re diag = 0); NaN fails
        bad = ~((A.real.T == -A.real) & (A.imag.T == A.imag))
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            defect = np.abs(A + A.conj().T)
            return Observation(
                Status.FAIL,
                summary=(
                    f"A is not exactly skew{'-Hermitian' if np.iscomplexobj(A) else ''} after "
                    f"{'init' if k == 0 else f'step {k}'}: A[{i}, {j}] = {A[i, j]!r}, "
                    f"A[{j}, {i}] = {A[j, i]!r}"
                ),
                measured=float(np.max(defect)) if np.all(np.isfinite(defect)) else math.inf,
                bound=0.0,
                inequality=claim.summary,
                entry=f"A[{i}, {j}] after {'init' if k == 0 else f'step {k}'}",
                quantities={
                    "max |A + Aᴴ|": float(np.max(defect)),
                    "‖A‖₂": _norm2(np.nan_to_num(A)),
                    "k": k,
                },
                inputs=exact_repr({"A": A}),
                score=math.inf,
            )
    return Observation(
        Status.PASS,
        summary=f"A bitwise skew after init and {traj.steps} steps",
        measured=0.0,
        bound=0.0,
        inequality=claim.summary,
    )


def _per_state(
    subject: Subject,
    spec: ProblemSpec,
    claim_id: str,
    measure: Callable[[Array, Array, Array], tuple[float, Tolerance, dict[str, Any]]],
) -> Observation:
    """Evaluate ``measure(W_k, A_k, d_k) -> (value, tolerance, quantities)`` after every
    step; FAIL on the first value above its tolerance."""
    got = _run(subject, spec)
    if isinstance(got, Observation):
        return got
    _, traj = got
    target = subject.target or "W_hh"
    claim = CLAIMS[claim_id]
    worst: tuple[float, int, float, Tolerance, dict[str, Any]] | None = None
    skipped = 0
    for k in range(1, traj.steps + 1):
        state = traj.states[k]
        A, d = state_field(state, "A"), diagonal_of_D(state)
        if A is None:
            return _missing("A")
        if d is None:
            return _missing("D")
        W = traj.params[k][target]
        value, tol, quantities = measure(W, A, d)
        if math.isnan(value):  # not computable at this state (module docstring)
            skipped += 1
            continue
        ratio = value / tol.value if tol.value > 0 else (0.0 if value == 0 else math.inf)
        if not value <= tol.value:
            return Observation(
                Status.FAIL,
                summary=(f"{claim_id} violated after step {k}: {value:.3g} > {tol.value:.3g}"),
                measured=value,
                bound=tol.value,
                inequality=claim.summary,
                tolerance=tol,
                entry=f"{target} after step {k}",
                quantities={**quantities, "k": k},
                inputs=exact_repr({f"{target} (step {k})": W, "A": A, "D": d}),
                score=ratio,
            )
        if worst is None or ratio > worst[0]:
            worst = (ratio, k, value, tol, quantities)
    if worst is None:
        return Observation.na(
            f"not computable at any of {skipped} states: A non-finite, or I + W D⁻¹ "
            "numerically singular (‖A‖ beyond 1/ε)"
        )
    ratio, k, value, tol, quantities = worst
    return Observation(
        Status.PASS,
        summary=f"worst step {k}: {value:.3g} ≤ {tol.value:.3g} ({ratio:.2g} of the bound)",
        measured=value,
        bound=tol.value,
        inequality=claim.summary,
        tolerance=tol,
        quantities={**quantities, "k": k},
        score=ratio,
    )


def spectrum_measure(W: Array, A: Array, d: Array) -> tuple[float, Tolerance, dict[str, Any]]:
    """``‖Uᴴ(W D⁻¹)U − diag(e^{−2i·arctan μ})‖_F`` with ``iA = U diag(−μ) Uᴴ``.

    Tolerance ``e_W + 2·10·√n·n·ε·‖A‖₂ + 2·10·√n·n·ε``: W's rounding; eigh's backward
    error (≤ 10nε‖A‖₂ in A, through C's Lipschitz constant ‖(I + A)⁻¹‖·‖C + I‖ ≤ 2);
    the two products with U (≤ 2γ_n each, U unitary to nε)."""
    n = A.shape[0]
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(W))):
        return math.nan, forward_error_W(A), {}
    lam, U = np.linalg.eigh(1j * A)
    mu = -lam
    target = np.exp(-2j * np.arctan(mu))
    M = W / d[None, :]
    R = U.conj().T @ M @ U - np.diag(target)
    value = float(np.linalg.norm(R))
    if not math.isfinite(value):  # overflow inside the check: not computable
        value = math.nan
    e_W = forward_error_W(A)
    e, a = eps(A.dtype), _norm2(A)
    extra = 20 * math.sqrt(n) * n * e * (a + 1)
    tol = Tolerance(
        e_W.value + extra,
        e_W.derivation + " + 20·√n·n·ε·(‖A‖₂ + 1) (eigh backward error through C; products)",
        {**e_W.terms, "eigh_and_products": extra},
    )
    eig = np.linalg.eigvals(M) if np.all(np.isfinite(M)) else np.array([np.nan])
    return (
        value,
        tol,
        {
            "min |λ(W D⁻¹) + 1|": float(np.min(np.abs(eig + 1))),
            "max |μ|": float(np.max(np.abs(mu))),
        },
    )


def convention_measure(W: Array, A: Array, d: Array) -> tuple[float, Tolerance, dict[str, Any]]:
    """``max(‖C(W D⁻¹) − A‖_F/(1 + ‖A‖₂²), ‖W D⁻¹ − Cay(−2A)‖_F/2)`` against ``e_W``.

    ``C`` at ``M = C(A)`` has derivative ``dM ↦ −(I + M)⁻¹dM(C(M) + I)`` with
    ``‖(I + M)⁻¹‖₂ = sqrt(1 + ‖A‖₂²)/2`` and ``‖A + I‖₂ = sqrt(1 + ‖A‖₂²)``: W's rounding
    e_W is amplified at most (1 + ‖A‖₂²)/2 times, and inverting M rounds as much again.
    ``W D⁻¹`` and ``Cay(−2A)`` are each within e_W of C(A)."""
    M = W / d[None, :]
    a = _norm2(A)
    try:
        inv_err = float(np.linalg.norm(cayley(M) - A))
        torch_err = float(np.linalg.norm(M - cayley_torch(-2 * A)))
    except np.linalg.LinAlgError:  # I + M or I + A numerically singular: nothing to compare
        return math.nan, forward_error_W(A), {"‖A‖₂": a}
    e_W = forward_error_W(A)
    value = max(inv_err / (1 + a * a), torch_err / 2)
    if not np.isfinite(value):  # overflow inside the check (‖A‖ near the float range)
        value = math.nan
    return (
        value,
        e_W,
        {
            "‖C(W D⁻¹) − A‖_F": inv_err,
            "‖W D⁻¹ − Cay(−2A)‖_F": torch_err,
            "1 + ‖A‖₂²": 1 + a * a,
        },
    )


def evaluate_spectrum(subject: Subject, spec: ProblemSpec) -> Observation:
    return _per_state(subject, spec, "cayley.spectrum", spectrum_measure)


def evaluate_convention(subject: Subject, spec: ProblemSpec) -> Observation:
    return _per_state(subject, spec, "cayley.convention", convention_measure)


CLAIMS: dict[str, Claim] = {}


def _register(claim: Claim) -> Claim:
    CLAIMS[claim.id] = claim
    return register_claim(claim)


SKEW_EXACT = _register(
    Claim(
        id="cayley.skew_exact",
        summary="A_kᴴ == −A_k bitwise (Re antisymmetric, Im symmetric, Re diag 0) at every k",
        source="theory/orthogonal.md §1.3 SCO-2, §2.3 SCU-2",
        evaluate=evaluate_skew_exact,
        requires=REQUIRES,
        figure="{:.1e}",
    )
)
GRADIENT = _register(
    Claim(
        id="cayley.gradient",
        summary="d/dt L(C(A_k + tE)D)|₀ = ½⟨DFA_k, E⟩ (DFA_ij = ∂L/∂a_ij), DFA = Vᵀ − V",
        source="theory/orthogonal.md §1.2 (SCO-3), §0.3",
        evaluate=evaluate_gradient,
        requires=REQUIRES,
        family={"cells": ("elman",)},
        figure="err {:.1e}",
    )
)
DESCENT = _register(
    Claim(
        id="cayley.descent",
        summary="L(A − η·DFA) − L(A) = −(η/2)‖DFA‖_F² + O(η²)",
        source="theory/orthogonal.md §1.4 SCO-7",
        evaluate=evaluate_descent,
        requires=REQUIRES,
        family={"cells": ("elman",)},
        figure="err {:.1e}",
    )
)
SPECTRUM = _register(
    Claim(
        id="cayley.spectrum",
        summary="Uᴴ(W_k D⁻¹)U = diag(e^{−2i·arctan μ}) for iA_k = U·diag(−μ)·Uᴴ; −1 ∉ spec",
        source="theory/orthogonal.md §1.1, §1.4 SCO-5",
        evaluate=evaluate_spectrum,
        requires=REQUIRES,
        figure="{:.1e}",
    )
)
CONVENTION = _register(
    Claim(
        id="cayley.convention",
        summary="C(W_k D⁻¹) = A_k and W_k D⁻¹ = Cay(−2A_k) (scoRNN vs PyTorch/geotorch)",
        source="theory/orthogonal.md §0.2, §1.4 SCO-6, §9 item 1",
        evaluate=evaluate_convention,
        requires=REQUIRES,
        figure="{:.1e}",
    )
)
COMPLEX_GRADIENT = _register(
    Claim(
        id="cayley_complex.gradient",
        summary="d/dt L(C(A_k + tE)D)|₀ = Re tr(DFA_kᴴE) for skew-Hermitian E, DFA = Vᵀ − V̄",
        source="theory/orthogonal.md §2.2, §2.5 SCU-3, §9 item 4",
        evaluate=evaluate_complex_gradient,
        requires=REQUIRES,
        family={"cells": ("complex",)},
        figure="err {:.1e}",
    )
)
THETA_GRADIENT = _register(
    Claim(
        id="cayley_complex.theta_gradient",
        summary="∂L/∂θ_j = 2·Re(i·e^{iθ_j}(GᵀK)_jj) (central differences in θ_j)",
        source="theory/orthogonal.md §2.2, §2.5 SCU-4",
        evaluate=evaluate_theta_gradient,
        requires=REQUIRES,
        family={"cells": ("complex",)},
        figure="err {:.1e}",
    )
)


# ---------------------------------------------------------------------------------------
# cayley.representation (SCO-9): the start (A₀, D) of a scoRNN-type optimizer
# ---------------------------------------------------------------------------------------

REPRESENTATION_MAX_N = 8
"""The representation theorem's bound was brute-force checked for n = 2..8 (§1.3)."""


def representation_measure(
    W0: Array, A: Array, d: Array
) -> tuple[float, float, Tolerance, Tolerance]:
    """``(‖C(A)D − W₀‖_F, max|a_ij|, tol_W, tol_a)`` for the start (A, D) of the optimizer.

    ``tol_W = 3·e_W``: the check's own C(A) rounds by e_W, and A = C(W₀D) was itself
    one LU solve with the same condition number κ(I + W₀D) = sqrt(1 + ‖A‖₂²) (the
    eigenvalues of W₀D = C(A) are (1 − iμ)/(1 + iμ)), whose error e_W reaches C(A)
    amplified at most ‖(I + A)⁻¹‖₂·‖C(A) + I‖₂ ≤ 2 times (C's Lipschitz constant at a
    skew A). ``tol_a = e_W``: the bound |a_ij| ≤ 1 is exact mathematics, attained (n = 2,
    a rotation by π/2); the computed A is within e_W of the exact C(W₀D).
    """
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(d))):
        return (
            math.inf,
            math.inf,
            forward_error_W(np.zeros((1, 1))),
            forward_error_W(np.zeros((1, 1))),
        )
    e_W = forward_error_W(A)
    try:
        W = _W_of(A, d, np.result_type(W0.dtype, A.dtype, d.dtype))
        rep = float(np.linalg.norm(W - W0))
    except np.linalg.LinAlgError:
        rep = math.inf
    if not math.isfinite(rep):
        rep = math.inf
    max_a = float(np.max(np.abs(A))) if A.size else 0.0
    tol_W = Tolerance(3 * e_W.value, "3·e_W (C(A) in the check + A = C(W₀D), ×2)", e_W.terms)
    return rep, max_a, tol_W, e_W


def evaluate_representation(subject: Subject, spec: ProblemSpec) -> Observation:
    """cayley.representation: W₀ = C(A₀)D with max|a_ij| ≤ 1 for the state after init."""
    problem = make_problem(spec)
    target = subject.target or "W_hh"
    if target not in problem.params0:
        return Observation(Status.ERROR, summary=f"target {target!r} is not a parameter")
    traj = subject.trajectory(problem, steps=0)
    if isinstance(traj, Observation):
        return traj
    state = traj.states[0]
    A, d = state_field(state, "A"), diagonal_of_D(state)
    if A is None:
        return _missing("A")
    if d is None:
        return _missing("D")
    W0 = np.asarray(traj.params[0][target])
    rep, max_a, tol_W, tol_a = representation_measure(W0, A, d)
    r_rep = rep / tol_W.value if tol_W.value > 0 else (0.0 if rep == 0 else math.inf)
    claim = CLAIMS["cayley.representation"]
    quantities: dict[str, Any] = {
        "‖C(A₀)D − W₀‖_F": rep,
        "tolerance (representation)": tol_W.value,
        "max |a_ij|": max_a,
        "allowance over 1": tol_a.value,
        "D": [float(v) for v in np.real(d)] if np.all(np.isreal(d)) else list(d),
        "det W₀": float(np.real(np.linalg.det(W0))),
        "n": W0.shape[0],
    }
    score = max(r_rep, max_a) if math.isfinite(max_a) else math.inf
    if r_rep <= 1.0 and max_a <= 1.0 + tol_a.value:
        return Observation(
            Status.PASS,
            summary=f"W₀ = C(A₀)D to {r_rep:.2g} of the tolerance, max|a_ij| = {max_a:.4g}",
            measured=max_a,
            bound=1.0 + tol_a.value,
            inequality=claim.summary,
            tolerance=tol_a,
            quantities=quantities,
            score=score,
        )
    if r_rep > 1.0:
        what = (
            f"C(A₀)·D misses W₀ by ‖·‖_F = {rep:.3g} ({r_rep:.3g}× the tolerance {tol_W.value:.3g})"
        )
        measured, bound, tol = rep, tol_W.value, tol_W
    else:
        what = f"max|a_ij| = {max_a!r} > 1 (+ rounding {tol_a.value:.3g})"
        measured, bound, tol = max_a, 1.0 + tol_a.value, tol_a
    entry = None
    if math.isfinite(max_a) and A.size:
        i, j = np.unravel_index(int(np.argmax(np.abs(A))), A.shape)
        entry = f"A₀[{i}, {j}]"
    return Observation(
        Status.FAIL,
        summary=f"cayley.representation: for the start after init, {what}",
        measured=measured,
        bound=bound,
        inequality=claim.summary,
        tolerance=tol,
        entry=entry,
        quantities=quantities,
        inputs=exact_repr({"W0": W0, "A": A, "D": d}),
        score=score if math.isfinite(score) else 1e300,
    )


REPRESENTATION = _register(
    Claim(
        id="cayley.representation",
        summary="W₀ = C(A₀)·D, D ∈ diag(±1), with max|a_ij| ≤ 1 (n ≤ 8)",
        source="theory/orthogonal.md §1.3 (representation theorem, [unverified] number), "
        "§1.4 SCO-9",
        evaluate=evaluate_representation,
        requires=REQUIRES,
        family={"cells": ("elman",), "hidden": (1, REPRESENTATION_MAX_N)},
        figure="max|a| {:.3g}",
    )
)
