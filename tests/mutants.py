"""Deliberately broken optimizers and gradients: every claim must catch at least one.

Each mutant is a factory (importable as ``tests.mutants:NAME``, so a printed reproduce
command works from the project root) and documents which claim must catch it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from rnnverify.activations import MODRELU, Activation
from rnnverify.contract import Optimizer
from rnnverify.optimizers import sgd
from rnnverify.problems import PARAM_NAMES, ProblemFamily, RNNProblem, make_problem
from rnnverify.tree import Params

# ---------------------------------------------------------------------------------------
# Broken gradients (caught by grad.taylor_slope, grad.finite_difference, grad.sympy_bptt)
# ---------------------------------------------------------------------------------------


def bptt_missing_step_gradient(problem: RNNProblem, params: Params) -> Params:
    """BPTT that forgets the first time step's contribution to W_hh, W_ih and b."""
    fwd = problem.forward(params)
    g = problem.grad(params)
    # subtract exactly the t = 0 terms that the correct BPTT accumulated
    W = params["W_hh"]
    b = params["b"][:, None]
    n = problem.spec.hidden
    gh = np.zeros_like(problem.data.h0)
    w = problem._residual_weight()
    dz = []
    for t in reversed(range(problem.spec.steps)):
        y = problem._target(t)
        if y is not None:
            gfeat = params["V"].T @ (w * (fwd.yhat[t] - y))
            gh = gh + (gfeat[:n] + 1j * gfeat[n:] if problem.spec.is_complex else gfeat)
        gz, gb = problem.activation.vjp(fwd.z[t], b, gh)
        dz.append((t, gz, gb))
        gh = W.conj().T @ gz
    t0, gz0, gb0 = dz[-1]
    assert t0 == 0
    out = dict(g)
    out["W_hh"] = g["W_hh"] - gz0 @ fwd.h[0].conj().T
    out["W_ih"] = g["W_ih"] - gz0 @ problem.data.x[0].T
    out["b"] = g["b"] - np.real(gb0).sum(axis=1)
    return {k: out[k].astype(params[k].dtype) for k in PARAM_NAMES}


def transposed_whh_gradient(problem: RNNProblem, params: Params) -> Params:
    """The W_hh gradient transposed (a row/column convention mix-up)."""
    g = dict(problem.grad(params))
    g["W_hh"] = np.ascontiguousarray(g["W_hh"].T)
    return g


def _broken_modrelu_vjp(z: Any, b: Any, g: Any) -> tuple[Any, Any]:
    gz, gb = MODRELU.vjp(z, b, g)
    return gz, -gb  # ∂h/∂b = sign(z) (real) / u (complex), used with the wrong sign


BROKEN_MODRELU = Activation(
    "modrelu", MODRELU.forward, _broken_modrelu_vjp, MODRELU.jvp, MODRELU.kinks
)


def modrelu_wrong_sign_gradient(problem: RNNProblem, params: Params) -> Params:
    """BPTT with a modReLU whose bias derivative has the wrong sign."""
    if problem.spec.activation != "modrelu":
        return problem.grad(params)
    return make_problem(problem.spec, activation=BROKEN_MODRELU).grad(params)


GRADIENT_MUTANTS = {
    "bptt_missing_step": bptt_missing_step_gradient,
    "transposed_whh": transposed_whh_gradient,
    "modrelu_wrong_sign": modrelu_wrong_sign_gradient,
}


def sgd_bptt_missing_step() -> Optimizer:
    return sgd(0.05, gradient=bptt_missing_step_gradient)


def sgd_transposed_whh() -> Optimizer:
    return sgd(0.05, gradient=transposed_whh_gradient)


def sgd_modrelu_wrong_sign() -> Optimizer:
    return sgd(0.05, gradient=modrelu_wrong_sign_gradient)


# ---------------------------------------------------------------------------------------
# Broken descent (caught by descent.sufficient)
# ---------------------------------------------------------------------------------------


def sgd_ascent(lr: float = 0.05) -> Optimizer:
    """θ ← θ + η·g: the sign of the step flipped."""

    def init(problem: RNNProblem, params: Params) -> tuple[()]:
        return ()

    def step(problem: RNNProblem, params: Params, state: tuple[()]) -> tuple[Params, tuple[()]]:
        g = problem.grad(params)
        return {k: v + lr * g[k] for k, v in params.items()}, state

    return Optimizer(init, step)


# ---------------------------------------------------------------------------------------
# Contract breakers (caught by the runner, hence by every claim; contract.pure shows them)
# ---------------------------------------------------------------------------------------


def _init(problem: RNNProblem, params: Params) -> dict[str, Any]:
    return {"k": np.zeros((), dtype=np.int64)}


def _stepper(body: Any, at: int = 0) -> Optimizer:
    """An optimizer that behaves like SGD except at step ``at``, where ``body`` runs."""

    def step(problem: RNNProblem, params: Params, state: dict[str, Any]) -> Any:
        k = int(state["k"])
        new_state = {"k": np.asarray(k + 1, dtype=np.int64)}
        new = {n: v - 0.01 * problem.grad(params)[n] for n, v in params.items()}
        if k == at:
            return body(problem, params, state, new, new_state)
        return new, new_state

    return Optimizer(_init, step)


