"""The registry of optimizer cases: which optimizer, with which hyperparameters, makes
which claims about which parameter, and which failures are known.

A case is selected by the claims it makes, never by its name (STYLE.md habit 7)::

    for case in cases_claiming("descent.sufficient"):
        ...

Its id is a readable call (``sgd(lr=0.05)``), used as the pytest id and in verdicts.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rnnverify.claims import Subject, all_claims
from rnnverify.contract import DEFAULT_STEP_TIME_LIMIT, Optimizer, as_optimizer
from rnnverify.problems import ProblemFamily

_CLAIM_REF = re.compile(
    r"^(?P<claim>[a-z_][a-z0-9_]*(\.[a-z0-9_<>=]+)+)(:(?P<target>[A-Za-z_][A-Za-z0-9_]*))?"
    r"(?P<options>(,[a-z_][a-z0-9_]*=[A-Za-z0-9_.+-]+)*)$"
)


@dataclass(frozen=True)
class ClaimRef:
    """A claim an optimizer makes, with its target and options:
    ``orthogonal.preserved:W_hh,drift=multiplicative``.

    Options are what a claim needs to know about the optimizer to derive its tolerance
    (the drift model of a constraint, say); each claim declares the options it accepts.
    """

    claim: str
    target: str | None = None
    options: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.options, Mapping):
            object.__setattr__(self, "options", tuple(sorted(self.options.items())))
        claims = all_claims()
        if self.claim not in claims:
            raise ValueError(f"unknown claim {self.claim!r}; expected one of {list(claims)}")
        claims[self.claim].validate_options(dict(self.options), str(self))

    @classmethod
    def parse(cls, text: str) -> ClaimRef:
        """Parse ``claim.id[:target][,key=value...]``; ``ValueError`` names a malformed
        or unknown one and lists the valid ids (or the valid options)."""
        m = _CLAIM_REF.match(text.strip())
        if m is None:
            raise ValueError(
                f"claim {text!r}: expected CLAIM_ID or CLAIM_ID:PARAMETER[,key=value...], "
                "e.g. 'grad.taylor_slope' or 'orthogonal.preserved:W_hh'"
            )
        options = tuple(tuple(item.split("=", 1)) for item in filter(None, m["options"].split(",")))
        return cls(m["claim"], m["target"], tuple(sorted(options)))

    def __str__(self) -> str:
        text = f"{self.claim}:{self.target}" if self.target else self.claim
        return text + "".join(f",{k}={v}" for k, v in self.options)


def refs(*labels: str) -> tuple[ClaimRef, ...]:
    """``refs("descent.sufficient", "orthogonal.preserved:W_hh")``: parsed claim references."""
    return tuple(ClaimRef.parse(label) for label in labels)


def call_id(factory: Callable[..., Any], hyperparameters: Mapping[str, Any]) -> str:
    """``name(k=v, ...)`` with ``repr`` values: a readable, stable id (no addresses)."""
    args = ", ".join(f"{k}={v!r}" for k, v in hyperparameters.items())
    return f"{getattr(factory, '__name__', type(factory).__name__)}({args})"


@dataclass(frozen=True)
class Case:
    """An optimizer case.

    Attributes
    ----------
    factory : callable
        Returns an optimizer when called with ``hyperparameters``.
    hyperparameters : dict
    claims : tuple of ClaimRef
        Every claim the optimizer makes (``contract.pure`` is added implicitly).
    problems : ProblemFamily
        The problems it runs on.
    known_failures : dict
        Claim label -> reason, for claims it makes but is known to break.
    steps : int
        Steps per trajectory.
    id : str
        Defaults to the readable call ``factory(k=v, ...)``.
    """

    factory: Callable[..., Any]
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    claims: tuple[ClaimRef, ...] = ()
    problems: ProblemFamily = field(default_factory=ProblemFamily)
    known_failures: Mapping[str, str] = field(default_factory=dict)
    steps: int = 5
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", call_id(self.factory, self.hyperparameters))
        refs = tuple(ClaimRef.parse(c) if isinstance(c, str) else c for c in self.claims)
        if not any(r.claim == "contract.pure" for r in refs):
            refs = (ClaimRef("contract.pure"), *refs)
        object.__setattr__(self, "claims", refs)
        labels = {str(r) for r in refs}
        for label in self.known_failures:
            if label not in labels:
                raise ValueError(
                    f"case {self.id}: known failure {label!r} is not one of its claims "
                    f"{sorted(labels)}"
                )

    def __str__(self) -> str:
        return self.id

    def build(self) -> Optimizer:
        return as_optimizer(self.factory(**self.hyperparameters))

    def makes(self, claim: str) -> bool:
        return any(r.claim == claim for r in self.claims)

    def subject(
        self, ref: ClaimRef | None = None, *, time_limit: float = DEFAULT_STEP_TIME_LIMIT
    ) -> Subject:
        return Subject(
            name=self.id,
            optimizer=self.build(),
            family=self.problems,
            target=None if ref is None else ref.target,
            options=dict(ref.options) if ref is not None else {},
            steps=self.steps,
            reproduce=f"rnnverify check {_shell_quote(self.id)}",
            time_limit=time_limit,
        )


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


_CASES: dict[str, Case] = {}


def register_case(case: Case) -> Case:
    if case.id in _CASES:
        raise ValueError(f"case {case.id!r} is already registered")
    _CASES[case.id] = case
    return case


def cases() -> list[Case]:
    _load_builtin_cases()
    return list(_CASES.values())


def cases_claiming(claim: str) -> list[Case]:
    """The registered cases that make ``claim``."""
    return [c for c in cases() if c.makes(claim)]


def get_case(case_id: str) -> Case:
    _load_builtin_cases()
    if case_id not in _CASES:
        raise KeyError(f"unknown case {case_id!r}; expected one of {list(_CASES)}")
    return _CASES[case_id]


_BUILTINS_LOADED = False


def _load_builtin_cases() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    for case in builtin_cases():
        register_case(case)


def builtin_cases() -> Iterable[Case]:
    """The reference optimizers and the claims each makes: every module of
    :mod:`rnnverify.optimizers` lists its cases in a module-level ``CASES``."""
    import rnnverify.optimizers as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        yield from getattr(module, "CASES", ())
