"""The claim registry and the search that turns a claim into a :class:`Verdict`.

A claim is a stable id (``family.property``, theory/README.md), a one-line theorem, its
source, and an ``evaluate(subject, spec) -> Observation`` function that checks the claim
on *one* problem. :func:`verify` lets Hypothesis search problem specs for a violation,
pushes toward the worst case with ``target()``, shrinks a violation to the smallest
problem, and returns one Verdict (../DESIGN.md §Claims, §Verdicts).

Built-in claims live in the top-level packages ``properties`` (invariants that hold at
every step) and ``convergence`` (claims about whole trajectories); they register
themselves on import and :func:`load_builtin_claims` imports them on first use.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import hypothesis
import numpy as np
from hypothesis import event, given, target
from hypothesis import strategies as st

from rnnverify import profiles
from rnnverify.contract import (
    DEFAULT_STEP_TIME_LIMIT,
    ContractViolation,
    Optimizer,
    StepTimeout,
    Trajectory,
    _call_with_time_limit,
    _describe_exception,
    run,
)
from rnnverify.problems import ProblemFamily, ProblemSpec, RNNProblem
from rnnverify.tolerance import Tolerance
from rnnverify.tree import Params
from rnnverify.verdict import Status, Verdict

BUILTIN_CLAIM_PACKAGES = ("properties", "convergence")


# ---------------------------------------------------------------------------------------
# What a claim is checked on
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """An optimizer under test, as a claim sees it.

    Attributes
    ----------
    name : str
        Readable id (``sgd(lr=0.05)``), used in verdicts and test ids.
    optimizer : Optimizer
    family : ProblemFamily
        The problems the optimizer runs on.
    target : str or None
        The parameter a targeted claim is about (``W_hh``).
    steps : int
        Steps per trajectory for trajectory claims.
    options : dict
        Claim options (``drift=multiplicative``), see :class:`rnnverify.registry.ClaimRef`.
    reproduce : str
        The command prefix that rebuilds this optimizer (``rnnverify check 'sgd(lr=0.05)'``).
    time_limit : float
        Seconds per optimizer call before it is reported as hung.
    """

    name: str
    optimizer: Optimizer
    family: ProblemFamily = field(default_factory=ProblemFamily)
    target: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    steps: int = 5
    reproduce: str = ""
    time_limit: float = DEFAULT_STEP_TIME_LIMIT

    def trajectory(
        self,
        problem: RNNProblem,
        steps: int | None = None,
        *,
        state_fields: tuple[str, ...] = (),
        **options: Any,
    ) -> Trajectory | Observation:
        """Run the optimizer on ``problem`` for ``steps`` steps (default ``self.steps``)
        under the contract (:func:`rnnverify.contract.run`, ``options`` passed on); a
        violation comes back as its ERROR observation, and so does a state without one of
        ``state_fields`` (the attributes a family's claims read from the state)."""
        n = self.steps if steps is None else steps
        traj = run(self.optimizer, problem, n, time_limit=self.time_limit, **options)
        if traj.violation is not None:
            return Observation.from_violation(traj.violation)
        for k, state in enumerate(traj.states):
            missing = [f for f in state_fields if not hasattr(state, f)]
            if missing:
                return Observation(
                    Status.ERROR,
                    summary=(
                        f"these claims read {list(state_fields)} from the optimizer's "
                        f"state; state {k} has no {missing}"
                    ),
                    score=math.inf,
                )
        return traj

    def gradient(self, problem: RNNProblem, params: Params) -> Params | ContractViolation:
        """The optimizer's gradient (``optimizer.gradient`` or the problem's own), with
        the contract enforced: a misbehaving user function becomes a violation."""
        fn = self.optimizer.gradient
        if fn is None:
            return problem.grad(params)
        user_fn = fn
        try:
            out = _call_with_time_limit(lambda: user_fn(problem, params), self.time_limit)
        except StepTimeout:
            return ContractViolation(
                "hung", 0, None, f"gradient took longer than {self.time_limit:g} s"
            )
        except Exception as exc:
            return ContractViolation("raised", 0, None, "gradient: " + _describe_exception(exc))
        try:
            problem.validate(out)
        except (ValueError, TypeError, AttributeError) as exc:
            return ContractViolation("bad_output", 0, None, f"gradient: {exc}")
        return dict(out)


@dataclass(frozen=True)
class Observation:
    """The outcome of a claim on one problem.

    ``score`` is what :func:`hypothesis.target` maximizes: larger means closer to (or
    further into) a violation, e.g. ``measured/bound`` for an upper bound.
    """

    status: Status
    summary: str = ""
    measured: float | None = None
    bound: float | None = None
    inequality: str = ""
    tolerance: Tolerance | None = None
    entry: str | None = None
    quantities: Mapping[str, Any] = field(default_factory=dict)
    inputs: str | None = None
    score: float = 0.0
    series: Mapping[str, list[float]] = field(default_factory=dict)
    figure: str | None = None
    """The matrix cell's text, when the claim's ``figure`` format of ``measured`` would
    mislead (e.g. ``precondition ρ ≤ 2H`` for a violated precondition)."""

    @classmethod
    def from_violation(cls, v: ContractViolation) -> Observation:
        return cls(Status.ERROR, summary=v.one_line(), entry=v.entry, score=math.inf)

    @classmethod
    def na(cls, why: str) -> Observation:
        return cls(Status.NA, summary=why)

    @property
    def violation(self) -> float | None:
        if self.status is not Status.FAIL or self.measured is None or self.bound is None:
            return None
        return abs(self.measured - self.bound)


Evaluate = Callable[[Subject, ProblemSpec], Observation]


@dataclass(frozen=True)
class Claim:
    """A checkable claim.

    Attributes
    ----------
    id : str
        Stable id, ``family.property``.
    summary : str
        The theorem in one line.
    source : str
        Where it comes from (paper, theorem/equation, or theory/ section).
    evaluate : callable
        ``(subject, spec) -> Observation`` on one problem; must not raise.
    worst : {"min", "max"}
        Whether the worst measured value over examples is the smallest or the largest
        (for the figure shown when the claim passes).
    family : dict
        Limits intersected with the subject's problem family (e.g. tiny sizes for sympy).
    requires : dict
        Family fields the claim's theorem needs, replacing the subject's (e.g.
        ``recurrent=("orthogonal",)``: preserving orthogonality needs an orthogonal start).
    needs_target : bool
        Whether the claim is about one parameter (``claim:W_hh``).
    options : dict
        The options the claim accepts (``name -> allowed values``) and their defaults
        (the first allowed value), e.g. ``{"drift": ("parametrized", "multiplicative")}``.
    figure : str
        Format of the measured figure in the verdict matrix.
    """

    id: str
    summary: str
    source: str
    evaluate: Evaluate
    worst: str = "max"
    family: Mapping[str, Any] = field(default_factory=dict)
    requires: Mapping[str, Any] = field(default_factory=dict)
    needs_target: bool = False
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    figure: str = "{:.3g}"

    def validate_options(self, options: Mapping[str, str], label: str) -> None:
        """``ValueError`` naming an unknown option or value and what was expected."""
        for key, value in options.items():
            if key not in self.options:
                raise ValueError(
                    f"claim {label!r}: unknown option {key!r}; {self.id} accepts "
                    f"{sorted(self.options) or 'no options'}"
                )
            if value not in self.options[key]:
                raise ValueError(
                    f"claim {label!r}: {key}={value!r}; expected one of {list(self.options[key])}"
                )

    def option(self, subject: Subject, key: str) -> str:
        """The subject's value of option ``key``, or its default."""
        return subject.options.get(key, self.options[key][0])

    def problems(self, subject: Subject) -> st.SearchStrategy[ProblemSpec]:
        from properties.strategies import problem_specs  # the strategies' one home

        family = subject.family.restrict(**self.family) if self.family else subject.family
        if self.requires:
            family = replace(family, **self.requires)
        return problem_specs(family)


_CLAIMS: dict[str, Claim] = {}
_LOADED = False


def register_claim(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (ids are unique)."""
    if claim.id in _CLAIMS and _CLAIMS[claim.id] is not claim:
        raise ValueError(f"claim {claim.id!r} is already registered")
    _CLAIMS[claim.id] = claim
    return claim


def load_builtin_claims() -> None:
    """Import the packages that define the built-in claims (once)."""
    global _LOADED
    if not _LOADED:
        for name in BUILTIN_CLAIM_PACKAGES:
            importlib.import_module(name)
        _LOADED = True


def all_claims() -> dict[str, Claim]:
    load_builtin_claims()
    return dict(sorted(_CLAIMS.items()))


def get_claim(claim_id: str) -> Claim:
    """The claim with this id; ``KeyError`` listing the valid ids otherwise."""
    claims = all_claims()
    if claim_id not in claims:
        raise KeyError(f"unknown claim {claim_id!r}; expected one of {list(claims)}")
    return claims[claim_id]


# ---------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------


class _Violated(AssertionError):
    """Raised inside the Hypothesis test to make it shrink a violation."""


def _safe_evaluate(claim: Claim, subject: Subject, spec: ProblemSpec) -> Observation:
    """Evaluate one example. A user's trajectory may overflow: non-finite values are data
    that each check handles explicitly, so floating-point errors are not raised here."""
    try:
        with np.errstate(all="ignore"):
            return claim.evaluate(subject, spec)
    except Exception as exc:  # a harness bug must still produce a verdict
        return Observation(
            Status.ERROR,
            summary=f"the check itself raised {_describe_exception(exc)} (harness error)",
            score=math.inf,
        )


def _reproduce(subject: Subject, claim: Claim, spec: ProblemSpec | None) -> str | None:
    if not subject.reproduce:
        return None
    label = f"{claim.id}:{subject.target}" if subject.target else claim.id
    label += "".join(f",{k}={v}" for k, v in sorted(subject.options.items()))
    cmd = f"{subject.reproduce} --claim {label}"
    return cmd + (f" --problem '{spec}'" if spec is not None else "")


def _to_verdict(
    claim: Claim,
    subject: Subject,
    spec: ProblemSpec | None,
    obs: Observation,
    examples: int,
    inapplicable: int,
    measured: float | None = None,
) -> Verdict:
    value = obs.measured if measured is None else measured
    figure = ""
    if obs.figure is not None:
        figure = obs.figure
    elif value is not None and math.isfinite(value):
        figure = claim.figure.format(value)
    return Verdict(
        claim=claim.id,
        optimizer=subject.name,
        status=obs.status,
        summary=obs.summary,
        target=subject.target,
        options=dict(subject.options),
        problem=None if spec is None else str(spec),
        inequality=obs.inequality,
        measured=value,
        bound=obs.bound,
        violation=obs.violation,
        tolerance=obs.tolerance,
        entry=obs.entry,
        quantities=dict(obs.quantities),
        inputs=obs.inputs,
        reproduce=_reproduce(subject, claim, spec) if obs.status.failed else None,
        examples=examples,
        inapplicable=inapplicable,
        figure=figure,
        series=dict(obs.series),
    )


def replay(claim: Claim | str, subject: Subject, spec: ProblemSpec) -> Verdict:
    """Check ``claim`` on exactly one problem (what a reproduce command runs)."""
    claim = get_claim(claim) if isinstance(claim, str) else claim
    obs = _safe_evaluate(claim, subject, spec)
    return _to_verdict(claim, subject, spec, obs, 1, int(obs.status is Status.NA))


def verify(
    claim: Claim | str,
    subject: Subject,
    *,
    profile: str | None = None,
    seed: int | None = None,
    max_examples: int | None = None,
) -> Verdict:
    """Search for a violation of ``claim`` by ``subject``; return one Verdict.

    Never raises for a misbehaving optimizer or a violated claim. The verdict of a
    violation is that of the *shrunk* (smallest) problem; an optimizer that hangs is
    reported on the first problem where it hung, without shrinking (each try would
    cost the full time limit). The profile's example database
    (:func:`rnnverify.profiles.database`) keeps the shrunk problem, keyed by the claim,
    the optimizer's name, its target and options; the next search replays it first.
    """
    claim = get_claim(claim) if isinstance(claim, str) else claim
    if claim.needs_target and not subject.target:
        return Verdict(
            claim.id,
            subject.name,
            Status.ERROR,
            summary=f"claim {claim.id!r} needs a target parameter, e.g. {claim.id}:W_hh",
        )
    base = profiles.get(profile)
    overrides: dict[str, Any] = {"database": profiles.database(profile)}
    if max_examples is not None:
        overrides["max_examples"] = max_examples
    # no "explain" phase: it traces every line the check executes (sys.settrace), which
    # slows numeric code (and sympy builds) several-fold and adds nothing to a verdict
    overrides["phases"] = [p for p in base.phases if p is not hypothesis.Phase.explain]
    run_settings = hypothesis.settings(base, **overrides)

    counts = {"examples": 0, "inapplicable": 0}
    worst: list[tuple[float, ProblemSpec, Observation]] = []
    last_failure: list[tuple[ProblemSpec, Observation]] = []
    hung: list[tuple[ProblemSpec, Observation]] = []

    def property_(spec: ProblemSpec) -> None:
        if hung:  # do not run a hanging optimizer again while Hypothesis shrinks
            raise _Violated(hung[0][1].summary)
        obs = _safe_evaluate(claim, subject, spec)
        counts["examples"] += 1
        if obs.status is Status.NA:
            counts["inapplicable"] += 1
            event("precondition not met")
            return
        if math.isfinite(obs.score):
            target(obs.score, label=claim.id)
        if obs.status in (Status.FAIL, Status.ERROR):
            if obs.status is Status.ERROR and obs.summary.startswith("hung"):
                hung.append((spec, obs))
            last_failure.append((spec, obs))
            raise _Violated(obs.summary)
        if obs.measured is not None and math.isfinite(obs.measured):
            signed = obs.measured if claim.worst == "max" else -obs.measured
            if not worst or signed > worst[0][0]:
                worst[:] = [(signed, spec, obs)]

    try:
        strategy = claim.problems(subject)
    except ValueError as exc:  # the optimizer's family and the claim's do not meet
        return Verdict(
            claim.id,
            subject.name,
            Status.NA,
            target=subject.target,
            options=dict(subject.options),
            summary=f"no problem of the optimizer's family fits the claim: {exc}",
        )
    test = given(strategy)(property_)
    if seed is not None:
        # before the settings: ``hypothesis.seed`` switches the database off, and a
        # seeded search should still replay the saved counterexamples first
        test = hypothesis.seed(seed)(test)
    test = run_settings(test)
    label = f"{subject.name}|{claim.id}|{subject.target}|{sorted(subject.options.items())}"
    label_bytes = label.encode()
    # the derandomized seed (ci) is a digest of the inner test and this label
    test.hypothesis.inner_test._hypothesis_internal_add_digest = label_bytes  # type: ignore[attr-defined]
    # the example database key: the label alone, so a counterexample saved by one run (or
    # another machine sharing the database) is replayed first by the next search of this
    # claim on this optimizer, whatever version of this function runs it (Hypothesis's
    # default key digests the test function's source)
    test._hypothesis_internal_database_key = b"rnnverify:" + label_bytes  # type: ignore[attr-defined]

    def plain(status: Status, summary: str) -> Verdict:
        return Verdict(
            claim.id,
            subject.name,
            status,
            target=subject.target,
            options=dict(subject.options),
            summary=summary,
            examples=counts["examples"],
            inapplicable=counts["inapplicable"],
        )

    try:
        test()
    except _Violated:
        pass
    except hypothesis.errors.FailedHealthCheck as exc:
        first = str(exc).splitlines()[0]
        return plain(Status.ERROR, f"harness error: Hypothesis health check failed ({first})")
    except Exception as exc:  # Flaky (a non-deterministic optimizer), or a harness bug
        if not last_failure:
            return plain(Status.ERROR, f"harness error: {_describe_exception(exc)}")
    if hung or last_failure:
        # a hang is reported where it first happened; otherwise the shrunk example, which
        # Hypothesis replays last
        spec, obs = hung[0] if hung else last_failure[-1]
        return _to_verdict(claim, subject, spec, obs, counts["examples"], counts["inapplicable"])
    applicable = counts["examples"] - counts["inapplicable"]
    if applicable == 0:
        return plain(Status.NA, f"precondition held on none of {counts['examples']} examples")
    if worst:
        _, spec, obs = worst[0]
        verdict = _to_verdict(claim, subject, None, obs, counts["examples"], counts["inapplicable"])
        return replace(
            verdict,
            problem=str(spec),
            summary=f"held on {applicable} problems; worst: {obs.summary}",
        )
    return plain(Status.PASS, f"held on {applicable} problems")


__all__ = [
    "Claim",
    "Observation",
    "Subject",
    "all_claims",
    "get_claim",
    "load_builtin_claims",
    "register_claim",
    "replay",
    "verify",
]
