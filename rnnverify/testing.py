"""Check an optimizer from Python: :func:`check`, its :class:`Report`, and
:func:`parametrize_with_checks` for a user's own pytest suite (scikit-learn's
``check_estimator`` / ``parametrize_with_checks``, theory/anchors.md).

::

    report = rnnverify.check("mypkg.opt:my_sgd", claims=["descent.sufficient"])
    report.raise_if_failed()          # AssertionError: every failing verdict in full

    @rnnverify.parametrize_with_checks([Case(my_sgd, {"lr": 0.05}, claims=...)])
    def test_my_optimizer(optimizer, check):
        check(optimizer)              # one test per (optimizer, claim)

Which claims run. An optimizer declares the claims it makes: a :class:`~rnnverify.registry.Case`
lists them (with targets, options and known failures), and an optimizer object may carry a
``claims`` attribute (a sequence of claim references). ``claims=`` chooses among them (a
bare id selects the target and options the case declares for it) or, for an optimizer that
declares none, names what to check. An optimizer that declares nothing and is given no
``claims`` is held to the claims of the contract itself, the only ones that hold whatever
the method: ``contract.pure``, and ``grad.taylor_slope`` and ``grad.finite_difference``
when it brings its own ``gradient``. Every other claim is a theorem about a particular
method (descent, orthogonality, a rate), so it is checked only when asked for.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from rnnverify import profiles
from rnnverify.api import matrix, summarize, verify_case
from rnnverify.contract import DEFAULT_STEP_TIME_LIMIT, as_optimizer
from rnnverify.problems import ProblemFamily
from rnnverify.registry import Case, ClaimRef, get_case
from rnnverify.verdict import Status, Verdict

GRADIENT_CLAIMS = ("grad.taylor_slope", "grad.finite_difference")
"""Checked on an optimizer that declares no claims but brings its own ``gradient``."""

ClaimsArg = str | ClaimRef | Iterable[str | ClaimRef] | None


# ---------------------------------------------------------------------------------------
# Resolving what to check
# ---------------------------------------------------------------------------------------


def load_target(target: str) -> Any:
    """The object ``pkg.mod:attr`` names (``attr`` may be dotted): a Case, an optimizer,
    or a factory. The current directory is importable, as for ``python -m``.
    ``ValueError`` names the target and what went wrong."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"optimizer {target!r}: expected pkg.module:factory or a built-in case id")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(
            f"optimizer {target!r}: cannot import module {module_name!r} "
            f"({type(exc).__name__}: {exc})"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(
                f"optimizer {target!r}: module {module_name!r} has no attribute {attr!r}"
            )
        obj = getattr(obj, part)
    return obj


def _build(obj: Any, label: str) -> Any:
    """An optimizer-like object from ``obj`` (itself, or what the factory ``obj()`` returns)."""
    if callable(getattr(obj, "init", None)) and callable(getattr(obj, "step", None)):
        return obj
    if not callable(obj):
        raise ValueError(
            f"optimizer {label!r}: a {type(obj).__name__}, expected a Case, an optimizer "
            "(init and step) or a factory that returns one"
        )
    try:
        built = obj()
    except Exception as exc:
        raise ValueError(
            f"optimizer {label!r}: calling the factory raised {type(exc).__name__}: {exc}"
        ) from None
    try:
        as_optimizer(built)
    except TypeError as exc:
        raise ValueError(f"optimizer {label!r}: the factory returned {exc}") from None
    return built


def _factory_name(optimizer: Any) -> str:
    """``my_sgd`` for an optimizer whose ``step`` a factory ``my_sgd`` defined, else the
    optimizer's type name."""
    qualname = getattr(optimizer.step, "__qualname__", "")
    factory, sep, _ = qualname.partition(".<locals>.")
    return factory if sep else type(optimizer).__name__


def _refs(claims: ClaimsArg) -> list[ClaimRef]:
    """Parse ``claims`` (one reference or several); ``ValueError`` from
    :meth:`ClaimRef.parse` names a malformed or unknown one and lists the valid ids."""
    if claims is None:
        return []
    items = [claims] if isinstance(claims, (str, ClaimRef)) else list(claims)
    return [c if isinstance(c, ClaimRef) else ClaimRef.parse(c) for c in items]


def _select(case: Case, wanted: list[ClaimRef]) -> list[ClaimRef]:
    """The case's references matching ``wanted`` (a bare id matches every target and
    option set the case declares for it); ``ValueError`` for one it does not make."""
    if not wanted:
        return list(case.claims)
    out: list[ClaimRef] = []
    for ref in wanted:
        bare = ref.target is None and not ref.options
        hits = [r for r in case.claims if r == ref or (bare and r.claim == ref.claim)]
        if not hits:
            raise ValueError(
                f"claim {str(ref)!r}: {case.id} does not make it; it makes "
                f"{[str(r) for r in case.claims]}"
            )
        out += [r for r in hits if r not in out]
    return out


@dataclass(frozen=True)
class Plan:
    """What :func:`check` runs: a case, the references of it to check, and the target
    that rebuilds it on the command line (for the reproduce command)."""

    case: Case
    refs: tuple[ClaimRef, ...]
    target: str


