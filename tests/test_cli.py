"""The command line: the default run, check, replay, list, and bad arguments."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from rnnverify.cli import main
from tests import mutants
from tests.helpers import check, subject


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_default_run_prints_the_verdict_matrix(capsys, tmp_path, monkeypatch):
    # in a fresh directory: the dev profile replays the counterexamples of a local example
    # database first (.hypothesis/examples), which is the user's state, not the commit's
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RNNVERIFY_DATABASE", raising=False)
    code, out, err = run_cli(capsys, "--profile", "dev")
    assert code == 0, out + err
    assert out.splitlines()[0].split()[0] == "claim"
    assert "sgd(lr=0.05)" in out and "rgd(lr=0.05)" in out  # a column or the legend
    for claim in (
        "contract.pure",
        "descent.sufficient",
        "grad.taylor_slope",
        "grad.finite_difference",
        "grad.sympy_bptt",
    ):
        row = next(line for line in out.splitlines() if line.startswith(claim))
        assert "pass" in row and "FAIL" not in row
    assert " 0 failed" in out.rstrip().splitlines()[-1]


def test_console_script_runs_as_a_module():
    proc = subprocess.run(
        [sys.executable, "-m", "rnnverify", "list"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "grad.taylor_slope" in proc.stdout


def test_reproduce_command_reproduces_the_failure(capsys, monkeypatch, tmp_path):
    """The printed command, pasted, gives the same failing verdict on the same problem."""
    verdict = check("grad.taylor_slope", subject(mutants.sgd_transposed_whh))
    argv = shlex.split(verdict.reproduce)
    assert argv[0] == "rnnverify"
    code, out, _ = run_cli(capsys, *argv[1:])
    assert code == 1
    assert "FAIL" in out and verdict.problem in out
    assert f"measured   : {verdict.measured!r}" in out


def test_reproduce_command_works_in_a_shell_from_the_project_root():
    verdict = check("descent.sufficient", subject(mutants.sgd_ascent))
    cmd = verdict.reproduce.replace("rnnverify ", f"{shlex.quote(sys.executable)} -m rnnverify ", 1)
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "not a descent direction" in proc.stdout


def test_check_a_builtin_case_and_json_output(capsys):
    code, out, _ = run_cli(
        capsys,
        "check",
        "sgd(lr=0.05)",
        "--claim",
        "grad.finite_difference",
        "--json",
        "--profile",
        "dev",
    )
    assert code == 0
    (verdict,) = json.loads(out)
    assert verdict["claim"] == "grad.finite_difference" and verdict["status"] == "pass"


def test_check_a_user_factory_by_import_path(capsys):
    code, out, _ = run_cli(
        capsys,
        "check",
        "tests.mutants:sgd_ascent",
        "--claim",
        "descent.sufficient",
        "--profile",
        "dev",
    )
    assert code == 1
    assert "FAIL" in out and "not a descent direction" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--profile", "fast"], "'fast'"),
        (["--seed", "x1"], "--seed 'x1': expected an integer"),
        (["--time-limit", "-3"], "--time-limit '-3'"),
        (["--case", "adam()"], "--case 'adam()'"),
        (["--claim", "grad.nope"], "unknown claim 'grad.nope'"),
        (["--claim", "Orthogonal"], "claim 'Orthogonal': expected CLAIM_ID"),
        (
            ["check", "no_such_module:f", "--claim", "grad.taylor_slope"],
            "cannot import module 'no_such_module'",
        ),
        (
            ["check", "tests.mutants:nothing", "--claim", "grad.taylor_slope"],
            "has no attribute 'nothing'",
        ),
        (
            ["check", "tests.mutants:CONTRACT_MUTANTS", "--claim", "grad.taylor_slope"],
            "expected a Case, an optimizer (init and step) or a factory",
        ),
        (["check", "tests.mutants", "--claim", "grad.taylor_slope"], "pkg.module:factory"),
        (
            ["check", "sgd(lr=0.05)", "--claim", "orthogonal.det_fixed:W_hh"],
            "sgd(lr=0.05)",
        ),
        (
            ["--database", "redis://:notaport"],
            "--database: $RNNVERIFY_DATABASE='redis://:notaport'",
        ),
        (
            ["check", "sgd(lr=0.05)", "--claim", "grad.taylor_slope", "--problem", "elman(n=2)"],
            "--problem: problem 'elman(n=2)'",
        ),
    ],
)
def test_bad_arguments_name_the_value(capsys, args, message):
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_list_shows_every_claim_with_its_theorem(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for claim in ("contract.pure", "descent.sufficient", "grad.sympy_bptt"):
        assert claim in out


def test_check_accepts_a_case_attribute_and_its_reproduce_command_names_it(
    capsys, tmp_path, monkeypatch
):
    (tmp_path / "userpkg.py").write_text(
        "from rnnverify import Case, refs\n"
        "from tests.mutants import sgd_ascent\n"
        "CASE = Case(sgd_ascent, claims=refs('descent.sufficient'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run_cli(capsys, "check", "userpkg:CASE", "--profile", "ci", "--json")
    verdicts = json.loads(out)
    assert code == 1
    failed = next(v for v in verdicts if v["claim"] == "descent.sufficient")
    assert failed["status"] == "FAIL"
    assert failed["reproduce"].startswith("rnnverify check userpkg:CASE --claim descent.sufficient")


def test_database_flag_saves_the_counterexample_there(capsys, tmp_path, monkeypatch):
    """Replay from the database is tested in tests/test_database.py; here: --database
    points the search at the given directory (and leaves the environment as it was)."""
    monkeypatch.delenv("RNNVERIFY_DATABASE", raising=False)
    db = tmp_path / "db"
    args = ("check", "tests.mutants:sgd_ascent", "--claim", "descent.sufficient", "--json")
    code, _, _ = run_cli(capsys, *args, "--profile", "dev", "--database", str(db))
    assert code == 1 and any(p.is_file() for p in db.rglob("*"))
    assert "RNNVERIFY_DATABASE" not in os.environ
