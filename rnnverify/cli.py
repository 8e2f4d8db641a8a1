"""The ``rnnverify`` command.

::

    rnnverify                              verify every built-in optimizer, print the matrix
    rnnverify check TARGET --claim ID      verify one optimizer (a case id or pkg.mod:factory)
    rnnverify check TARGET --claim ID --problem SPEC   replay one problem exactly
    rnnverify list                         the claims with their one-line theorem
    rnnverify --report DIR                 also write report.md/.html/.json with plots

On a terminal, a run longer than a few seconds shows a progress bar on stderr (claims
done/total and the claim being checked).

Exit status: 0 when every claim held (known failures included), 1 when a claim failed,
2 for a bad argument (the message names the value and what was expected).
"""

# ruff: noqa: E402  (the thread variables must be set before numpy is imported)
from __future__ import annotations

import os

# Before numpy is imported: the checks run many small and medium matrix products, for which
# BLAS threads only oversubscribe the cores (13× slower on a shared 2-core machine). A
# user's own setting wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import math
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from rnnverify import profiles
from rnnverify.api import matrix, summarize, verify_case
from rnnverify.claims import all_claims, get_claim, replay
from rnnverify.contract import DEFAULT_STEP_TIME_LIMIT
from rnnverify.problems import ProblemSpec
from rnnverify.registry import Case, ClaimRef, cases
from rnnverify.report import ReportError, prepare_directory, require_matplotlib, write_report
from rnnverify.testing import Plan, plan
from rnnverify.verdict import Verdict


class UsageError(Exception):
    """A bad command-line value; the message names it and what was expected."""