def plan(
    optimizer: Any,
    claims: ClaimsArg = None,
    *,
    family: ProblemFamily | None = None,
    steps: int | None = None,
) -> Plan:
    """Resolve an optimizer argument of :func:`check` and the claims to check on it.

    ``optimizer`` is a :class:`Case`, a built-in case id (``"sgd(lr=0.05)"``), a
    ``"pkg.mod:attr"`` string (``attr`` a Case, an optimizer or a factory called with no
    arguments), or an optimizer-like object. ``ValueError`` names a bad value.
    """
    wanted = _refs(claims)
    target = ""
    obj = optimizer
    if isinstance(obj, str):
        target = obj
        try:
            obj = get_case(obj)
        except KeyError:
            if ":" not in obj:
                raise ValueError(
                    f"optimizer {obj!r}: expected pkg.module:factory or a built-in case id"
                ) from None
            obj = load_target(obj)
    if isinstance(obj, Case):
        case = obj
        selected = _select(case, wanted)
    else:
        built = _build(obj, target or repr(obj))
        declared = getattr(built, "claims", None)
        if declared is not None and not wanted:
            try:
                wanted = _refs(declared)
            except ValueError as exc:
                raise ValueError(f"optimizer {target or built!r}: its claims: {exc}") from None
        if not wanted:
            has_gradient = as_optimizer(built).gradient is not None
            wanted = _refs(("contract.pure", *(GRADIENT_CLAIMS if has_gradient else ())))
        problems = getattr(built, "problems", None) or ProblemFamily()
        if not isinstance(problems, ProblemFamily):
            raise ValueError(
                f"optimizer {target or built!r}: its problems are {problems!r}, "
                "expected a ProblemFamily"
            )
        name = target or _factory_name(built)
        case = Case(lambda: built, claims=tuple(wanted), problems=problems, id=name)
        selected = wanted
    changes: dict[str, Any] = {}
    if family is not None:
        changes["problems"] = family
    if steps is not None:
        changes["steps"] = steps
    if changes:
        case = dataclasses.replace(case, **changes)
    return Plan(case, tuple(selected), target or case.id)


# ---------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------


class ClaimFailed(AssertionError):
    """A claim failed; the message is its verdict in full."""


@dataclass(frozen=True)
class Report:
    """The verdicts of one :func:`check`, each with its measured figures.

    Iterating yields the :class:`~rnnverify.verdict.Verdict` objects; ``str(report)`` is
    the verdict matrix, every failing verdict in full, and a one-line summary.

    Attributes
    ----------
    optimizer : str
        The optimizer's readable id.
    verdicts : tuple of Verdict
    profile : str
        The Hypothesis profile the searches ran under.
    """

    optimizer: str
    verdicts: tuple[Verdict, ...]
    profile: str

    @property
    def passed(self) -> bool:
        """Whether no claim failed (known failures and n.a. claims do not count)."""
        return not self.failures

    @property
    def failures(self) -> list[Verdict]:
        """The verdicts that failed: FAIL, ERROR, and XPASS (a stale known failure)."""
        return [v for v in self.verdicts if v.status.failed]

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    def __getitem__(self, claim: str) -> Verdict:
        """The verdict of ``claim`` (its id, or its label with target and options)."""
        for v in self.verdicts:
            if claim in (v.claim_label, v.claim):
                return v
        raise KeyError(f"claim {claim!r}: checked {[v.claim_label for v in self.verdicts]}")

    def summary(self) -> str:
        s = summarize(self.verdicts)
        return (
            f"rnnverify: {s.passed} held, {s.failed} failed, {s.inapplicable} n.a., "
            f"{s.expected} known failures ({self.optimizer}, profile {self.profile})"
        )

    def __str__(self) -> str:
        parts = [matrix(self.verdicts), *(v.render() for v in self.failures), self.summary()]
        return "\n\n".join(parts)

    def raise_if_failed(self) -> None:
        """:class:`ClaimFailed` (an ``AssertionError``) whose message is every failing
        verdict in full."""
        __tracebackhide__ = True
        if self.failures:
            raise ClaimFailed("\n\n".join(v.render() for v in self.failures))


