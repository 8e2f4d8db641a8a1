"""Gradient claims: the optimizer's gradient is the derivative of the loss.

Three independent checks of the gradient an optimizer descends along
(``optimizer.gradient`` if it has one, else the oracle ``problem.grad``, its gradient
input):

``grad.taylor_slope``
    The first-order Taylor remainder ``e(t) = |f(x + t·d) − f(x) − t·⟨g, d⟩|`` has
    log-log slope 2 as ``t → 0`` (Manopt ``checkgradient``, turned into a verdict;
    theory/anchors.md §1.1, §7).
``grad.finite_difference``
    ``⟨g, d_k⟩`` equals a central difference along a random direction ``d_k`` in each
    parameter block, within a tolerance derived from rounding and a Richardson estimate
    of truncation; on failure the worst entry is located coordinate by coordinate.
``grad.sympy_bptt``
    ``g`` equals the gradient sympy derives from the unrolled loss of a tiny RNN
    (hidden 1–2, T 2–3), evaluated at the same point.

Points where the loss is not differentiable (ReLU/modReLU kinks) are excluded: every
step size is kept below half of the certified distance to the nearest kink
(:meth:`RNNProblem.kink_step`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import ContractViolation
from rnnverify.problems import ProblemSpec, RNNProblem, make_problem, rng_for
from rnnverify.tolerance import (
    TAYLOR_SLOPE_DELTA,
    accumulation_length,
    central_difference_step,
    central_difference_tolerance,
    gamma,
    loss_rounding,
    loss_scale,
    taylor_slope_tolerance,
)
from rnnverify.tree import Params, axpy, inner, random_like
from rnnverify.verdict import Status, exact_repr

TAYLOR_STEPS = np.logspace(-8, 0, 51)
"""Step grid of the Taylor test (Manopt/pymanopt: logspace(−8, 0, 51))."""
FLOOR_FACTOR = 100.0
"""Only remainders ≥ 100× their rounding bound are fitted: rounding then moves log10 e by
≤ log10(1.01) ≈ 0.004, the slope over ≥ 0.5 decade by < 0.01 ≪ δ = 0.1."""
MIN_WINDOW = 4
MAX_WINDOW = 8
KINK_SAFETY = 0.5
"""Steps stay below half the certified first-order distance to a kink."""


def _inputs(problem: RNNProblem, params: Params, **extra: Any) -> str:
    return exact_repr(
        {
            **{f"params[{k!r}]": v for k, v in params.items()},
            "x": problem.data.x,
            "y": problem.data.y,
            **extra,
        }
    )


def _gradient_or_error(
    subject: Subject, problem: RNNProblem, params: Params
) -> Params | Observation:
    g = subject.gradient(problem, params)
    if isinstance(g, ContractViolation):
        return Observation.from_violation(g)
    for k, v in g.items():
        if not np.all(np.isfinite(v)):
            return Observation(
                Status.ERROR, summary=f"gradient is not finite in {k}", entry=k, score=math.inf
            )
    return g


def _block_direction(params: Params, key: str, rng: np.random.Generator) -> Params:
    """A unit direction that moves only ``params[key]``."""
    d = {k: np.zeros_like(v) for k, v in params.items()}
    r = random_like({key: params[key]}, rng)[key]
    d[key] = (r / np.linalg.norm(r)).astype(params[key].dtype)
    return d


def _fit_slope(t: np.ndarray, e: np.ndarray) -> float:
    slope, _ = np.polyfit(np.log10(t), np.log10(e), 1)
    return float(slope)


# ---------------------------------------------------------------------------------------
# grad.taylor_slope
# ---------------------------------------------------------------------------------------


def taylor_remainders(
    problem: RNNProblem, params: Params, g: Params, d: Params
) -> dict[str, np.ndarray | float]:
    """Signed remainders ``r(t) = f(x + t·d) − f(x) − t·⟨g, d⟩`` over the step grid, with
    their rounding floor ``2·δ_f + γ_K·t·|⟨g, d⟩|`` and the kink bound on ``t``."""
    f0 = problem.loss(params)
    gd = inner(g, d)
    t_kink = problem.kink_step(params, d)
    ts = TAYLOR_STEPS[TAYLOR_STEPS <= KINK_SAFETY * t_kink]
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.array([problem.loss(axpy(t, d, params)) - f0 - t * gd for t in ts])
    far = axpy(float(ts[-1]) if ts.size else 0.0, d, params)
    delta_f = max(loss_rounding(problem, params).value, loss_rounding(problem, far).value)
    floor = 2 * delta_f + gamma(accumulation_length(problem), problem.spec.real_dtype) * ts * abs(
        gd
    )
    return {
        "t": ts,
        "r": r,
        "floor": floor,
        "f0": f0,
        "gd": gd,
        "t_kink": t_kink,
        "delta_f": delta_f,
    }


BEND_MARGIN = 11.0
"""A window ends ``BEND_MARGIN``× below the step where ``|r|`` bends (changes sign or
stops growing). Near a zero crossing ``t*`` of ``r = a·t² + b·t³`` the local slope is
``2 − s/(1 − s)`` with ``s = t/t*``; ``s ≤ 1/11`` keeps it ≥ 2 − 0.1 = 1.9."""


def smallest_step_window(ts: np.ndarray, r: np.ndarray, floor: np.ndarray) -> slice | None:
    """The fit window: up to ``MAX_WINDOW`` consecutive grid points from the smallest
    ``t`` whose remainders are resolved (``|r| ≥ FLOOR_FACTOR·floor``), of one sign and
    growing. When such a run ends in a bend of ``|r|`` (a sign change, or a decrease: the
    approach to a zero crossing, where log|r| dips), only its points with
    ``t ≤ t_bend/BEND_MARGIN`` are kept; a run left with fewer than ``MIN_WINDOW`` points
    is skipped and the search goes on past the bend. ``None`` if no run qualifies."""
    ok = np.abs(r) >= FLOOR_FACTOR * floor
    i, n = 0, len(ts)
    while i < n:
        if not ok[i]:
            i += 1
            continue
        j = i
        while (
            j + 1 < n
            and ok[j + 1]
            and np.sign(r[j + 1]) == np.sign(r[i])
            and abs(r[j + 1]) > abs(r[j])
            and j + 1 - i < MAX_WINDOW
        ):
            j += 1
        bent = j + 1 < n and j + 1 - i < MAX_WINDOW
        end = j
        if bent:
            limit = ts[j] / BEND_MARGIN
            while end >= i and ts[end] > limit:
                end -= 1
        if end - i + 1 >= MIN_WINDOW:
            return slice(i, end + 1)
        i = j + 1
    return None


def evaluate_taylor_slope(subject: Subject, spec: ProblemSpec) -> Observation:
    problem = make_problem(spec)
    x = dict(problem.params0)
    g = _gradient_or_error(subject, problem, x)
    if isinstance(g, Observation):
        return g
    rng = rng_for(spec, 2)
    d = random_like(x, rng)
    nd = math.sqrt(inner(d, d))
    d = {k: (v / nd).astype(v.dtype) for k, v in d.items()}
    rem = taylor_remainders(problem, x, g, d)
    ts, r, floor = rem["t"], rem["r"], rem["floor"]
    assert (
        isinstance(ts, np.ndarray) and isinstance(r, np.ndarray) and isinstance(floor, np.ndarray)
    )
    if ts.size < MIN_WINDOW:
        return Observation.na(f"a kink is within t = {rem['t_kink']:.3g} of the point")
    if not np.all(np.isfinite(r)):
        return Observation.na("the loss is not finite along the direction")
    if np.all(np.abs(r) < FLOOR_FACTOR * floor):
        return Observation(
            Status.PASS,
            summary=f"first-order model exact to rounding for t ≤ {ts[-1]:.3g}",
            measured=None,
        )
    window = smallest_step_window(ts, r, floor)
    if window is None:
        return Observation.na("no run of resolved remainders long enough to fit a slope")
    slope = _fit_slope(ts[window], np.abs(r[window]))
    bound = 2.0 - TAYLOR_SLOPE_DELTA
    quantities = {
        "f(x)": rem["f0"],
        "<g,d>": rem["gd"],
        "t_window": f"[{ts[window][0]:.3g}, {ts[window][-1]:.3g}]",
        "t_kink": rem["t_kink"],
        "delta_f": rem["delta_f"],
    }
    series = {"t": ts.tolist(), "remainder": np.abs(r).tolist(), "floor": floor.tolist()}
    if slope >= bound:
        return Observation(
            Status.PASS,
            summary=f"slope {slope:.3f}",
            measured=slope,
            bound=bound,
            inequality="slope of log|r(t)| vs log t on the smallest-t window ≥ 2 − δ",
            tolerance=taylor_slope_tolerance(),
            quantities=quantities,
            score=bound - slope,
            series=series,
        )
    entry = _worst_block_by_slope(problem, x, g, rng)
    return Observation(
        Status.FAIL,
        summary=(
            f"Taylor remainder has slope {slope:.3f} < {bound:g}: the gradient is not "
            f"the derivative of the loss (worst block {entry})"
        ),
        measured=slope,
        bound=bound,
        inequality="slope of log|f(x+td) − f(x) − t⟨g,d⟩| vs log t ≥ 2 − δ",
        tolerance=taylor_slope_tolerance(),
        entry=entry,
        quantities=quantities,
        inputs=_inputs(problem, x, d=_stack(d)),
        score=bound - slope,
        series=series,
    )


def _stack(d: Params) -> np.ndarray:
    return np.concatenate([np.ravel(v) for v in d.values()])


def _worst_block_by_slope(
    problem: RNNProblem, x: Params, g: Params, rng: np.random.Generator
) -> str:
    """The parameter whose block-restricted Taylor test has the lowest slope."""
    worst, worst_slope = "?", math.inf
    for key in x:
        d = _block_direction(x, key, rng)
        rem = taylor_remainders(problem, x, g, d)
        ts, r, floor = rem["t"], rem["r"], rem["floor"]
        assert (
            isinstance(ts, np.ndarray)
            and isinstance(r, np.ndarray)
            and isinstance(floor, np.ndarray)
        )
        window = smallest_step_window(ts, r, floor) if ts.size >= MIN_WINDOW else None
        if window is None:
            continue
        slope = _fit_slope(ts[window], np.abs(r[window]))
        if slope < worst_slope:
            worst, worst_slope = key, slope
    return worst


# ---------------------------------------------------------------------------------------
# grad.finite_difference
# ---------------------------------------------------------------------------------------


def central_difference(problem: RNNProblem, x: Params, d: Params, h: float) -> float:
    return (problem.loss(axpy(h, d, x)) - problem.loss(axpy(-h, d, x))) / (2 * h)


def _fd_block(problem: RNNProblem, x: Params, g: Params, d: Params) -> dict[str, Any] | None:
    h = central_difference_step(problem.spec.real_dtype)
    if 2 * h > KINK_SAFETY * problem.kink_step(x, d):
        return None
    D1 = central_difference(problem, x, d, h)
    D2 = central_difference(problem, x, d, 2 * h)
    gd = inner(g, d)
    delta_f = max(loss_rounding(problem, axpy(s * 2 * h, d, x)).value for s in (-1, 0, 1))
    tol = central_difference_tolerance(
        delta_f, h, abs(D2 - D1), gd, problem.spec.real_dtype, accumulation_length(problem)
    )
    return {"fd": D1, "analytic": gd, "error": abs(D1 - gd), "tol": tol, "h": h}


def _worst_entry(problem: RNNProblem, x: Params, g: Params, key: str) -> tuple[str, float, float]:
    """Coordinate-wise central differences in block ``key``: the entry (and the real or
    imaginary part) where the gradient and the difference disagree most."""
    h = central_difference_step(problem.spec.real_dtype)
    best = ("?", 0.0, 0.0)
    best_err = -1.0
    parts = [(1.0, "")] + ([(1j, ".imag")] if np.iscomplexobj(x[key]) else [])
    for idx in np.ndindex(x[key].shape):
        for unit, label in parts:
            d = {k: np.zeros_like(v) for k, v in x.items()}
            d[key][idx] = unit
            if 2 * h > KINK_SAFETY * problem.kink_step(x, d):
                continue
            fd = central_difference(problem, x, d, h)
            an = inner(g, d)
            if abs(fd - an) > best_err:
                best_err = abs(fd - an)
                best = (f"{key}{list(idx)}{label}", an, fd)
    return best


def state_gradients(problem: RNNProblem, params: Params) -> list[np.ndarray]:
    """``∂L/∂h_t`` for t = 0..T (each (n, B); ``∂L/∂Re h + i·∂L/∂Im h`` for a complex
    state), by the BPTT recurrence of docs/problems.md through the activation's vjp::

        g_h_T = φᵀ(Vᵀ g_ŷ_T),  g_z_t = vjp_σ(z_t, b; g_h_t),
        g_h_{t−1} = W_hhᴴ g_z_t + φᵀ(Vᵀ g_ŷ_{t−1})

    with ``g_ŷ_t = w·(ŷ_t − y_t)`` at the steps the loss uses (``w = 1/(B·T)`` for
    ``loss=every``, ``1/B`` for ``loss=last``) and 0 elsewhere; φ(h) = h, or [Re h; Im h]."""
    s = problem.spec
    fwd = problem.forward(params)
    T, n = s.steps, s.hidden
    every = s.loss == "every"
    w = 1.0 / (s.batch * (T if every else 1))
    V, W, b = params["V"], params["W_hh"], params["b"][:, None]

    def readout(t: int) -> np.ndarray:  # φᵀ(Vᵀ g_ŷ_t), t = 1..T
        if not every and t != T:
            return np.zeros_like(fwd.h[t])
        y = problem.data.y[t - 1] if every else problem.data.y
        g = V.T.dot(w * (fwd.yhat[t - 1] - y))
        return g[:n] + 1j * g[n:] if s.is_complex else g

    gh = readout(T)
    out = [gh]
    for t in range(T, 0, -1):
        gz, _ = problem.activation.vjp(fwd.z[t - 1], b, gh)
        gh = W.conj().T.dot(gz) + (readout(t - 1) if t > 1 else 0.0)
        out.append(gh)
    return out[::-1]


def evaluate_finite_difference(subject: Subject, spec: ProblemSpec) -> Observation:
    problem = make_problem(spec)
    x = dict(problem.params0)
    g = _gradient_or_error(subject, problem, x)
    if isinstance(g, Observation):
        return g
    rng = rng_for(spec, 3)
    worst_key, worst = None, None
    checked = 0
    for key in x:
        res = _fd_block(problem, x, g, _block_direction(x, key, rng))
        if res is None:
            continue
        checked += 1
        ratio = res["error"] / res["tol"].value if res["tol"].value > 0 else math.inf
        if worst is None or ratio > worst["ratio"]:
            worst_key, worst = key, {**res, "ratio": ratio}
    if worst is None or worst_key is None:
        return Observation.na("every parameter block is within a finite-difference step of a kink")
    # for the report: ‖∂L/∂h_t‖ against t at the point checked (vanishing/exploding)
    series = {
        "time_step": [float(t) for t in range(spec.steps + 1)],
        "grad_h_norm": [float(np.linalg.norm(g)) for g in state_gradients(problem, x)],
    }
    quantities: dict[str, Any] = {
        "block": worst_key,
        "D(h)": worst["fd"],
        "<g,d>": worst["analytic"],
        "h": worst["h"],
        "blocks checked": checked,
    }
    if worst["ratio"] <= 1.0:
        return Observation(
            Status.PASS,
            summary=f"worst |D(h) − ⟨g,d⟩|/tol = {worst['ratio']:.2g} ({worst_key})",
            measured=worst["error"],
            bound=worst["tol"].value,
            inequality="|D(h) − ⟨g,d⟩| ≤ tol along a random direction in each parameter block",
            tolerance=worst["tol"],
            quantities=quantities,
            score=worst["ratio"],
            series=series,
        )
    entry, an, fd = _worst_entry(problem, x, g, worst_key)
    quantities.update({"worst entry gradient": an, "worst entry central difference": fd})
    return Observation(
        Status.FAIL,
        summary=(
            f"gradient of {worst_key} disagrees with central differences: "
            f"⟨g,d⟩ = {worst['analytic']:.6g}, D(h) = {worst['fd']:.6g} "
            f"(error {worst['ratio']:.3g}× tolerance); worst entry {entry}"
        ),
        measured=worst["error"],
        bound=worst["tol"].value,
        inequality="|D(h) − ⟨g,d⟩| ≤ tol, D(h) = (f(x+hd) − f(x−hd))/(2h)",
        tolerance=worst["tol"],
        entry=entry,
        quantities=quantities,
        inputs=_inputs(problem, x),
        score=worst["ratio"],
        series=series,
    )


# ---------------------------------------------------------------------------------------
# grad.sympy_bptt
# ---------------------------------------------------------------------------------------

SYMPY_FAMILY = {
    "hidden": (1, 2),
    "steps": (2, 3),
    "inputs": (1, 2),
    "outputs": (1, 2),
    "batch": (1, 3),
}
"""The tiny problems sympy can differentiate quickly (see rnnverify/derivations/bptt.py)."""


def sympy_tolerance(
    problem: RNNProblem, params: Params, reference: Params
) -> tuple[float, str, dict[str, float]]:
    """Two float64 evaluations of the same gradient differ by rounding only. Each entry is
    a sum over T steps and over the batch of products that passed through a chain of
    ``K`` roundings (forward and backward: ``2K``). The gradient is linear in the residual
    ``ŷ − y``, whose rounding error is relative to ``|ŷ| + |y|``, not to the residual: near
    a fit the terms are larger than the result by ``ρ = √(scale/L)`` (``scale`` the loss
    scale of :func:`rnnverify.tolerance.loss_scale`). Hence
    ``|g_i − s_i| ≤ γ_{2K}·T·B·ρ·(‖s‖_∞ + |s_i|)``."""
    K = accumulation_length(problem)
    s = problem.spec
    g2k = gamma(2 * K, s.real_dtype)
    scale = max(float(np.max(np.abs(v))) for v in reference.values())
    loss = problem.loss(params)
    rho = math.sqrt(loss_scale(problem, params) / loss) if loss > 0 else 1.0
    return (
        g2k * s.steps * s.batch * rho,
        "γ_{2K}·T·B·ρ·(‖s‖_∞ + |s_i|), ρ = √(Σ(|ŷ|+|y|)²/Σ(ŷ−y)²)",
        {"gamma_2K": g2k, "T": s.steps, "B": s.batch, "rho": rho, "max|s|": scale},
    )


def evaluate_sympy(subject: Subject, spec: ProblemSpec) -> Observation:
    from rnnverify.derivations.bptt import sympy_value_and_grad  # sympy: only in derivations

    problem = make_problem(spec)
    x = dict(problem.params0)
    fwd = problem.forward(x)
    # away from kinks: the symbolic derivative of max/sign is a step function whose value
    # on the kink is a convention, not a derivative
    margin = _kink_margin(problem, x, fwd.z)
    if margin < 1e-6:
        return Observation.na(f"a pre-activation is within {margin:.2g} of a kink")
    g = _gradient_or_error(subject, problem, x)
    if isinstance(g, Observation):
        return g
    _, s = sympy_value_and_grad(problem, x)
    rel, derivation, terms = sympy_tolerance(problem, x, s)
    scale = terms["max|s|"]
    worst_ratio, worst_entry = 0.0, "?"
    worst_vals: tuple[complex, complex] = (0j, 0j)
    for k in s:
        diff = np.abs(g[k] - s[k])
        tol = rel * (scale + np.abs(s[k]))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(
                tol > 0, diff / np.where(tol > 0, tol, 1), np.where(diff > 0, np.inf, 0)
            )
        if ratio.size and float(ratio.max()) > worst_ratio:
            idx = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            worst_ratio = float(ratio[idx])
            worst_entry = f"{k}{[int(i) for i in idx]}"
            worst_vals = (complex(g[k][idx]), complex(s[k][idx]))
    from rnnverify.tolerance import Tolerance

    tol_obj = Tolerance(value=rel, derivation=derivation, terms=terms)
    quantities = {"gradient": _c(worst_vals[0]), "sympy": _c(worst_vals[1]), "entry": worst_entry}
    if worst_ratio <= 1.0:
        return Observation(
            Status.PASS,
            summary=f"matches sympy; worst |g − s|/tol = {worst_ratio:.2g}",
            measured=worst_ratio,
            bound=1.0,
            inequality="|g_i − s_i| ≤ tol_i for every entry",
            tolerance=tol_obj,
            quantities=quantities,
            score=worst_ratio,
        )
    return Observation(
        Status.FAIL,
        summary=(
            f"gradient differs from the sympy derivation at {worst_entry}: "
            f"{_c(worst_vals[0])!r} vs {_c(worst_vals[1])!r}"
        ),
        measured=worst_ratio,
        bound=1.0,
        inequality="|g_i − s_i| / (γ_{2K}·T·B·ρ·(‖s‖_∞ + |s_i|)) ≤ 1",
        tolerance=tol_obj,
        entry=worst_entry,
        quantities=quantities,
        inputs=_inputs(problem, x),
        score=worst_ratio,
    )


def _c(z: complex) -> float | complex:
    return z.real if z.imag == 0 else z


def _kink_margin(problem: RNNProblem, x: Params, zs: list[np.ndarray]) -> float:
    b = x["b"][:, None]
    margin = math.inf
    for z in zs:
        for k in problem.activation.kinks(z, b):
            if k.size:
                margin = min(margin, float(np.min(np.abs(k))))
    return margin


# ---------------------------------------------------------------------------------------

TAYLOR_SLOPE = register_claim(
    Claim(
        id="grad.taylor_slope",
        summary="the first-order Taylor remainder of the loss along a random direction has slope 2",
        source=(
            "Manopt checkgradient.m / pymanopt check_directional_derivative; "
            "theory/anchors.md §1.1, §7"
        ),
        evaluate=evaluate_taylor_slope,
        worst="min",
        figure="slope {:.2f}",
    )
)
FINITE_DIFFERENCE = register_claim(
    Claim(
        id="grad.finite_difference",
        summary="⟨g, d⟩ equals a central difference of the loss along a random direction per block",
        source="numpy.testing / jax check_grads practice; theory/orthogonal.md §8",
        evaluate=evaluate_finite_difference,
        worst="max",
        figure="err {:.1e}",
    )
)
SYMPY_BPTT = register_claim(
    Claim(
        id="grad.sympy_bptt",
        summary="the gradient equals sympy's derivative of the unrolled loss (hidden 1–2, T 2–3)",
        source="rnnverify/derivations/bptt.py (symbolic differentiation of the unrolled RNN)",
        evaluate=evaluate_sympy,
        worst="max",
        family=SYMPY_FAMILY,
        figure="{:.1e}·tol",
    )
)