def _common(p: argparse.ArgumentParser, *, inherit: bool = False) -> None:
    """The options of both the top-level command and ``check``. With ``inherit`` (the
    subcommand) an option left out keeps the value given before the subcommand
    (``rnnverify --report out check ...``) instead of resetting it to its default."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if inherit else value

    p.add_argument(
        "--profile",
        default=default(None),
        help=f"Hypothesis profile, one of {list(profiles.PROFILES)} "
        f"(default: ${profiles.ENV_VAR}, 'ci' under CI, else 'dev')",
    )
    p.add_argument(
        "--seed",
        default=default(None),
        help="Hypothesis seed (an integer) for a reproducible search",
    )
    p.add_argument(
        "--claim",
        action="append",
        default=default([]),
        metavar="ID[:TARGET]",
        help="check only this claim (repeatable)",
    )
    p.add_argument(
        "--json", action="store_true", default=default(False), help="print the verdicts as JSON"
    )
    p.add_argument(
        "--time-limit",
        default=default(str(DEFAULT_STEP_TIME_LIMIT)),
        metavar="SECONDS",
        help="seconds one optimizer call may take before it is reported as hung",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="print every verdict in full",
    )
    p.add_argument(
        "--database",
        default=default(None),
        metavar="PATH|redis://HOST:PORT",
        help="the Hypothesis example database: counterexamples are saved there and replayed "
        f"first (default: ${profiles.DATABASE_ENV_VAR}; none under the ci profile, else "
        f"{profiles.DEFAULT_DATABASE})",
    )
    p.add_argument(
        "--report",
        default=default(None),
        metavar="DIR",
        help="also write report.md, report.html (self-contained) and report.json with plots "
        "into DIR (needs the 'report' extra: matplotlib)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnverify",
        description="Check RNN optimizers against the theory claimed for them.",
    )
    _common(parser)
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="ID",
        help="verify only this built-in case (repeatable)",
    )
    sub = parser.add_subparsers(dest="command")
    check = sub.add_parser("check", help="verify one optimizer")
    check.add_argument("target", help="a built-in case id, or pkg.module:factory")
    _common(check, inherit=True)
    check.add_argument(
        "--problem",
        metavar="SPEC",
        help="replay exactly this problem, e.g. 'elman-tanh(n=1,m=1,p=1,T=2,B=1,"
        "loss=last,dtype=float64,seed=0)'",
    )
    sub.add_parser("list", help="list the claims")
    return parser


def _parse_seed(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--seed {text!r}: expected an integer") from None


def _parse_time_limit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or math.isnan(value):
        raise UsageError(f"--time-limit {text!r}: expected a number of seconds > 0")
    return value


def _parse_claims(items: Sequence[str]) -> list[ClaimRef]:
    refs = []
    for item in items:
        try:
            refs.append(ClaimRef.parse(item))
        except ValueError as exc:
            raise UsageError(f"--claim: {exc}") from None
    return refs


def _plan(target: str, claims: list[ClaimRef]) -> Plan:
    """The case and claims ``rnnverify check TARGET`` runs: :func:`rnnverify.testing.plan`
    (a built-in case id, or ``pkg.mod:attr`` naming a Case, an optimizer or a factory; an
    optimizer that declares no claims is held to the contract's), its ``ValueError`` as a
    usage error."""
    try:
        return plan(target, claims or None)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _print_verdicts(verdicts: list[Verdict], args: argparse.Namespace, elapsed: float) -> int:
    summary = summarize(verdicts)
    if args.json:
        print(json.dumps([v.to_json() for v in verdicts], indent=2))
    else:
        print(matrix(verdicts, width=shutil.get_terminal_size((120, 24)).columns))
        shown = [v for v in verdicts if args.verbose or v.status.failed]
        for v in shown:
            print()
            print(v.render())
        print()
        print(
            f"rnnverify: {summary.passed} held, {summary.failed} failed, "
            f"{summary.inapplicable} n.a., {summary.expected} known failures "
            f"({elapsed:.1f} s, profile {profiles.profile_name(args.profile)})"
        )
    return 0 if summary.ok else 1


class ProgressBar:
    """``[#####-----] 12/57 claim:target [optimizer]`` on one line of a terminal, redrawn
    in place after every verdict with the claim checked next; nothing until the run has
    lasted ``delay`` seconds, nothing at all unless ``stream`` is a TTY.

    ``labels`` are the claims in the order they run; :meth:`done` is the ``on_verdict``
    callback, :meth:`close` erases the line."""

    def __init__(
        self,
        labels: Sequence[str],
        stream: TextIO,
        *,
        enabled: bool = True,
        delay: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.labels, self.stream, self.delay, self.clock = list(labels), stream, delay, clock
        self.enabled = enabled and stream.isatty()
        self.count, self.start, self.drawn = 0, clock(), 0

    def done(self, _: Verdict | None = None) -> None:
        self.count += 1
        if self.enabled and self.clock() - self.start >= self.delay:
            self._draw()

    def _draw(self) -> None:
        total, k = len(self.labels), min(self.count, len(self.labels))
        filled = 20 * k // max(total, 1)
        current = self.labels[k] if k < total else "done"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        line = f"[{'#' * filled}{'-' * (20 - filled)}] {k}/{total} {current}"[:width]
        self.stream.write("\r" + line.ljust(self.drawn))
        self.stream.flush()
        self.drawn = len(line)

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    # --database is $RNNVERIFY_DATABASE for this run only (main() may run in-process)
    saved = os.environ.get(profiles.DATABASE_ENV_VAR)
    try:
        if args.database is not None:
            os.environ[profiles.DATABASE_ENV_VAR] = args.database
        return _main(args, argv)
    except UsageError as exc:
        print(f"rnnverify: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if saved is None:
            os.environ.pop(profiles.DATABASE_ENV_VAR, None)
        else:
            os.environ[profiles.DATABASE_ENV_VAR] = saved


def _selected(case: Case, claims: list[str] | None) -> list[str]:
    """Progress labels of the claims :func:`verify_case` checks, in its order."""
    return [
        f"{ref} [{case.id}]"
        for ref in case.claims
        if claims is None or ref.claim in claims or str(ref) in claims
    ]


def _finish(
    verdicts: list[Verdict], args: argparse.Namespace, argv: list[str], seed: int | None, t0: float
) -> int:
    """Print the verdicts; write the report when asked."""
    elapsed = time.perf_counter() - t0
    code = _print_verdicts(verdicts, args, elapsed)
    if args.report is not None:
        files = write_report(
            verdicts,
            args.report,
            profile=profiles.profile_name(args.profile),
            seed=seed,
            elapsed=elapsed,
            command=shlex.join(["rnnverify", *argv]),
        )
        print(
            f"rnnverify: report written to {files.html} ({len(files.plots)} plots; "
            f"{files.markdown.name}, {files.json.name})",
            file=sys.stderr,
        )
    return code


def _main(args: argparse.Namespace, argv: list[str]) -> int:
    try:
        profiles.profile_name(args.profile)
    except ValueError as exc:
        raise UsageError(f"--profile: {exc}") from None
    try:
        profiles.database(args.profile)  # a malformed location fails here, before any work
    except ValueError as exc:
        raise UsageError(f"--database: {exc}" if args.database is not None else str(exc)) from None
    seed = _parse_seed(args.seed)
    time_limit = _parse_time_limit(args.time_limit)
    claim_refs = _parse_claims(args.claim)

    if args.command == "list":
        for cid, claim in all_claims().items():
            print(f"{cid:<28} {claim.summary}")
        return 0

    if args.report is not None:  # before any work: the extra, and a writable directory
        try:
            require_matplotlib()
            prepare_directory(args.report)
        except ReportError as exc:
            raise UsageError(str(exc)) from None
    claims = [str(r) for r in claim_refs] or None
    t0 = time.perf_counter()
    if args.command == "check":
        chosen = _plan(args.target, claim_refs)
        case = chosen.case
        if args.problem is not None:
            try:
                spec = ProblemSpec.parse(args.problem)
            except ValueError as exc:
                raise UsageError(f"--problem: {exc}") from None
            refs = list(chosen.refs)
            verdicts = [
                replay(get_claim(r.claim), case.subject(r, time_limit=time_limit), spec)
                for r in refs
            ]
        else:
            selected_claims = [str(r) for r in chosen.refs]
            bar = _bar(args, _selected(case, selected_claims))
            try:
                verdicts = verify_case(
                    case,
                    claims=selected_claims,
                    profile=args.profile,
                    seed=seed,
                    time_limit=time_limit,
                    on_verdict=bar.done,
                    target=chosen.target,
                )
            finally:
                bar.close()
        return _finish(verdicts, args, argv, seed, t0)

    selected = cases()
    if args.case:
        known = {c.id: c for c in selected}
        for cid in args.case:
            if cid not in known:
                raise UsageError(f"--case {cid!r}: expected one of {list(known)}")
        selected = [known[cid] for cid in args.case]
    seed = 0 if seed is None else seed
    bar = _bar(args, [label for case in selected for label in _selected(case, claims)])
    verdicts = []
    try:
        for case in selected:
            verdicts += verify_case(
                case,
                claims=claims,
                profile=args.profile,
                seed=seed,
                time_limit=time_limit,
                on_verdict=bar.done,
            )
    finally:
        bar.close()
    return _finish(verdicts, args, argv, seed, t0)


def _bar(args: argparse.Namespace, labels: list[str]) -> ProgressBar:
    """The progress bar on stderr: on a TTY, never with ``--json``."""
    return ProgressBar(labels, sys.stderr, enabled=not args.json)


if __name__ == "__main__":
    sys.exit(main())
