"""Verify optimizer cases against their claims, and lay the verdicts out as a matrix."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from rnnverify.claims import get_claim, verify
from rnnverify.contract import DEFAULT_STEP_TIME_LIMIT
from rnnverify.registry import Case, ClaimRef
from rnnverify.verdict import Status, Verdict


def apply_known_failure(case: Case, ref: ClaimRef, verdict: Verdict) -> Verdict:
    """Mark a declared known failure XFAIL, or XPASS if it unexpectedly held (a stale
    declaration is itself a failure, as with ``xfail_strict``)."""
    reason = case.known_failures.get(str(ref))
    if reason is None:
        return verdict
    if verdict.status.failed:
        return verdict.with_status(Status.XFAIL, reason)
    if verdict.status is Status.PASS:
        return verdict.with_status(Status.XPASS, reason)
    return verdict


def verify_case(
    case: Case,
    *,
    claims: Sequence[str] | None = None,
    profile: str | None = None,
    seed: int | None = None,
    time_limit: float = DEFAULT_STEP_TIME_LIMIT,
    on_verdict: Callable[[Verdict], None] | None = None,
    target: str | None = None,
) -> list[Verdict]:
    """Verify every claim ``case`` makes (or those of ``claims`` it makes).

    ``target`` is what rebuilds the case on the command line (``pkg.mod:factory``) for
    the reproduce command of a failure; default: the case id (a built-in case)."""
    out = []
    for ref in case.claims:
        if claims is not None and ref.claim not in claims and str(ref) not in claims:
            continue
        subject = case.subject(ref, time_limit=time_limit)
        if target is not None:
            subject = replace(subject, reproduce=f"rnnverify check {shlex.quote(target)}")
        verdict = verify(get_claim(ref.claim), subject, profile=profile, seed=seed)
        verdict = apply_known_failure(case, ref, verdict)
        out.append(verdict)
        if on_verdict is not None:
            on_verdict(verdict)
    return out


@dataclass(frozen=True)
class Summary:
    passed: int
    failed: int
    inapplicable: int
    expected: int

    @property
    def ok(self) -> bool:
        return self.failed == 0


def summarize(verdicts: Iterable[Verdict]) -> Summary:
    vs = list(verdicts)
    return Summary(
        passed=sum(v.status is Status.PASS for v in vs),
        failed=sum(v.status.failed for v in vs),
        inapplicable=sum(v.status is Status.NA for v in vs),
        expected=sum(v.status is Status.XFAIL for v in vs),
    )


def matrix(verdicts: Sequence[Verdict], *, width: int | None = None) -> str:
    """The verdict matrix as text: one row per claim (and target), one column per
    optimizer; a cell is ``pass``/``FAIL``/``ERROR``/``n.a.``/``xfail``/``XPASS`` with the
    measured figure, ``—`` where the optimizer does not make the claim.

    When the table would be wider than ``width`` characters, the columns are headed
    ``[1]``, ``[2]``, ... and a legend below names the optimizers."""
    optimizers: list[str] = []
    claims: list[str] = []
    cell: dict[tuple[str, str], str] = {}
    for v in verdicts:
        row = f"{v.claim}:{v.target}" if v.target else v.claim  # options differ per optimizer
        if v.optimizer not in optimizers:
            optimizers.append(v.optimizer)
        if row not in claims:
            claims.append(row)
        text = v.status.value + (f" {v.figure}" if v.figure else "")
        cell[(row, v.optimizer)] = text
    rows = [[c, *(cell.get((c, o), "—") for o in optimizers)] for c in claims]
    table = _table(["claim", *optimizers], rows)
    if width is None or max(map(len, table.splitlines()), default=0) <= width:
        return table
    keys = [f"[{i}]" for i in range(1, len(optimizers) + 1)]
    legend = [f"{k} {o}" for k, o in zip(keys, optimizers, strict=True)]
    return "\n".join([_table(["claim", *keys], rows), "", *legend])


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])