def check(
    optimizer: Any,
    claims: ClaimsArg = None,
    *,
    profile: str | None = None,
    seed: int | None = None,
    family: ProblemFamily | None = None,
    steps: int | None = None,
    time_limit: float = DEFAULT_STEP_TIME_LIMIT,
) -> Report:
    """Search for violations of the claims ``optimizer`` makes; return a :class:`Report`.

    Parameters
    ----------
    optimizer : Case, str or optimizer
        A :class:`~rnnverify.registry.Case`; a built-in case id; ``"pkg.mod:attr"`` naming
        a Case, an optimizer or a factory called with no arguments; or an optimizer-like
        object (``init`` and ``step``, see :mod:`rnnverify.contract`).
    claims : str or sequence of str, optional
        Claim references (``"descent.sufficient"``, ``"orthogonal.preserved:W_hh"``,
        ``"qn.pair_acceptance,test=sts"``); default: those the optimizer declares (module
        docstring). A Case is checked only on claims it makes.
    profile : str, optional
        Hypothesis profile (:mod:`rnnverify.profiles`); also chooses the example database.
    seed : int, optional
        Hypothesis seed, for a reproducible search.
    family : ProblemFamily, optional
        The problems to draw from, replacing the optimizer's own (smaller sizes run faster).
    steps : int, optional
        Steps per trajectory, replacing the optimizer's own (default 5).
    time_limit : float
        Seconds one optimizer call may take before it is reported as hung.

    Raises
    ------
    ValueError
        An unknown claim id (the message lists the valid ones), a malformed reference, a
        claim the Case does not make, an optimizer that cannot be imported or built, an
        unknown profile.
    """
    profile_name = profiles.profile_name(profile)
    p = plan(optimizer, claims, family=family, steps=steps)
    verdicts = verify_case(
        p.case,
        claims=[str(r) for r in p.refs],
        profile=profile_name,
        seed=seed,
        time_limit=time_limit,
        target=p.target,
    )
    return Report(p.case.id, tuple(verdicts), profile_name)


# ---------------------------------------------------------------------------------------
# pytest
# ---------------------------------------------------------------------------------------


def assert_verdict(verdict: Verdict) -> None:
    """Turn one verdict into a pytest outcome: a failed claim raises :class:`ClaimFailed`
    (an ``AssertionError``) with the verdict in full; a known failure is an xfail and a
    claim whose precondition never held is a skip, both with their reason; anything else
    passes."""
    __tracebackhide__ = True
    if verdict.status.failed:
        raise ClaimFailed(f"{verdict.one_line()}\n\n{verdict.render()}")
    if verdict.status is Status.XFAIL:
        pytest.xfail(f"{verdict.claim_label}: {verdict.reason}")
    if verdict.status is Status.NA:
        pytest.skip(f"{verdict.claim_label}: n.a.: {verdict.summary}")


@dataclass(frozen=True)
class ClaimCheck:
    """One claim, ready to check on the optimizer it was planned for; ``str`` is the
    claim label (the second half of a test id)."""

    ref: ClaimRef
    profile: str | None = None
    seed: int | None = None
    time_limit: float = DEFAULT_STEP_TIME_LIMIT

    def __str__(self) -> str:
        return str(self.ref)

    def __call__(self, optimizer: Plan) -> Verdict:
        """Check the claim; fail the calling test as :func:`assert_verdict` does."""
        __tracebackhide__ = True
        [verdict] = verify_case(
            optimizer.case,
            claims=[str(self.ref)],
            profile=self.profile,
            seed=self.seed,
            time_limit=self.time_limit,
            target=optimizer.target,
        )
        assert_verdict(verdict)
        return verdict


def checks(
    optimizers: Sequence[Any],
    claims: ClaimsArg = None,
    *,
    profile: str | None = None,
    seed: int | None = None,
    family: ProblemFamily | None = None,
    steps: int | None = None,
    time_limit: float = DEFAULT_STEP_TIME_LIMIT,
) -> list[tuple[str, Plan, ClaimCheck]]:
    """Every (test id, optimizer, check) pair: ``sgd(lr=0.05)-descent.sufficient``."""
    out = []
    for optimizer in optimizers:
        p = plan(optimizer, claims, family=family, steps=steps)
        for ref in p.refs:
            out.append((f"{p.case.id}-{ref}", p, ClaimCheck(ref, profile, seed, time_limit)))
    return out


def parametrize_with_checks(
    optimizers: Sequence[Any],
    claims: ClaimsArg = None,
    *,
    profile: str | None = None,
    seed: int | None = None,
    family: ProblemFamily | None = None,
    steps: int | None = None,
    time_limit: float = DEFAULT_STEP_TIME_LIMIT,
) -> Callable[[Callable[..., Any]], Any]:
    """A pytest decorator: one test per (optimizer, claim), with arguments ``optimizer``
    and ``check``; the test calls ``check(optimizer)``::

        @parametrize_with_checks([Case(my_sgd, {"lr": 0.05}, claims=refs("descent.sufficient"))])
        def test_optimizer(optimizer, check):
            check(optimizer)

    Test ids are ``<optimizer id>-<claim>`` (``my_sgd(lr=0.05)-descent.sufficient``); a
    failing test's message is the verdict in full. The optimizers and claims are resolved
    at import (a bad one fails collection with a ``ValueError`` naming it); the searches
    run when the tests do. Arguments as for :func:`check`.
    """
    triples = checks(
        optimizers,
        claims,
        profile=profile,
        seed=seed,
        family=family,
        steps=steps,
        time_limit=time_limit,
    )
    return pytest.mark.parametrize(
        ("optimizer", "check"), [pytest.param(p, c, id=i) for i, p, c in triples]
    )


__all__ = [
    "ClaimCheck",
    "ClaimFailed",
    "Plan",
    "Report",
    "assert_verdict",
    "check",
    "checks",
    "load_target",
    "parametrize_with_checks",
    "plan",
]
