"""Per-iteration cost against n of the orthogonal updates: Givens rotation, Cayley step,
Wisdom step, and the full Givens step including Ω = skew(QᵀG).

What is timed (theory/orthogonal.md §4.1, §1.1, §6.3), float64, one BLAS thread:

* ``givens_rotation`` — the two-column update itself, given (i, j) and Ω_ij:
  ``rotate_columns(Q, i, j, −η·Ω_ij)`` (a copy of Q plus ~6n flops; the copy is O(n²)
  memory traffic, the arithmetic O(n));
* ``givens_inplace`` — the same two-column update written into a preallocated buffer
  (no copy of Q): the O(n) arithmetic alone, what "linear cost" refers to;
* ``givens_full`` — the released code's step: Ω = skew(QᵀG) (an n×n product, O(n³)),
  Gauss–Southwell argmax, then the rotation;
* ``cayley`` — W = C(A)·D from A: one LU solve ``(I + A)⁻¹(I − A)`` and the product with
  the diagonal D (O(n³));
* ``wisdom`` — A = GWᵀ − WGᵀ and ``(I + (λ/2)A)⁻¹(I − (λ/2)A)W`` (three products and a
  solve, O(n³)).

The gradient G is a fixed random matrix (its cost, BPTT, is the same for every method
and is not timed). The exponent p of time ∝ n^p is a least-squares fit on log-log over
n ∈ {64, 128, 256, 512, 1024}. Never asserts on time (bench/README.md).

Usage: ``python bench/bench_orthogonal_cost.py [--quick] [--output PATH]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # imports no numpy: threads must be pinned before numpy loads

THREAD_ENV = _common.pin_threads()

import argparse  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import rnnverify.optimizers.givens  # noqa: E402
import rnnverify.optimizers.wisdom  # noqa: E402
from rnnverify.manifolds import cayley, haar, skew  # noqa: E402
from rnnverify.optimizers.givens import rotate_columns, select_pair  # noqa: E402
from rnnverify.optimizers.wisdom import cayley_retraction, wisdom_generator  # noqa: E402

SIZES = (64, 128, 256, 512, 1024)
QUICK_SIZES = (64, 128, 256)
RESULTS = _common.RESULTS_DIR / "orthogonal_cost.json"
RESULTS_QUICK = _common.RESULTS_DIR / "orthogonal_cost-quick.json"
LR = 0.05
METHODS = ("givens_rotation", "givens_inplace", "givens_full", "cayley", "wisdom")


def callables(n: int) -> dict[str, Callable[[], Any]]:
    rng = np.random.default_rng(n)
    Q = haar(n, False, rng)
    G = rng.standard_normal((n, n)) / n
    A = skew(rng.standard_normal((n, n)))
    D = np.where(np.arange(n) < n // 2, 1.0, -1.0)
    Omega = skew(Q.T @ G)
    i, j = select_pair(Omega, "gauss_southwell", 0, 0)
    w = float(Omega[i, j])

    work = Q.copy()
    c, s_ = np.cos(-LR * w), np.sin(-LR * w)

    def givens_inplace() -> Any:
        qi, qj = work[:, i].copy(), work[:, j]
        work[:, i] = c * qi - s_ * qj
        work[:, j] = s_ * qi + c * qj
        return work

    def givens_full() -> Any:
        Om = skew(Q.T @ G)
        a, b = select_pair(Om, "gauss_southwell", 0, 0)
        return rotate_columns(Q, a, b, -LR * float(Om[a, b]))

    return {
        "givens_rotation": lambda: rotate_columns(Q, i, j, -LR * w),
        "givens_inplace": givens_inplace,
        "givens_full": givens_full,
        "cayley": lambda: cayley(A) * D,
        "wisdom": lambda: cayley_retraction(Q, wisdom_generator(Q, G), LR),
    }


def fit_exponent(ns: list[int], ts: list[float]) -> float:
    """Least-squares slope of log t against log n."""
    slope, _ = np.polyfit(np.log(ns), np.log(ts), 1)
    return float(slope)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="n ≤ 256, 3 repeats of ≥ 0.02 s: a smoke test, do not quote",
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    output = args.output or (RESULTS_QUICK if args.quick else RESULTS)
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats, min_time = (3, 0.02) if args.quick else (5, 0.2)
    load_start = _common.load_average()
    medians: dict[str, list[float]] = {m: [] for m in METHODS}
    rows, records = [], []
    for n in sizes:
        print(f"  n = {n} ...", file=sys.stderr, flush=True)
        timings = _common.measure(callables(n), repeats=repeats, min_time=min_time)
        for m in METHODS:
            medians[m].append(timings[m].median)
        rows.append([n, *(f"{timings[m].median * 1e6:.1f}" for m in METHODS)])
        records.append({"n": n, **{m: timings[m].as_dict() for m in METHODS}})
    exps = {m: fit_exponent(list(sizes), medians[m]) for m in METHODS}
    rows.append(["exponent p", *(f"{exps[m]:.2f}" for m in METHODS)])
    print(_common.format_table(["n", *(f"{m} (µs)" for m in METHODS)], rows))
    last = len(sizes) - 1
    ratios = {
        "givens_rotation/wisdom": medians["givens_rotation"][last] / medians["wisdom"][last],
        "givens_rotation/cayley": medians["givens_rotation"][last] / medians["cayley"][last],
        "givens_inplace/wisdom": medians["givens_inplace"][last] / medians["wisdom"][last],
        "givens_inplace/cayley": medians["givens_inplace"][last] / medians["cayley"][last],
        "givens_full/wisdom": medians["givens_full"][last] / medians["wisdom"][last],
        "givens_full/cayley": medians["givens_full"][last] / medians["cayley"][last],
    }
    print(f"\nat n = {sizes[last]}: " + ", ".join(f"{k} = {v:.3g}" for k, v in ratios.items()))
    print(
        "givens_rotation: the two-column update given Ω_ij (O(n) flops + an O(n²) copy); "
        "givens_full: including Ω = skew(QᵀG) (O(n³)), as in the released code. "
        f"Median of {repeats} interleaved repeats, 1 thread."
        + ("  [--quick: smoke test, do not quote]" if args.quick else "")
    )
    note = _common.busy_note(
        max(
            (x for x in (load_start, _common.load_average()) if x), default=None, key=lambda x: x[0]
        ),
        (r[m]["spread"] for r in records for m in METHODS),
    )
    if note:
        print(note)
    payload = {
        "benchmark": "orthogonal_cost",
        "description": "per-iteration cost against n: Givens rotation (given Ω_ij), full "
        "Givens step (with Ω = skew(QᵀG)), Cayley C(A)D, Wisdom retraction",
        "settings": {
            "quick": args.quick,
            "sizes": list(sizes),
            "repeats": repeats,
            "min_time_s": min_time,
            "statistic": "median",
        },
        "environment": _common.environment(
            load_average_start=load_start,
            code=_common.file_digest(
                Path(rnnverify.optimizers.givens.__file__),
                Path(rnnverify.optimizers.wisdom.__file__),
            ),
        ),
        "summary": {"exponents": exps, "ratios_at_largest_n": ratios, "note": note},
        "results": records,
    }
    print(f"wrote {_common.write_json(output, payload)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
