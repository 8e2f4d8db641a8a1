"""Constraint claims on a recurrent matrix: orthogonality/unitarity and its determinant.

``orthogonal.preserved:W`` / ``unitary.preserved:W``
    ``‖W_kᴴW_k − I‖_F`` after every step ``k`` within the drift bound of the optimizer's
    scheme (theory/orthogonal.md §7, "§drift"), chosen by the option ``drift``:

    ===================== ============================================ =================
    ``drift=``            bound on ‖W_kᴴW_k − I‖_F                      needs
    ===================== ============================================ =================
    ``multiplicative``    e₀ + k·(n²ε + 20nε)  (Givens, RGD, Wisdom:   —
                          errors accumulate; linear-in-k worst case)
    ``cayley``            10·n·ε·sqrt(1 + ‖A_k‖₂²)  (W rebuilt from A  diagnostics
                          every step: independent of k)                 ``norm_A``
    ``expm``              10·n·ε·max(1, ‖A_k‖₂)                          diagnostics
                                                                        ``norm_A``
    ===================== ============================================ =================

    e₀ = ‖W₀ᴴW₀ − I‖_F of the (Haar) start; ε = eps of the parameter's dtype. The
    multiplicative bound is derived, not the empirical e₀ + 2nεk of §7: a step
    W ← fl(W·E) with ‖EᴴE − I‖_F ≤ 10nε (a backward-stable factor, as for the
    parametrized maps) and a rounded product (‖Δ‖_F ≤ γ_n·‖W‖_F·‖E‖_F ≈ n²ε/2) adds at
    most 2·10nε + n²ε to ‖WᴴW − I‖_F. (2nε per step, measured for Givens rotations, which
    touch two columns, is exceeded by RGD with a dense expm: 4.95e-15 > 4.13e-15 at k = 3.)
    A real bug
    (a missing transpose, an additive update) moves W off the manifold by O(η) ≥ 1e-6 in
    one step, orders of magnitude above every bound (orthogonal.md §7).
``orthogonal.det_fixed:W``
    det W_k stays det W₀ (W can never leave its connected component of O(n)):
    ``|det W_k − det W₀| ≤ √n·bound_k + n·ε``, since for WᵀW = I + E,
    ``|det W| = sqrt(det(I + E)) ≈ 1 + tr(E)/2`` and ``|tr E| ≤ √n·‖E‖_F``.

These claims need an orthogonal (unitary) start, so they run on problems whose ``W_hh``
is Haar-distributed (``recurrent=("orthogonal",)``) whatever the optimizer's family says;
``orthogonal.*`` on the real cells, ``unitary.*`` on the complex cell.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.contract import Trajectory
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.tolerance import Tolerance, eps
from rnnverify.verdict import Status, exact_repr

DRIFTS = ("multiplicative", "cayley", "expm")


def gram_error(W: np.ndarray) -> float:
    """‖WᴴW − I‖_F."""
    n = W.shape[1]
    return float(np.linalg.norm(W.conj().T @ W - np.eye(n)))


def drift_bound(
    drift: str, n: int, dtype: Any, k: int, e0: float, norm_A: float | None
) -> Tolerance:
    """The drift bound of theory/orthogonal.md §7 for step ``k``."""
    e = eps(dtype)
    if drift == "multiplicative":
        per_step = n * n * e + 20 * n * e
        return Tolerance(
            e0 + k * per_step,
            "e₀ + k·(n²ε + 20nε): each step W ← fl(W·E) adds ≤ 2γ_n·‖W‖_F‖E‖_F ≈ n²ε "
            "(product rounding) + 2·10nε (orthogonality of the factor E)",
            {"e0": e0, "n": n, "eps": e, "k": k, "per_step": per_step},
        )
    assert norm_A is not None
    if drift == "cayley":
        return Tolerance(
            10 * n * e * math.hypot(1.0, norm_A),
            "10·n·ε·sqrt(1 + ‖A‖₂²) (W = C(A)D rebuilt every step; κ(I + A) = sqrt(1 + ‖A‖²))",
            {"n": n, "eps": e, "norm_A": norm_A},
        )
    return Tolerance(
        10 * n * e * max(1.0, norm_A),
        "10·n·ε·max(1, ‖A‖₂) (W = base·exp(A); scaling-and-squaring error ∝ ‖A‖)",
        {"n": n, "eps": e, "norm_A": norm_A},
    )


def _norm_A(traj: Trajectory, k: int) -> float | None:
    d = traj.diagnostics[k] if k < len(traj.diagnostics) else {}
    value = d.get("norm_A")
    return None if value is None else float(value)


def _run(subject: Subject, spec: ProblemSpec) -> tuple[Trajectory | None, Observation | None]:
    problem = make_problem(spec)
    target = subject.target or "W_hh"
    if target not in problem.params0 or problem.params0[target].ndim != 2:
        return None, Observation(
            Status.ERROR, summary=f"target {target!r} is not a matrix parameter of the problem"
        )
    traj = subject.trajectory(problem)
    return (None, traj) if isinstance(traj, Observation) else (traj, None)


def _evaluate(subject: Subject, spec: ProblemSpec, claim: Claim, with_det: bool) -> Observation:
    traj, bad = _run(subject, spec)
    if bad is not None or traj is None:
        return bad or Observation.na("no trajectory")
    target = subject.target or "W_hh"
    drift = claim.option(subject, "drift")
    W0 = traj.params[0][target]
    n = W0.shape[1]
    e0 = gram_error(W0)
    det0 = complex(np.linalg.det(W0))
    errors: list[float] = [e0]
    bounds: list[float] = []  # the drift bound at steps 1..k (plotted against the errors)
    worst_ratio, worst = -1.0, None
    for k in range(1, traj.steps + 1):
        W = traj.params[k][target]
        err = gram_error(W)
        errors.append(err)
        norm_A = _norm_A(traj, k)
        if drift != "multiplicative" and norm_A is None:
            return Observation(
                Status.ERROR,
                summary=(
                    f"drift={drift} needs ‖A‖₂ as diagnostics()['norm_A'] at every step; "
                    f"step {k - 1} did not provide it"
                ),
                score=math.inf,
            )
        tol = drift_bound(drift, n, W.dtype, k, e0, norm_A)
        bounds.append(tol.value)
        if with_det:
            det = complex(np.linalg.det(W))
            measured = abs(det - det0)
            bound = math.sqrt(n) * tol.value + n * eps(W.dtype)
            tol = Tolerance(
                bound,
                "√n·(drift bound) + n·ε: |det| = sqrt(det(I + E)) ≈ 1 + tr(E)/2",
                {"drift_bound": tol.value, "n": n},
            )
            quantities = {"det W_0": _real(det0), "det W_k": _real(det), "k": k}
        else:
            measured, bound = err, tol.value
            quantities = {"‖W_0ᴴW_0 − I‖_F": e0, "k": k}
        ratio = measured / bound if bound > 0 else math.inf
        if ratio > worst_ratio:
            worst_ratio, worst = ratio, (k, measured, bound, tol, quantities, W)
        if not measured <= bound:
            what = "det W changed" if with_det else f"{target} left the manifold"
            return Observation(
                Status.FAIL,
                summary=f"{what} at step {k}: {measured:.3g} > {bound:.3g} (drift={drift})",
                measured=measured,
                bound=bound,
                tolerance=tol,
                inequality=(claim.summary),
                entry=f"{target} after step {k}",
                quantities=quantities,
                inputs=exact_repr({f"{target} (step {k})": W, f"{target} (start)": W0}),
                score=ratio,
                series={"gram_error": errors, "drift_bound": bounds},
            )
    if worst is None:
        return Observation.na("the run took no step")
    k, measured, bound, tol, quantities, _ = worst
    return Observation(
        Status.PASS,
        summary=(
            f"worst step {k}: {measured:.3g} ≤ {bound:.3g} ({measured / bound:.2g} of the bound)"
        ),
        measured=measured,
        bound=bound,
        tolerance=tol,
        inequality=claim.summary,
        quantities=quantities,
        score=worst_ratio,
        series={"gram_error": errors, "drift_bound": bounds},
    )


def _real(z: complex) -> float | complex:
    return z.real if z.imag == 0 else z


def _register(claim_id: str, summary: str, source: str, with_det: bool, cell: str) -> Claim:
    def evaluate(subject: Subject, spec: ProblemSpec) -> Observation:
        return _evaluate(subject, spec, CLAIMS[claim_id], with_det)

    claim = Claim(
        id=claim_id,
        summary=summary,
        source=source,
        evaluate=evaluate,
        worst="max",
        requires={"recurrent": ("orthogonal",)},
        family={"cells": (cell,)},
        needs_target=True,
        options={"drift": DRIFTS},
        figure="{:.1e}",
    )
    CLAIMS[claim_id] = claim
    return register_claim(claim)


CLAIMS: dict[str, Claim] = {}
ORTHOGONAL = _register(
    "orthogonal.preserved",
    "‖W_kᵀW_k − I‖_F ≤ the drift bound of the scheme after every step k",
    "theory/orthogonal.md §1.4 SCO-1, §4.4 CD-3, §7",
    with_det=False,
    cell="elman",
)
UNITARY = _register(
    "unitary.preserved",
    "‖W_kᴴW_k − I‖_F ≤ the drift bound of the scheme after every step k",
    "theory/orthogonal.md §2.5 SCU-1, §6.3, §7",
    with_det=False,
    cell="complex",
)
DET_FIXED = _register(
    "orthogonal.det_fixed",
    "|det W_k − det W_0| ≤ √n·(drift bound) + n·ε after every step k",
    "theory/orthogonal.md §1.4 SCO-4, §4.4 CD-3, §6.1",
    with_det=True,
    cell="elman",
)