def raises() -> Optimizer:
    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    return _stepper(body, at=1)


def init_raises() -> Optimizer:
    def init(problem: RNNProblem, params: Params) -> Any:
        raise KeyError("lr")

    return Optimizer(init, lambda problem, params, state: (params, state))


def returns_nan() -> Optimizer:
    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        new["W_hh"] = new["W_hh"].copy()
        new["W_hh"][0, 0] = np.nan
        return new, new_state

    return _stepper(body, at=2)


def changes_shape() -> Optimizer:
    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        new["b"] = np.concatenate([new["b"], new["b"][:1]])
        return new, new_state

    return _stepper(body)


def changes_dtype() -> Optimizer:
    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        new["V"] = new["V"].astype(np.float32)
        return new, new_state

    return _stepper(body)


def drops_param() -> Optimizer:
    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        del new["c"]
        return new, new_state

    return _stepper(body)


def adds_param() -> Optimizer:
    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        new["extra"] = np.zeros(1)
        return new, new_state

    return _stepper(body)


def writes_input() -> Optimizer:
    """``params["W_hh"] -= ...``: an in-place update of a frozen input (raises inside)."""

    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        params["W_hh"][...] = new["W_hh"]
        return new, new_state

    return _stepper(body)


def unfreezes_and_writes() -> Optimizer:
    """Turns the write flag back on and updates in place: caught by the byte snapshot."""

    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        a = params["b"]
        a.setflags(write=True)
        a += 1.0
        return new, new_state

    return _stepper(body)


def aliases_input() -> Optimizer:
    """Returns an input array as an output (no update of ``c``)."""

    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        new["c"] = params["c"]
        return new, new_state

    return _stepper(body)


def non_deterministic() -> Optimizer:
    """Draws fresh noise in ``step`` instead of keeping a generator in the state."""
    rng = np.random.default_rng()

    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        new["W_hh"] = new["W_hh"] + 1e-3 * rng.standard_normal(new["W_hh"].shape)
        return new, new_state

    return _stepper(body)


def hangs(seconds: float = 60.0) -> Optimizer:
    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        time.sleep(seconds)
        return new, new_state

    return _stepper(body, at=1)


def spins() -> Optimizer:
    """A busy loop that also swallows ordinary exceptions."""

    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        while True:
            try:
                sum(range(1000))
            except Exception:
                pass

    return _stepper(body)


def bad_diagnostics() -> Optimizer:
    opt = sgd(0.01)
    return opt._replace(diagnostics=lambda state: {"residual": "not a number"})


def returns_list() -> Optimizer:
    def body(problem, params, state, new, new_state):  # type: ignore[no-untyped-def]
        return [new, new_state]

    return _stepper(body)


CONTRACT_MUTANTS = {
    # name: (factory, expected violation kind, expected step)
    "raises": (raises, "raised", 1),
    "init_raises": (init_raises, "raised", -1),
    "returns_nan": (returns_nan, "non_finite", 2),
    "changes_shape": (changes_shape, "shape_changed", 0),
    "changes_dtype": (changes_dtype, "dtype_changed", 0),
    "drops_param": (drops_param, "missing_param", 0),
    "adds_param": (adds_param, "extra_param", 0),
    "writes_input": (writes_input, "wrote_input", 0),
    "unfreezes_and_writes": (unfreezes_and_writes, "wrote_input", 0),
    "aliases_input": (aliases_input, "aliased_input", 0),
    "non_deterministic": (non_deterministic, "non_deterministic", 0),
    "bad_diagnostics": (bad_diagnostics, "bad_diagnostics", -1),
    "returns_list": (returns_list, "bad_output", 0),
}


# ---------------------------------------------------------------------------------------
# Which claim must catch which mutant (tests/test_mutation_matrix.py)
# ---------------------------------------------------------------------------------------

_MODRELU = ProblemFamily(cells=("elman", "complex"), activations=("modrelu",))
_ALL = ProblemFamily(cells=("elman", "complex"))
_GRADIENT_KILLS = [
    (sgd_bptt_missing_step, _ALL),
    (sgd_transposed_whh, _ALL),
    (sgd_modrelu_wrong_sign, _MODRELU),
]

KILLS: dict[str, list[tuple[Any, ProblemFamily]]] = {
    "contract.pure": [(factory, _ALL) for factory, _, _ in CONTRACT_MUTANTS.values()],
    "descent.sufficient": [(sgd_ascent, _ALL)],
    "grad.taylor_slope": _GRADIENT_KILLS,
    "grad.finite_difference": _GRADIENT_KILLS,
    "grad.sympy_bptt": _GRADIENT_KILLS,
}


def all_kills() -> dict[str, list[tuple[Any, ProblemFamily]]]:
    """``KILLS`` of this module merged with those of every ``tests/mutants_*.py`` (one
    module per family of optimizers), so adding a family needs no edit here."""
    import importlib
    import pkgutil

    import tests

    merged: dict[str, list[tuple[Any, ProblemFamily]]] = {k: list(v) for k, v in KILLS.items()}
    for info in pkgutil.iter_modules(tests.__path__):
        if info.name.startswith("mutants_"):
            module = importlib.import_module(f"tests.{info.name}")
            for claim, kills in module.KILLS.items():
                merged.setdefault(claim, []).extend(kills)
    return merged
