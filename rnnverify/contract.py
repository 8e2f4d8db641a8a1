"""The optimizer-under-test contract, the runner that enforces it, and Trajectory.

An optimizer is a pair of pure functions (optax-style, ../DESIGN.md §contract)::

    init(problem, params)         -> state
    step(problem, params, state)  -> (params, state)
    diagnostics(state)            -> Mapping[str, float]      (optional)
    gradient(problem, params)     -> params-shaped dict        (optional)
    activation(z, b)              -> h                         (optional)

``params`` is a ``dict[str, ndarray]`` in the model's own terms (``W_hh``, ``W_ih``, ``b``,
``V``, ``c``); ``problem`` is the oracle (:class:`rnnverify.problems.RNNProblem`). The
runner hands ``step`` read-only copies, so a write into an input raises; outputs must be
new arrays (no aliasing of inputs), of the same names, shapes and dtypes, finite, and the
same bits for the same inputs. Randomness must therefore live in ``state`` (a seed or a
generator state that ``step`` advances), as in JAX.

``gradient`` is the gradient the optimizer descends along, if it computes one itself; it
is what the ``grad.*`` claims check. Without it they check ``problem.grad``, the
optimizer's gradient input. ``activation`` is the cell's own activation, for an optimizer
that brings its cell (e.g. a unitary RNN with its modReLU); the ``modrelu.*`` claims check
it (default: the problem's activation).

Any object with ``init`` and ``step`` attributes is accepted (see :func:`as_optimizer`).
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from rnnverify.problems import RNNProblem
from rnnverify.tree import Params, freeze, iter_arrays

DEFAULT_STEP_TIME_LIMIT = 10.0
"""Seconds one ``init`` or ``step`` call may take before it is reported as hung."""


@runtime_checkable
class OptimizerLike(Protocol):
    def init(self, problem: RNNProblem, params: Params) -> Any: ...

    def step(self, problem: RNNProblem, params: Params, state: Any) -> tuple[Params, Any]: ...


class Optimizer(NamedTuple):
    """A pure optimizer: functions closed over their hyperparameters."""

    init: Callable[[RNNProblem, Params], Any]
    step: Callable[[RNNProblem, Params, Any], tuple[Params, Any]]
    diagnostics: Callable[[Any], Mapping[str, float]] | None = None
    gradient: Callable[[RNNProblem, Params], Params] | None = None
    activation: Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]] | None = None


def as_optimizer(obj: Any) -> Optimizer:
    """Normalize an optimizer-like object (a class instance, a namespace) to
    :class:`Optimizer`; raise ``TypeError`` naming what is missing."""
    if isinstance(obj, Optimizer):
        return obj
    missing = [name for name in ("init", "step") if not callable(getattr(obj, name, None))]
    if missing:
        raise TypeError(
            f"{obj!r}: expected an optimizer with callable init(problem, params) and "
            f"step(problem, params, state); missing {missing}"
        )
    diag = getattr(obj, "diagnostics", None)
    grad = getattr(obj, "gradient", None)
    act = getattr(obj, "activation", None)
    return Optimizer(
        init=obj.init,
        step=obj.step,
        diagnostics=diag if callable(diag) else None,
        gradient=grad if callable(grad) else None,
        activation=act if callable(act) else None,
    )


class GradientTransformationLike(Protocol):
    def init(self, params: Params) -> Any: ...

    def update(self, updates: Params, state: Any, params: Params | None = ...) -> Any: ...


def from_gradient_transformation(tx: Any) -> Optimizer:
    """Lift an optax-style gradient transformation to the optimizer contract.

    ``tx.init(params) -> state`` and ``tx.update(grads, state, params) -> (updates,
    state)`` on dicts of numpy arrays; the step is ``params + updates`` with
    ``grads = problem.grad(params)``. (JAX/optax objects go through
    ``rnnverify.adapters``.)
    """
    if not (callable(getattr(tx, "init", None)) and callable(getattr(tx, "update", None))):
        raise TypeError(
            f"{tx!r}: expected a gradient transformation with init(params) and "
            "update(grads, state, params)"
        )

    def init(problem: RNNProblem, params: Params) -> Any:
        return tx.init(params)

    def step(problem: RNNProblem, params: Params, state: Any) -> tuple[Params, Any]:
        grads = problem.grad(params)
        updates, state = tx.update(grads, state, params)
        return {k: np.asarray(params[k] + updates[k]) for k in params}, state

    return Optimizer(init=init, step=step)


# ---------------------------------------------------------------------------------------
# Contract violations
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractViolation:
    """What an optimizer did wrong, when, and to which entry.

    ``kind`` is one of: ``raised``, ``hung``, ``non_finite``, ``bad_output``,
    ``missing_param``, ``extra_param``, ``shape_changed``, ``dtype_changed``,
    ``wrote_input``, ``aliased_input``, ``non_deterministic``, ``bad_diagnostics``.
    ``step`` is the 0-based step index (``-1`` for ``init``).
    """

    kind: str
    step: int
    entry: str | None
    message: str

    def one_line(self) -> str:
        where = "init" if self.step < 0 else f"step {self.step}"
        entry = f" [{self.entry}]" if self.entry else ""
        return f"{self.kind} at {where}{entry}: {self.message}"


class StepTimeout(BaseException):
    """Raised inside a hung optimizer call. A BaseException, so that a user's
    ``except Exception`` cannot swallow it."""


def _call_with_time_limit(fn: Callable[[], Any], limit: float) -> Any:
    """Call ``fn()``; raise :class:`StepTimeout` if it takes longer than ``limit`` seconds.

    In the main thread a SIGALRM timer interrupts the call (Python code and sleeps are
    interrupted; a single long C call is interrupted when it returns). Elsewhere the call
    runs in a daemon thread that is abandoned on timeout.

    The call runs with numpy's floating-point errors ignored: an overflow in the user's
    code yields inf/NaN, which the output checks report (or recognise as divergence),
    instead of a warning or an exception that depends on the caller's global settings.
    """

    def quiet() -> Any:
        with np.errstate(all="ignore"):
            return fn()

    if not math.isfinite(limit):
        return quiet()
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):

        def on_alarm(signum: int, frame: Any) -> None:
            raise StepTimeout(limit)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return quiet()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = quiet()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="rnnverify-step")
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise StepTimeout(limit)
    if "error" in box:
        raise box["error"]
    return box["value"]


def _labelled(params: Any, state: Any) -> list[tuple[str, NDArray[Any]]]:
    return list(iter_arrays(params, "params")) + list(iter_arrays(state, "state"))


def _snapshot(params: Any, state: Any) -> list[tuple[str, bytes]]:
    return [(path, a.tobytes()) for path, a in _labelled(params, state)]


def _check_output(
    problem: RNNProblem, params_in: Params, state_in: Any, out: Any, k: int, aliasing: bool = True
) -> ContractViolation | None:
    """Validate one ``step`` result against the contract."""
    if not (isinstance(out, tuple) and len(out) == 2):
        return ContractViolation(
            "bad_output",
            k,
            None,
            f"step returned {type(out).__name__}, expected a (params, state) tuple",
        )
    params, state = out
    if not isinstance(params, Mapping):
        return ContractViolation(
            "bad_output", k, None, f"params is a {type(params).__name__}, expected a dict"
        )
    for name in params_in:
        if name not in params:
            return ContractViolation("missing_param", k, name, "parameter dropped from the output")
    for name in params:
        if name not in params_in:
            return ContractViolation("extra_param", k, str(name), "parameter not in the input")
    for name, ref in params_in.items():
        v = params[name]
        if not isinstance(v, np.ndarray):
            return ContractViolation(
                "bad_output", k, name, f"a {type(v).__name__}, expected an ndarray"
            )
        if v.shape != ref.shape:
            return ContractViolation("shape_changed", k, name, f"shape {ref.shape} -> {v.shape}")
        if v.dtype != ref.dtype:
            return ContractViolation("dtype_changed", k, name, f"dtype {ref.dtype} -> {v.dtype}")
        bad = ~np.isfinite(v)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            return ContractViolation("non_finite", k, f"{name}{list(idx)}", f"value {v[idx]!r}")
    if not aliasing:
        return None
    inputs = _labelled(params_in, state_in)
    for out_path, a in _labelled(params, state):
        for in_path, b in inputs:
            if a.size and b.size and np.may_share_memory(a, b):
                return ContractViolation(
                    "aliased_input",
                    k,
                    out_path,
                    f"output shares memory with input {in_path}; return new arrays",
                )
    return None


def _diff_entry(before: list[tuple[str, bytes]], after: list[tuple[str, bytes]]) -> str | None:
    for (path, b0), (_, b1) in zip(before, after, strict=True):
        if b0 != b1:
            return path
    return None


def _first_difference(x: Any, y: Any) -> str | None:
    """Path of the first array that differs bitwise between two ``(params, state)``
    outputs (NaN-aware: NaNs with the same bits are equal)."""
    xs, ys = _labelled(*x), _labelled(*y)
    if [p for p, _ in xs] != [p for p, _ in ys]:
        return "<structure>"
    for (path, a), (_, b) in zip(xs, ys, strict=True):
        if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes():
            return path
    return None


# ---------------------------------------------------------------------------------------
# Trajectory and run()
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trajectory:
    """What a run produced: everything a claim or a plot needs.

    Attributes
    ----------
    params : list of dict
        ``params[k]`` after ``k`` steps (``params[0]`` is the start), read-only.
    losses : list of float
        ``problem.loss(params[k])``.
    diagnostics : list of dict
        ``diagnostics(state_k)`` per step (empty dicts without a diagnostics function).
    step_seconds : list of float
        Wall time of each ``step`` call.
    violation : ContractViolation or None
        Set when the optimizer broke the contract; the trajectory stops there.
    diverged_at : int or None
        The step whose output was not finite *because the problem itself had overflowed*
        at its input (non-finite loss or gradient there): the run diverged, which is an
        outcome for the claims to judge, not a breach of the contract. The trajectory
        stops before that step.
    """

    problem: RNNProblem
    params: list[Params]
    losses: list[float]
    diagnostics: list[dict[str, float]] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    states: list[Any] = field(default_factory=list, repr=False)
    violation: ContractViolation | None = None
    diverged_at: int | None = None

    @property
    def steps(self) -> int:
        return len(self.params) - 1

    @property
    def ok(self) -> bool:
        return self.violation is None


def _describe_exception(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _diagnostics(
    opt: Optimizer, state: Any, k: int
) -> tuple[dict[str, float], ContractViolation | None]:
    if opt.diagnostics is None:
        return {}, None
    try:
        raw = opt.diagnostics(state)
        return {str(key): float(v) for key, v in dict(raw).items()}, None
    except Exception as exc:  # a user function: report, never crash
        return {}, ContractViolation("bad_diagnostics", k, None, _describe_exception(exc))


def run(
    optimizer: Any,
    problem: RNNProblem,
    steps: int,
    *,
    params: Mapping[str, NDArray[Any]] | None = None,
    time_limit: float = DEFAULT_STEP_TIME_LIMIT,
    check_determinism: int = 1,
    purity_checks: bool = True,
) -> Trajectory:
    """Run ``optimizer`` for ``steps`` steps on ``problem`` and enforce the contract.

    Parameters
    ----------
    optimizer : Optimizer or optimizer-like
    problem : RNNProblem
    steps : int
        Number of ``step`` calls.
    params : dict, optional
        Starting point; ``problem.params0`` by default.
    time_limit : float
        Seconds allowed per ``init``/``step`` call (``inf`` disables the watchdog).
    check_determinism : int
        The first ``check_determinism`` steps are run twice on identical inputs and
        must agree bitwise.
    purity_checks : bool
        ``False`` skips the input snapshots, the aliasing check and the determinism check
        (about half the runner's cost per step), for claims that need thousands of steps;
        purity stays the business of ``contract.pure``. Time limits, exceptions, names,
        shapes, dtypes and finiteness are always checked.

    Returns
    -------
    Trajectory
        Never raises for a misbehaving optimizer: the first violation is recorded in
        ``Trajectory.violation`` and the run stops there.
    """
    opt = as_optimizer(optimizer)
    current: Params = freeze(dict(problem.params0 if params is None else params))
    traj_params = [current]
    losses = [_loss(problem, current)]
    diags: list[dict[str, float]] = []
    seconds: list[float] = []
    states: list[Any] = []

    def finish(violation: ContractViolation | None, diverged_at: int | None = None) -> Trajectory:
        return Trajectory(
            problem, traj_params, losses, diags, seconds, states, violation, diverged_at
        )

    # init ------------------------------------------------------------------------------
    try:
        state = _call_with_time_limit(lambda: opt.init(problem, freeze(current)), time_limit)
    except StepTimeout:
        return finish(
            ContractViolation("hung", -1, None, f"init took longer than {time_limit:g} s")
        )
    except Exception as exc:
        return finish(_raised(exc, -1))
    state = freeze(state)
    states.append(state)
    d, bad = _diagnostics(opt, state, -1)
    if bad:
        return finish(bad)
    diags.append(d)

    # steps -----------------------------------------------------------------------------
    for k in range(steps):
        p_in, s_in = freeze(current), freeze(state)
        before = _snapshot(p_in, s_in) if purity_checks else []
        t0 = time.perf_counter()
        try:
            out = _call_with_time_limit(lambda: opt.step(problem, p_in, s_in), time_limit)  # noqa: B023
        except StepTimeout:
            return finish(
                ContractViolation("hung", k, None, f"step took longer than {time_limit:g} s")
            )
        except Exception as exc:
            return finish(_raised(exc, k))
        seconds.append(time.perf_counter() - t0)
        changed = _diff_entry(before, _snapshot(p_in, s_in)) if purity_checks else None
        if changed is not None:
            return finish(
                ContractViolation(
                    "wrote_input", k, changed, "step modified its (frozen) input in place"
                )
            )
        bad = _check_output(problem, p_in, s_in, out, k, aliasing=purity_checks)
        if bad and bad.kind == "non_finite" and _problem_overflowed(problem, p_in, losses[-1]):
            return finish(None, diverged_at=k)
        if bad:
            return finish(bad)
        if purity_checks and k < check_determinism:
            p_again, s_again = freeze(current), freeze(state)
            try:
                out2 = _call_with_time_limit(
                    lambda: opt.step(problem, p_again, s_again),  # noqa: B023
                    time_limit,
                )
            except StepTimeout:
                return finish(
                    ContractViolation(
                        "hung", k, None, f"repeated step took longer than {time_limit:g} s"
                    )
                )
            except Exception as exc:
                return finish(_raised(exc, k, " (on the repeated call)"))
            where = _first_difference(out, out2)
            if where is not None:
                return finish(
                    ContractViolation(
                        "non_deterministic",
                        k,
                        where,
                        "two calls on identical inputs gave different results; keep randomness "
                        "in the state",
                    )
                )
        new_params, state = out
        current = freeze(dict(new_params))
        state = freeze(state)
        traj_params.append(current)
        states.append(state)
        losses.append(_loss(problem, current))
        d, bad = _diagnostics(opt, state, k)
        if bad:
            return finish(bad)
        diags.append(d)
    return finish(None)


def _problem_overflowed(problem: RNNProblem, params: Params, loss: float) -> bool:
    """Whether the loss or its gradient is already non-finite at ``params``: then a
    non-finite output is the run diverging, not the optimizer manufacturing NaN/inf from
    finite data."""
    if not math.isfinite(loss):
        return True
    with np.errstate(all="ignore"):
        g = problem.grad(params)
    return not all(np.all(np.isfinite(v)) for v in g.values())


def _loss(problem: RNNProblem, params: Params) -> float:
    """The loss, ``inf``/``nan`` instead of a floating-point exception: a diverging run is
    for the claims to judge, not a crash of the harness."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        return problem.loss(params)


def _raised(exc: BaseException, k: int, suffix: str = "") -> ContractViolation:
    if isinstance(exc, ValueError) and "read-only" in str(exc):
        return ContractViolation(
            "wrote_input",
            k,
            None,
            f"step wrote into a frozen input ({_describe_exception(exc)}){suffix}",
        )
    return ContractViolation("raised", k, None, _describe_exception(exc) + suffix)


__all__ = [
    "DEFAULT_STEP_TIME_LIMIT",
    "ContractViolation",
    "Optimizer",
    "OptimizerLike",
    "StepTimeout",
    "Trajectory",
    "as_optimizer",
    "from_gradient_transformation",
    "run",
]
