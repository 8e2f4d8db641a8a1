"""Wall time of the default ``rnnverify`` run (the main job), per Hypothesis profile.

Target (issue: foundation): the default run stays under 60 s on this 2-core machine.
Each repeat starts a fresh interpreter (``python -m rnnverify``), as a user's command
would, in an empty directory (so no local example database is replayed); the median of
the repeats is quoted. ``--report`` adds a row per profile with ``--report DIR`` (the
Markdown/HTML/JSON report and its plots: needs matplotlib). Never asserts on time.

    python bench/bench_cli.py [--quick] [--profiles dev,ci] [--report]
"""

from __future__ import annotations

import _common  # first: pins BLAS threads before numpy is imported anywhere

_common.pin_threads()

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def time_run(profile: str, report: bool) -> tuple[float, int, str]:
    with tempfile.TemporaryDirectory() as cwd:
        extra = ["--report", "report"] if report else []
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "rnnverify", "--profile", profile, *extra],
            capture_output=True, text=True, cwd=cwd,
        )
        elapsed = time.perf_counter() - t0
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-200:]
    return elapsed, proc.returncode, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat per profile")
    parser.add_argument("--profiles", default="dev,ci", help="comma-separated profiles")
    parser.add_argument("--report", action="store_true", help="also time --report DIR")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    rows, results = [], []
    variants = [False, True] if args.report else [False]
    for profile in args.profiles.split(","):
        for report in variants:
            times, code, last = [], 0, ""
            for _ in range(repeats):
                t, code, last = time_run(profile, report)
                times.append(t)
            median = statistics.median(times)
            label = profile + (" --report" if report else "")
            rows.append([label, f"{median:.1f}", f"{min(times):.1f}", f"{max(times):.1f}",
                         "yes" if median < 60 else "NO", code])
            results.append({"profile": profile, "report": report, "seconds": times,
                            "median_s": median, "exit_code": code, "summary": last})
    print(_common.format_table(
        ["run", "median s", "min s", "max s", "<60 s", "exit"], rows))
    note = _common.busy_note(_common.load_average(), [])
    if note:
        print(note)
    out = _common.RESULTS_DIR / ("cli-quick.json" if args.quick else "cli.json")
    _common.write_json(out, {"benchmark": "cli", "environment": _common.environment(),
                             "results": results})
    print(f"wrote {out.relative_to(_common.REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
