"""The ``rnnverify`` command.

::

    rnnverify                              verify every built-in optimizer, print the matrix
    rnnverify check TARGET --claim ID      verify one optimizer (a case id or pkg.mod:factory)
    rnnverify check TARGET --claim ID --problem SPEC   replay one problem exactly
    rnnverify list                         the claims with their one-line theorem

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
import importlib
import json
import math
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any

from rnnverify import profiles
from rnnverify.api import matrix, summarize, verify_case
from rnnverify.claims import all_claims, get_claim, replay
from rnnverify.contract import DEFAULT_STEP_TIME_LIMIT, as_optimizer
from rnnverify.problems import ProblemFamily, ProblemSpec
from rnnverify.registry import Case, ClaimRef, cases, get_case
from rnnverify.verdict import Verdict


class UsageError(Exception):
    """A bad command-line value; the message names it and what was expected."""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        help=f"Hypothesis profile, one of {list(profiles.PROFILES)} "
        f"(default: ${profiles.ENV_VAR}, 'ci' under CI, else 'dev')",
    )
    p.add_argument("--seed", help="Hypothesis seed (an integer) for a reproducible search")
    p.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="ID[:TARGET]",
        help="check only this claim (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument(
        "--time-limit",
        default=str(DEFAULT_STEP_TIME_LIMIT),
        metavar="SECONDS",
        help="seconds one optimizer call may take before it is reported as hung",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print every verdict in full")


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
    _common(check)
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


def load_target(target: str) -> tuple[Any, str]:
    """Resolve ``pkg.mod:attr`` to an optimizer; ``attr`` is an optimizer or a factory
    called with no arguments. The current directory is importable, as for ``python -m``."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(
            f"target {target!r}: expected a built-in case id (see `rnnverify list`) or "
            "pkg.module:factory"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise UsageError(
            f"target {target!r}: cannot import module {module_name!r} ({type(exc).__name__}: {exc})"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"target {target!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if callable(getattr(obj, "init", None)) and callable(getattr(obj, "step", None)):
        return obj, target
    if not callable(obj):
        raise UsageError(
            f"target {target!r}: {attr!r} is a {type(obj).__name__}, expected an optimizer or "
            "a factory that returns one"
        )
    try:
        built = obj()
    except Exception as exc:
        raise UsageError(
            f"target {target!r}: calling {attr}() raised {type(exc).__name__}: {exc}"
        ) from None
    try:
        as_optimizer(built)
    except TypeError as exc:
        raise UsageError(f"target {target!r}: {attr}() returned {exc}") from None
    return built, target


def _case_for_target(target: str, claims: list[ClaimRef]) -> Case:
    try:
        case = get_case(target)
    except KeyError:
        case = None
    if case is not None:
        if not claims:
            return case
        made = {str(r) for r in case.claims} | {r.claim for r in case.claims}
        for ref in claims:
            if str(ref) not in made:
                raise UsageError(
                    f"--claim {str(ref)!r}: case {case.id} does not make it; it makes "
                    f"{[str(r) for r in case.claims]}"
                )
        return case
    optimizer, name = load_target(target)
    declared = getattr(optimizer, "claims", ())
    if not claims:
        try:
            claims = [ClaimRef.parse(c) if isinstance(c, str) else c for c in declared]
        except ValueError as exc:
            raise UsageError(f"target {target!r}: its declared claims: {exc}") from None
    if not claims:
        raise UsageError(
            f"target {target!r} declares no claims: pass --claim ID (see `rnnverify list`)"
        )
    family = getattr(optimizer, "problems", None) or ProblemFamily()
    if not isinstance(family, ProblemFamily):
        raise UsageError(
            f"target {target!r}: its 'problems' is {family!r}, expected a ProblemFamily"
        )
    return Case(lambda: optimizer, claims=tuple(claims), problems=family, id=name)


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


def _progress(enabled: bool) -> Any:
    def report(v: Verdict) -> None:
        if enabled:
            print(
                f"  {v.status.value:<5} {v.claim_label} [{v.optimizer}]",
                file=sys.stderr,
                flush=True,
            )

    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _main(args)
    except UsageError as exc:
        print(f"rnnverify: error: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    try:
        profiles.profile_name(args.profile)
    except ValueError as exc:
        raise UsageError(f"--profile: {exc}") from None
    seed = _parse_seed(args.seed)
    time_limit = _parse_time_limit(args.time_limit)
    claim_refs = _parse_claims(args.claim)
    progress = _progress(sys.stderr.isatty() and not args.json)

    if args.command == "list":
        for cid, claim in all_claims().items():
            print(f"{cid:<28} {claim.summary}")
        return 0

    t0 = time.perf_counter()
    if args.command == "check":
        case = _case_for_target(args.target, claim_refs)
        if args.problem is not None:
            try:
                spec = ProblemSpec.parse(args.problem)
            except ValueError as exc:
                raise UsageError(f"--problem: {exc}") from None
            refs = claim_refs or list(case.claims)
            verdicts = [
                replay(get_claim(r.claim), case.subject(r, time_limit=time_limit), spec)
                for r in refs
            ]
        else:
            verdicts = verify_case(
                case,
                claims=[str(r) for r in claim_refs] or None,
                profile=args.profile,
                seed=seed,
                time_limit=time_limit,
                on_verdict=progress,
            )
        return _print_verdicts(verdicts, args, time.perf_counter() - t0)

    selected = cases()
    if args.case:
        known = {c.id: c for c in selected}
        for cid in args.case:
            if cid not in known:
                raise UsageError(f"--case {cid!r}: expected one of {list(known)}")
        selected = [known[cid] for cid in args.case]
    verdicts = []
    for case in selected:
        verdicts += verify_case(
            case,
            claims=[str(r) for r in claim_refs] or None,
            profile=args.profile,
            seed=0 if seed is None else seed,
            time_limit=time_limit,
            on_verdict=progress,
        )
    return _print_verdicts(verdicts, args, time.perf_counter() - t0)


if __name__ == "__main__":
    sys.exit(main())
