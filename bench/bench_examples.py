"""Hypothesis examples per second of each gradient claim (and the other built-in claims)
on the reference optimizer, over its whole problem family.

Each search runs a fixed number of examples (``max_examples``, derandomized by a seed) in
this process; examples/s = examples / wall time, median of the repeats. It is the rate at
which a profile's budget is spent: ``ci`` runs 50 examples a search. Never asserts.

    python bench/bench_examples.py [--quick]
"""

from __future__ import annotations

import _common  # first: pins BLAS threads before numpy is imported anywhere

_common.pin_threads()

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from rnnverify.claims import verify  # noqa: E402
from rnnverify.registry import cases_claiming  # noqa: E402

CLAIMS = ("grad.taylor_slope", "grad.finite_difference", "grad.sympy_bptt",
          "descent.sufficient", "contract.pure")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples and repeats")
    args = parser.parse_args()
    examples, repeats = (20, 1) if args.quick else (100, 3)
    rows, results = [], []
    for claim in CLAIMS:
        case = cases_claiming(claim)[0]
        ref = next(r for r in case.claims if r.claim == claim)
        if claim == "grad.sympy_bptt":  # fill the symbolic-derivation cache first
            verify(claim, case.subject(ref), profile="ci", seed=0, max_examples=examples)
        rates, counts = [], []
        for i in range(repeats):
            t0 = time.perf_counter()
            v = verify(claim, case.subject(ref), profile="ci", seed=i, max_examples=examples)
            rates.append(v.examples / (time.perf_counter() - t0))
            counts.append(v.examples)
        median = statistics.median(rates)
        rows.append([claim, case.id, f"{median:.0f}", f"{min(rates):.0f}", f"{max(rates):.0f}",
                     statistics.median(counts)])
        results.append({"claim": claim, "case": case.id, "examples_per_s": rates,
                        "median": median, "examples": counts})
    print(_common.format_table(
        ["claim", "case", "examples/s (median)", "min", "max", "examples"], rows))
    out = _common.RESULTS_DIR / ("examples-quick.json" if args.quick else "examples.json")
    _common.write_json(out, {"benchmark": "examples", "environment": _common.environment(),
                             "results": results})
    print(f"wrote {out.relative_to(_common.REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
