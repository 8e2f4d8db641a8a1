"""The one failure format: :class:`Verdict`.

A verdict names the claim (id and doc page), the optimizer, the problem, the inequality,
every quantity of it (measured value, bound, violation, tolerance and its derivation), the
offending entry, the exact inputs and one command that reproduces it
(../DESIGN.md §Verdicts). Checks return verdicts; they never print or raise.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rnnverify.tolerance import Tolerance


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "FAIL"
    ERROR = "ERROR"  # the optimizer broke the contract (raised, NaN, hung, ...)
    NA = "n.a."  # the claim's precondition never held on the examples tried
    XFAIL = "xfail"  # a failure the case declares as known, with a reason
    XPASS = "XPASS"  # a declared known failure that passed: the declaration is stale

    @property
    def failed(self) -> bool:
        return self in (Status.FAIL, Status.ERROR, Status.XPASS)


def doc_path(claim_id: str) -> str:
    return f"docs/claims/{claim_id}.md"


def fmt(x: float | None) -> str:
    """``repr`` of a float: exact, round-trips."""
    if x is None:
        return "—"
    return repr(float(x))


def exact_repr(arrays: Mapping[str, Any]) -> str:
    """Arrays printed exactly (shortest round-tripping repr of every entry)."""
    lines = []
    for k, v in arrays.items():
        if isinstance(v, np.ndarray):
            body = np.array2string(
                v, separator=", ", floatmode="unique", threshold=10_000, max_line_width=100
            )
            lines.append(f"{k} = np.array({body}, dtype={v.dtype.name})")
        else:
            lines.append(f"{k} = {v!r}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one claim on one optimizer.

    Attributes
    ----------
    claim : str
        Stable claim id, e.g. ``"grad.taylor_slope"``.
    optimizer : str
        Readable id of the optimizer case, e.g. ``"sgd(lr=0.05)"``.
    status : Status
    summary : str
        One line: what was checked and what happened.
    target : str or None
        The parameter the claim is about (``W_hh`` in ``orthogonal.preserved:W_hh``).
    options : dict
        The claim's options (``drift=multiplicative``).
    problem : str or None
        The (minimal) problem, as a :class:`~rnnverify.problems.ProblemSpec` string.
    inequality : str
        The inequality checked, in symbols.
    measured, bound, violation : float or None
        Its two sides and by how much the measured side is on the wrong side.
    tolerance : Tolerance or None
    entry : str or None
        The offending parameter entry (``W_hh[0, 1]``) or step.
    quantities : dict
        Every other quantity of the inequality, by name.
    inputs : str or None
        The inputs printed exactly.
    reproduce : str or None
        One shell command that reproduces this verdict.
    examples, inapplicable : int
        How many examples were checked and on how many the precondition did not hold.
    figure : str
        Short measured figure for the verdict matrix.
    series : dict
        Per-step or per-point series for plots (e.g. Taylor errors against t).
    reason : str or None
        The declared reason of a known failure (XFAIL/XPASS).
    """

    claim: str
    optimizer: str
    status: Status
    summary: str = ""
    target: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None
    inequality: str = ""
    measured: float | None = None
    bound: float | None = None
    violation: float | None = None
    tolerance: Tolerance | None = None
    entry: str | None = None
    quantities: Mapping[str, float] = field(default_factory=dict)
    inputs: str | None = None
    reproduce: str | None = None
    examples: int = 0
    inapplicable: int = 0
    figure: str = ""
    series: Mapping[str, list[float]] = field(default_factory=dict)
    reason: str | None = None

    @property
    def doc(self) -> str:
        return doc_path(self.claim)

    @property
    def passed(self) -> bool:
        return not self.status.failed

    @property
    def claim_label(self) -> str:
        label = f"{self.claim}:{self.target}" if self.target else self.claim
        return label + "".join(f",{k}={v}" for k, v in sorted(self.options.items()))

    def with_status(self, status: Status, reason: str | None = None) -> Verdict:
        return replace(self, status=status, reason=reason)

    def one_line(self) -> str:
        """``FAIL grad.taylor_slope [sgd(lr=0.05)]: <summary>``."""
        return f"{self.status.value} {self.claim_label} [{self.optimizer}]: {self.summary}"

    def render(self) -> str:
        """The full multi-line report (every quantity, exact inputs, reproduce command)."""
        rows: list[tuple[str, str]] = [
            ("claim", f"{self.claim_label} — {self.doc}"),
            ("optimizer", self.optimizer),
            (
                "status",
                self.status.value + (f" (known failure: {self.reason})" if self.reason else ""),
            ),
            ("summary", self.summary),
        ]
        if self.problem:
            rows.append(("problem", self.problem))
        if self.inequality:
            rows.append(("inequality", self.inequality))
        if self.measured is not None or self.bound is not None:
            rows.append(("measured", fmt(self.measured)))
            rows.append(("bound", fmt(self.bound)))
        if self.violation is not None:
            rows.append(("violation", fmt(self.violation)))
        if self.tolerance is not None:
            rows.append(("tolerance", self.tolerance.describe()))
        if self.entry:
            rows.append(("entry", self.entry))
        for k, v in self.quantities.items():
            rows.append(
                (k, fmt(v) if isinstance(v, (float, int)) and not isinstance(v, bool) else str(v))
            )
        rows.append(
            ("examples", f"{self.examples} checked, {self.inapplicable} outside the precondition")
        )
        if self.reproduce:
            rows.append(("reproduce", self.reproduce))
        width = max(len(k) for k, _ in rows)
        out = [f"{k.ljust(width)} : {v}" for k, v in rows]
        if self.inputs:
            out.append("inputs (exact):")
            out.extend("    " + line for line in self.inputs.splitlines())
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable dict: non-finite floats as strings, complex numbers as
        ``{"re": …, "im": …}``, numpy scalars as Python numbers."""

        def clean(x: Any) -> Any:
            if isinstance(x, np.generic):
                x = x.item()
            if isinstance(x, complex):
                return {"re": clean(x.real), "im": clean(x.imag)}
            if isinstance(x, float) and not math.isfinite(x):
                return repr(x)
            return x

        return {
            "claim": self.claim,
            "target": self.target,
            "options": dict(self.options),
            "optimizer": self.optimizer,
            "status": self.status.value,
            "summary": self.summary,
            "problem": self.problem,
            "inequality": self.inequality,
            "measured": clean(self.measured),
            "bound": clean(self.bound),
            "violation": clean(self.violation),
            "tolerance": None
            if self.tolerance is None
            else {
                "value": clean(self.tolerance.value),
                "derivation": self.tolerance.derivation,
                "terms": {k: clean(float(v)) for k, v in self.tolerance.terms.items()},
            },
            "entry": self.entry,
            "quantities": {k: clean(v) for k, v in self.quantities.items()},
            "inputs": self.inputs,
            "reproduce": self.reproduce,
            "examples": self.examples,
            "inapplicable": self.inapplicable,
            "figure": self.figure,
            "doc": self.doc,
            "reason": self.reason,
            "series": {k: [clean(float(v)) for v in vs] for k, vs in self.series.items()},
        }
