"""The sympy derivation of BPTT (rnnverify.derivations.bptt) against the hand-written one.

* ``sympy_value_and_grad`` equals ``RNNProblem.value_and_grad`` — loss and every gradient
  entry — for every (cell, activation), both losses, several sizes, batches and seeds,
  within a tolerance derived from float64 eps (:func:`assert_matches_sympy`);
* the comparison catches a wrong gradient (transposed ``W_hh`` gradient, BPTT that
  drops a time step, conjugated complex gradient), so the cross-check can fail;
* the factored derivation (states as functions of the parameters) equals ``sympy.diff``
  of the fully substituted loss on the smallest structures;
* sympy is imported by ``rnnverify/derivations/`` only.
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from rnnverify.derivations.bptt import SymbolicBPTT, symbolic_bptt, sympy_value_and_grad
from rnnverify.problems import CELLS, LOSSES, PARAM_NAMES, ProblemSpec, RNNProblem, make_problem
from rnnverify.tolerance import accumulation_length, gamma, loss_scale

ROOT = Path(__file__).resolve().parents[1]
KINK_MARGIN = 1e-6
"""Evaluation points keep every pre-activation this far from a kink: on a kink the
symbolic derivative of max/sign is a convention (Heaviside(0) = 1/2), not a derivative."""
SEED_TRIES = 50

PAIRS = [(cell, act) for cell, acts in CELLS.items() for act in acts]
# (hidden n, inputs m, outputs p, steps T, batch B, seed): hidden 1-2, steps 2-3, inputs
# 1-2, outputs 1-2, batch 1-3; the largest structure the checks use is the second one
SIZES = [
    (1, 1, 1, 2, 1, 0),
    (2, 2, 2, 3, 3, 1),
    (2, 1, 2, 2, 2, 2),
    (1, 2, 1, 3, 3, 3),
]


def _spec_id(value: Any) -> str:
    n, m, p, T, B, seed = value
    return f"n={n},m={m},p={p},T={T},B={B},seed={seed}"


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def kink_distance(problem: RNNProblem, params: Mapping[str, NDArray[Any]]) -> float:
    """Smallest distance of a pre-activation to a kink of the problem's activation.

    relu: ``|z + b|``; modrelu (real and complex): ``| |z| + b |`` (unit switching) and
    ``|z|`` (sign/phase of z); tanh and identity are smooth (``inf``).
    """
    act = problem.spec.activation
    b = params["b"][:, None]
    distance = np.inf
    for z in problem.forward(params).z:
        if act == "relu":
            distance = min(distance, float(np.min(np.abs(z + b))))
        elif act == "modrelu":
            r = np.abs(z)
            distance = min(distance, float(np.min(np.abs(r + b))), float(np.min(r)))
    return distance


def problem_away_from_kinks(spec: ProblemSpec) -> RNNProblem:
    """``make_problem(spec)``, or with the next seed whose point is ≥ KINK_MARGIN from a kink."""
    for seed in range(spec.seed, spec.seed + SEED_TRIES):
        problem = make_problem(dataclasses.replace(spec, seed=seed))
        if kink_distance(problem, problem.params0) >= KINK_MARGIN:
            return problem
    raise AssertionError(f"no seed in [{spec.seed}, {spec.seed + SEED_TRIES}) of {spec} is "
                         f"{KINK_MARGIN} away from a kink: the test would test nothing")


def tolerances(
    problem: RNNProblem,
    params: Mapping[str, NDArray[Any]],
    reference: Mapping[str, NDArray[Any]],
) -> dict[str, float]:
    """Rounding tolerances for two evaluations of the same loss and gradient, in the
    problem's dtype (float64; float32 for float32 problems) and in float64 (sympy).

    One evaluation passes every term through a chain of at most ``K`` roundings
    (``rnnverify.tolerance.accumulation_length``: the T-step recurrence, readout and loss
    sum), so it has relative error ≤ γ_K (Higham, Lemma 3.1) and two evaluations differ by
    ≤ 2γ_K — of the magnitude of the terms, not of the result, because sums cancel:

    * loss ``L = ½w Σ r²``, ``r = ŷ − y``: its terms are ``½w (|ŷ| + |y|)²``, summed in
      ``S = rnnverify.tolerance.loss_scale``; tolerance ``2γ_K·S``.
    * gradient ``∇L = w Σ_{t,b} (∂ŷ/∂θ)ᵀ r``: a sum of T·B per-step, per-sequence terms,
      each bounded by T·B·max|∇L| (the mean over B, and over T for "every", rescales
      them), and linear in the residual, whose rounding error is relative to
      ``|ŷ| + |y|``, not to ``|r|``: it is amplified by ``ρ = ‖|ŷ| + |y|‖ / ‖r‖ = √(S/L)``
      (≥ 1; large when the model nearly fits). Tolerance ``2γ_K·T·B·ρ·max|∇L|``.

    Measured over 640 problems (n, m, p ∈ {1, 2}, T ∈ {2, 3}, B ∈ {1, 3}, every cell,
    activation and loss, 2 seeds): worst |difference| / tolerance 0.11 (loss) and 0.06
    (gradient): a margin of ≥ 9×. Without ρ the worst gradient ratio was 0.81 (46 eps ·
    max|∇L| at a point with max|∇L| = 0.003): residual cancellation is the mechanism.
    """
    s = problem.spec
    two_gamma = 2 * gamma(accumulation_length(problem), s.real_dtype)
    S = loss_scale(problem, params)
    L = problem.loss(params)
    rho = np.sqrt(S / L) if L > 0 else np.inf
    scale = max(float(np.max(np.abs(v))) for v in reference.values())
    return {
        "loss": two_gamma * S,
        "grad": two_gamma * s.steps * s.batch * rho * scale,
    }


def assert_matches_sympy(
    problem: RNNProblem,
    params: Mapping[str, NDArray[Any]],
    value_and_grad: tuple[float, Mapping[str, NDArray[Any]]],
) -> float:
    """Assert ``value_and_grad`` equals the sympy derivation's at ``params``; return the
    worst ``|difference| / tolerance`` over the loss and every gradient entry."""
    __tracebackhide__ = True
    loss, grad = value_and_grad
    s_loss, s_grad = sympy_value_and_grad(problem, params)
    for k in PARAM_NAMES:
        assert s_grad[k].shape == params[k].shape, (k, s_grad[k].shape, params[k].shape)
        assert s_grad[k].dtype == params[k].dtype, (k, s_grad[k].dtype, params[k].dtype)
    tol = tolerances(problem, params, s_grad)
    worst = abs(loss - s_loss) / tol["loss"]
    where, mine, theirs = "loss", loss, s_loss
    for k in PARAM_NAMES:
        diff = np.abs(np.asarray(grad[k]) - s_grad[k]) / tol["grad"]
        idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
        if diff[idx] > worst:
            worst = float(diff[idx])
            where, mine, theirs = f"{k}{list(map(int, idx))}", grad[k][idx], s_grad[k][idx]
    assert worst <= 1.0, (
        f"{problem.spec}: hand-written and sympy differ at {where}: {mine!r} vs {theirs!r}, "
        f"|difference| = {worst:.3g} × tolerance (loss tol 2γ_K·loss_scale = "
        f"{tol['loss']:.3g}, gradient tol 2γ_K·T·B·ρ·max|∇L| = {tol['grad']:.3g})"
    )
    return worst


def bptt_from(problem: RNNProblem, params: Mapping[str, NDArray[Any]], first: int = 0
              ) -> tuple[float, dict[str, NDArray[Any]]]:
    """BPTT of a real cell that back-propagates only through steps ``first, …, T−1``.

    ``first = 0`` is the exact gradient; ``first > 0`` is the classic bug of a loop bound
    that drops the earliest steps.
    """
    s = problem.spec
    fwd = problem.forward(params)
    W, V = params["W_hh"], params["V"]
    b = params["b"][:, None]
    w = 1.0 / (s.batch * (s.steps if s.loss == "every" else 1))
    g = {k: np.zeros_like(v) for k, v in params.items()}
    gh = np.zeros_like(problem.data.h0)
    for t in reversed(range(first, s.steps)):
        y = problem.data.y[t] if s.loss == "every" else (
            problem.data.y if t == s.steps - 1 else None)
        if y is not None:
            r = w * (fwd.yhat[t] - y)
            g["V"] += r @ fwd.h[t + 1].T
            g["c"] += r.sum(axis=1)
            gh = gh + V.T @ r
        gz, gb = problem.activation.vjp(fwd.z[t], b, gh)
        g["b"] += gb.sum(axis=1)
        g["W_hh"] += gz @ fwd.h[t].T
        g["W_ih"] += gz @ problem.data.x[t].T
        gh = W.T @ gz
    return fwd.loss, g


# ---------------------------------------------------------------------------------------
# sympy equals the hand-written BPTT
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", SIZES, ids=_spec_id)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("cell", "activation"), PAIRS, ids=[f"{c}-{a}" for c, a in PAIRS])
def test_sympy_equals_bptt(cell: str, activation: str, loss: str, sizes: tuple[int, ...]
                           ) -> None:
    n, m, p, T, B, seed = sizes
    spec = ProblemSpec(cell=cell, activation=activation, hidden=n, inputs=m, outputs=p,
                       steps=T, batch=B, loss=loss, seed=seed)
    problem = problem_away_from_kinks(spec)
    with np.errstate(all="raise"):
        assert_matches_sympy(problem, problem.params0, problem.value_and_grad(problem.params0))


def test_float32_problem_gets_float32_gradient() -> None:
    problem = problem_away_from_kinks(ProblemSpec(hidden=2, steps=2, batch=2, dtype="float32"))
    loss, grad = sympy_value_and_grad(problem, problem.params0)
    assert isinstance(loss, float)
    assert {k: v.dtype for k, v in grad.items()} == {k: np.dtype("float32") for k in grad}
    # float32 BPTT vs float64 derivation: the tolerance is float32's 2γ_K
    assert_matches_sympy(problem, problem.params0, problem.value_and_grad(problem.params0))


# ---------------------------------------------------------------------------------------
# the comparison can fail
# ---------------------------------------------------------------------------------------


def test_bptt_reference_in_this_file_passes() -> None:
    """The broken gradients below differ from this exact one by their defect only."""
    problem = problem_away_from_kinks(ProblemSpec(hidden=2, inputs=2, outputs=2, steps=3,
                                                  batch=2, seed=4))
    assert_matches_sympy(problem, problem.params0, bptt_from(problem, problem.params0))


def test_transposed_recurrent_gradient_is_caught() -> None:
    problem = problem_away_from_kinks(ProblemSpec(hidden=2, steps=3, batch=2, seed=5))
    loss, grad = problem.value_and_grad(problem.params0)
    assert not np.allclose(grad["W_hh"], grad["W_hh"].T), "the defect would be invisible"
    broken = {**grad, "W_hh": grad["W_hh"].T.copy()}
    with pytest.raises(AssertionError, match=r"differ at W_hh"):
        assert_matches_sympy(problem, problem.params0, (loss, broken))


@pytest.mark.parametrize("loss", LOSSES)
def test_bptt_missing_a_time_step_is_caught(loss: str) -> None:
    problem = problem_away_from_kinks(ProblemSpec(hidden=2, inputs=2, outputs=2, steps=3,
                                                  batch=2, loss=loss, seed=6))
    with pytest.raises(AssertionError, match=r"hand-written and sympy differ"):
        assert_matches_sympy(problem, problem.params0, bptt_from(problem, problem.params0, 1))


def test_wrong_complex_convention_is_caught() -> None:
    """conj(G) (the ∂L/∂θ convention instead of ∂L/∂Re θ + i·∂L/∂Im θ) must fail."""
    problem = problem_away_from_kinks(ProblemSpec(cell="complex", activation="modrelu",
                                                  hidden=2, steps=2, seed=7))
    loss, grad = problem.value_and_grad(problem.params0)
    broken = {**grad, "W_ih": np.conj(grad["W_ih"])}
    with pytest.raises(AssertionError, match=r"differ at W_ih"):
        assert_matches_sympy(problem, problem.params0, (loss, broken))


# ---------------------------------------------------------------------------------------
# the derivation itself
# ---------------------------------------------------------------------------------------

UNROLLED = [(c, a, n) for c, a in PAIRS for n in ((1, 2) if c == "elman" else (1,))]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("cell", "activation", "hidden"), UNROLLED,
                         ids=[f"{c}-{a}-n={n}" for c, a, n in UNROLLED])
def test_factored_derivation_equals_diff_of_substituted_loss(
    cell: str, activation: str, hidden: int, loss: str
) -> None:
    """States kept as functions of θ (the build) vs ``sympy.diff`` of the loss with every
    state substituted — the textbook derivation, whose expression grows geometrically
    with T (hence only T = 2, m = p = 1 here) — evaluated by sympy itself in 30-digit
    arithmetic, i.e. without lambdify or numpy."""
    import sympy as sp  # the test of the derivation may import sympy
    from sympy.core.function import AppliedUndef

    derivation = symbolic_bptt(cell, activation, hidden, 1, 1, 2, loss)
    unrolled = derivation.unrolled_loss()
    assert not unrolled.atoms(AppliedUndef), "states left in the substituted loss"
    gradient = [sp.diff(unrolled, s) for s in derivation.parameter_symbols]
    spec = ProblemSpec(cell=cell, activation=activation, hidden=hidden, inputs=1, outputs=1,
                       steps=2, batch=2, loss=loss, seed=8)
    problem = problem_away_from_kinks(spec)
    # the float64 program against a (nearly) exact value: one evaluation's rounding, ≤ γ_K
    # of the terms; 2γ_K·T·max|∇ℓ| as in tolerances()
    K = accumulation_length(problem)
    for j in range(spec.batch):
        x, y = problem.data.x[:, :, j], problem.data.y[..., j]
        args = derivation.argument_values(problem.params0, x, y)
        point = {s: sp.Float(v, 30) for s, v in zip(derivation.arguments, args, strict=True)}
        expected = np.array([float(g.xreplace(point)) for g in gradient])
        got = np.array(derivation.gradient_function(*args), dtype=float)
        atol = 2 * gamma(K, np.float64) * spec.steps * np.max(np.abs(expected))
        np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
        expected_loss = float(unrolled.xreplace(point))
        assert abs(derivation.loss(problem.params0, x, y) - expected_loss) <= (
            2 * gamma(K, np.float64) * abs(expected_loss))


def test_build_is_cached_and_timed() -> None:
    first = symbolic_bptt("elman", "tanh", 1, 1, 1, 2, "last")
    assert symbolic_bptt("elman", "tanh", 1, 1, 1, 2, "last") is first
    assert isinstance(first, SymbolicBPTT)
    assert first.build_seconds > 0
    assert len(first.entries) == len(first.parameter_symbols) == 1 + 1 + 1 + 1 + 1


def test_complex_entries_are_split_into_real_and_imaginary_parts() -> None:
    d = symbolic_bptt("complex", "modrelu", 1, 1, 1, 2, "last")
    parts = {(name, part) for name, _, part in d.entries}
    assert parts == {("W_hh", "re"), ("W_hh", "im"), ("W_ih", "re"), ("W_ih", "im"),
                     ("b", "real"), ("V", "real"), ("c", "real")}
    assert d.param_shapes == {"W_hh": (1, 1), "W_ih": (1, 1), "b": (1,), "V": (1, 2), "c": (1,)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("lstm", "tanh", 1, 1, 1, 2, "last"), r"cell='lstm'"),
        (("complex", "tanh", 1, 1, 1, 2, "last"), r"activation='tanh' for cell 'complex'"),
        (("elman", "tanh", 0, 1, 1, 2, "last"), r"hidden=0"),
        (("elman", "tanh", 1, 1, 1, 2, "mean"), r"loss='mean'"),
    ],
)
def test_bad_structure_is_rejected(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        symbolic_bptt(*args)


def test_bad_arguments_are_rejected() -> None:
    d = symbolic_bptt("elman", "tanh", 1, 1, 1, 2, "last")
    params = {k: np.zeros(shape) for k, shape in d.param_shapes.items()}
    x, y = np.zeros((2, 1)), np.zeros(1)
    with pytest.raises(ValueError, match=r"W_hh: shape \(2, 2\), expected \(1, 1\)"):
        d.loss({**params, "W_hh": np.zeros((2, 2))}, x, y)
    with pytest.raises(ValueError, match=r"b: dtype complex128 is complex"):
        d.loss({**params, "b": np.zeros(1, complex)}, x, y)
    with pytest.raises(ValueError, match=r"x_seq: shape \(3, 1\)"):
        d.loss(params, np.zeros((3, 1)), y)
    with pytest.raises(ValueError, match=r"y_seq: shape \(2, 1\), expected \(1,\)"):
        d.loss(params, x, np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"expected exactly"):
        d.loss({k: v for k, v in params.items() if k != "c"}, x, y)


# ---------------------------------------------------------------------------------------
# sympy stays inside derivations/
# ---------------------------------------------------------------------------------------


def _sympy_importers() -> dict[str, list[int]]:
    """Source files under rnnverify/, properties/, convergence/ with an ``import sympy``
    or ``from sympy… import`` (at any depth, lazy imports included), with line numbers."""
    found: dict[str, list[int]] = {}
    for package in ("rnnverify", "properties", "convergence"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                if any(mod == "sympy" or mod.startswith("sympy.") for mod in modules):
                    found.setdefault(path.relative_to(ROOT).as_posix(), []).append(node.lineno)
    return found


def test_only_derivations_import_sympy() -> None:
    importers = _sympy_importers()
    assert "rnnverify/derivations/bptt.py" in importers, "the scan finds nothing: broken"
    outside = {f: lines for f, lines in importers.items()
               if not f.startswith("rnnverify/derivations/")}
    assert not outside, (
        f"sympy imported outside rnnverify/derivations/ at {outside}: numeric code must use "
        "the lambdified oracles (import rnnverify.derivations.<module> lazily)"
    )


def test_importing_the_harness_does_not_import_sympy() -> None:
    code = ("import sys, rnnverify, rnnverify.problems, rnnverify.derivations; "
            "assert 'sympy' not in sys.modules, sorted(m for m in sys.modules if 'sympy' in m)[:5]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
