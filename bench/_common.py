"""Shared helpers of the benchmarks in ``bench/``: thread pinning, timing, output.

Every benchmark follows the same recipe, so that their numbers can be read the same way:

1. :func:`pin_threads` *before* numpy (or torch) is imported: one BLAS/OpenMP thread, so
   that a comparison is not decided by who grabs more cores on a shared machine.
2. :func:`measure` the callables to compare, in the same run, with interleaved repeats
   (``timeit`` style: each repeat is ``number`` calls, ``number`` chosen by autorange so
   a repeat lasts at least ``min_time`` seconds; the garbage collector is off inside a
   repeat, as in ``timeit``).
3. Quote the **median** per-call time of the repeats and ratios of medians; never assert
   on a time. :func:`format_table` prints, :func:`write_json` records the run.

This module imports nothing heavy at import time (in particular not numpy), so a
benchmark can import it before pinning threads.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
REPO_ROOT = BENCH_DIR.parent

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def pin_threads() -> dict[str, str]:
    """Set every BLAS/OpenMP thread-count variable to 1; return what was set.

    Must run before numpy (or any BLAS user) is first imported: the libraries read
    these variables once, when they load. Raises ``RuntimeError`` if numpy is already
    imported without the variables set, because then the setting would silently have
    no effect; a second call after a first one (a benchmark importing another) is fine.
    """
    pinned = all(os.environ.get(var) == "1" for var in THREAD_ENV_VARS)
    if "numpy" in sys.modules and not pinned:
        raise RuntimeError(
            "pin_threads() called after numpy was imported; call it first thing in the "
            "benchmark, before any import that pulls in numpy"
        )
    for var in THREAD_ENV_VARS:
        os.environ[var] = "1"
    return {var: os.environ[var] for var in THREAD_ENV_VARS}


# -- timing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Per-call times of one callable.

    Attributes
    ----------
    number : int
        Calls per repeat (chosen by :func:`autorange`).
    per_call : tuple of float
        Seconds per call, one entry per repeat (repeat time / ``number``).
    """

    number: int
    per_call: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.per_call)

    @property
    def best(self) -> float:
        return min(self.per_call)

    @property
    def spread(self) -> float:
        """(max − min) / median of the repeats: how noisy this measurement was."""
        return (max(self.per_call) - min(self.per_call)) / self.median

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_s": self.median,
            "best_s": self.best,
            "spread": self.spread,
            "number": self.number,
            "repeats": len(self.per_call),
            "per_call_s": list(self.per_call),
        }


def _run(fn: Callable[[], object], number: int) -> float:
    """Wall time of ``number`` calls of ``fn``, garbage collector off (as ``timeit``)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - t0
    finally:
        if gc_was_enabled:
            gc.enable()


def autorange(fn: Callable[[], object], min_time: float) -> int:
    """Smallest ``number`` in 1, 2, 5, 10, 20, 50, ... whose run lasts ``>= min_time``.

    The same sequence as ``timeit.Timer.autorange``; the trial runs double as warm-up.
    """
    if not min_time > 0:
        raise ValueError(f"min_time={min_time!r}: expected a positive number of seconds")
    scale = 1
    while True:
        for k in (1, 2, 5):
            number = k * scale
            if _run(fn, number) >= min_time:
                return number
        scale *= 10


def measure(
    fns: Mapping[str, Callable[[], object]],
    *,
    repeats: int = 7,
    min_time: float = 0.2,
) -> dict[str, Timing]:
    """Time several callables against each other in the same run.

    Each callable gets its own ``number`` of calls per repeat (autorange to
    ``min_time``); the repeats are interleaved (A, B, A, B, ...) so that a slow spell of
    the machine hits every callable alike instead of biasing the ratio.
    """
    if repeats < 1:
        raise ValueError(f"repeats={repeats!r}: expected at least 1")
    if not fns:
        raise ValueError("fns={}: expected at least one callable to time")
    numbers = {name: autorange(fn, min_time) for name, fn in fns.items()}
    per_call: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            per_call[name].append(_run(fn, numbers[name]) / numbers[name])
    return {name: Timing(numbers[name], tuple(per_call[name])) for name in fns}


# -- output ------------------------------------------------------------------------------


def format_table(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, align: str | None = None
) -> str:
    """A plain-text table (Markdown pipe syntax, so it pastes into issues and docs).

    ``align`` has one character per column, ``"l"`` or ``"r"`` (default: first column
    left, the others right).
    """
    body = [[str(c) for c in row] for row in rows]
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align={align!r}: expected {len(header)} characters from 'l', 'r'")
    for row in body:
        if len(row) != len(header):
            raise ValueError(f"row {row!r}: {len(row)} cells, expected {len(header)}")
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
              for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) if a == "l" else c.rjust(w)
                  for c, w, a in zip(cells, widths, align, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        ("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2))
        for w, a in zip(widths, align, strict=True)
    ) + "|"
    return "\n".join([line(list(header)), rule, *(line(r) for r in body)])


def file_digest(*paths: Path) -> dict[str, str]:
    """Short sha256 of each file, so a result names the exact code it measured."""
    out = {}
    for p in paths:
        rel = p.resolve().relative_to(REPO_ROOT) if p.resolve().is_relative_to(REPO_ROOT) else p
        out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
    return out


def environment(**extra: Any) -> dict[str, Any]:
    """Where and how the benchmark ran: interpreter, platform, CPU count, thread variables,
    versions of numpy (and of anything passed in ``extra``), the command line, the time."""
    import numpy as np  # the caller has pinned threads by now

    env: dict[str, Any] = {
        "timestamp_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or _cpu_model(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "thread_env": {v: os.environ.get(v) for v in THREAD_ENV_VARS},
        "load_average_end": load_average(),
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        env["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # show_config's layout is not a stable API; the record is optional
        env["numpy_blas"] = None
    env.update(extra)
    return env


def load_average() -> list[float] | None:
    """1-, 5- and 15-minute load averages (``None`` where the OS has none): a busy
    machine is the usual reason for a large spread between repeats."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def busy_note(load: list[float] | None, spreads: Iterable[float], *, max_spread: float = 0.1
              ) -> str | None:
    """A warning to print under the table when the run looks disturbed: the 1-minute load
    reached the number of CPUs (someone else was running), or some measurement's
    repeats spread by more than ``max_spread`` of its median. ``None`` if neither."""
    worst = max(spreads, default=0.0)
    cpus = os.cpu_count() or 1
    reasons = []
    if load is not None and load[0] >= cpus:
        reasons.append(f"1-minute load {load[0]} on {cpus} CPUs")
    if worst > max_spread:
        reasons.append(f"repeats spread up to {worst:.0%} of the median")
    if not reasons:
        return None
    return ("note: the machine looks busy (" + "; ".join(reasons) + "); medians resist "
            "some noise, but rerun on a quiet machine before quoting these numbers")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def write_json(path: Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` as indented JSON to ``path`` (parents created); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path
