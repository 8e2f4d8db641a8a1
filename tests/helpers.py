"""Helpers shared by the tests of the harness."""

from __future__ import annotations

from typing import Any

from rnnverify.claims import Subject, verify
from rnnverify.contract import as_optimizer
from rnnverify.problems import ProblemFamily
from rnnverify.verdict import Verdict

ALL_CELLS = ProblemFamily(cells=("elman", "complex"))


def subject(
    factory: Any,
    *,
    family: ProblemFamily = ALL_CELLS,
    name: str | None = None,
    steps: int = 5,
    time_limit: float = 10.0,
    target: str | None = None,
    options: dict[str, str] | None = None,
) -> Subject:
    """A subject for a mutant factory (importable as ``MODULE:NAME``, so the printed
    reproduce command works from the project root)."""
    name = name or getattr(factory, "__name__", "mutant")
    module = getattr(factory, "__module__", "tests.mutants")
    return Subject(
        name=name,
        optimizer=as_optimizer(factory()),
        family=family,
        steps=steps,
        reproduce=f"rnnverify check {module}:{name}",
        time_limit=time_limit,
        target=target,
        options=options or {},
    )


def check(claim: str, subj: Subject, **kwargs: Any) -> Verdict:
    kwargs.setdefault("seed", 0)
    return verify(claim, subj, **kwargs)
