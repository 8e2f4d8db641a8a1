"""The pytest plugin, run on a user's project with pytester (each run a subprocess)."""

from __future__ import annotations

import re
import subprocess
from importlib.metadata import distribution

import pytest

pytest_plugins = ["pytester"]

# The plugin is registered by the package's pytest11 entry point (named after its module,
# so an explicit ``-p`` of the same name is a no-op); passing ``-p`` as well keeps these
# tests independent of which metadata the subprocess sees (an editable install, a stale
# egg-info). That the installed distribution declares the entry point is tested below.
PLUGIN = "rnnverify.pytest_plugin"
PLUGIN_ARGS = ("-p", PLUGIN)


def test_the_installed_distribution_registers_the_plugin():
    eps = distribution("rnnverify").entry_points
    assert any(ep.group == "pytest11" and ep.value == PLUGIN for ep in eps), eps


USER_MODULE = '''
"""A user's optimizers: a correct gradient step, and one with a sign typo that shows only
when W_hh is at least 2×2."""

from rnnverify import Optimizer


def my_sgd(lr=0.05):
    def init(problem, params):
        return ()

    def step(problem, params, state):
        g = problem.grad(params)
        return {k: v - lr * g[k] for k, v in params.items()}, state

    return Optimizer(init, step)


def broken_sgd(lr=0.05):
    def init(problem, params):
        return ()

    def step(problem, params, state):
        g = problem.grad(params)
        sign = -1.0 if params["W_hh"].shape[0] >= 2 else 1.0
        return {k: v - sign * lr * g[k] for k, v in params.items()}, state

    return Optimizer(init, step)


NOT_A_FACTORY = 3
'''


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user project: the optimizers and one ordinary test, checked under ``dev``."""
    for name in ("RNNVERIFY_OPTIMIZER", "RNNVERIFY_DATABASE", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RNNVERIFY_PROFILE", "dev")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    pytester.makepyfile(myopt=USER_MODULE, test_user="def test_user():\n    pass\n")
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider", *args)


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_without_options_the_plugin_adds_nothing(project):
    result = run(project, "--collect-only", "-q")
    assert collected(result) == ["test_user.py::test_user"]
    assert "--rnnverify-optimizer=PKG.MOD:FACTORY" in "\n".join(run(project, "--help").outlines)


def test_a_correct_optimizer_passes(project):
    result = run(
        project,
        "--rnnverify-optimizer=myopt:my_sgd",
        "--rnnverify-claims=descent.sufficient,contract.pure",
        "-v",
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "rnnverify::myopt:my_sgd-descent.sufficient PASSED*",
            "rnnverify::myopt:my_sgd-contract.pure PASSED*",
        ]
    )


def test_a_broken_optimizer_fails_with_a_counterexample_that_reproduces(project):
    result = run(
        project, "--rnnverify-optimizer=myopt:broken_sgd", "--rnnverify-claims=descent.sufficient"
    )
    result.assert_outcomes(passed=1, failed=1)
    out = "\n".join(result.outlines)
    # the minimal counterexample: the smallest problem with a 2×2 W_hh
    problem = re.search(r"^problem +: (.*)$", out, re.MULTILINE)
    assert problem is not None, out
    assert problem[1].startswith("elman-tanh(n=2,m=1,p=1,T=1,B=1,"), out
    result.stdout.fnmatch_lines(
        [
            "*_ rnnverify myopt:broken_sgd-descent.sufficient _*",
            "FAIL descent.sufficient [[]myopt:broken_sgd]: step 0 is not a descent direction*",
        ]
    )
    reproduce = re.search(r"^reproduce +: (.*)$", out, re.MULTILINE)
    assert reproduce is not None, out
    command = reproduce[1]
    assert command == (
        f"rnnverify check myopt:broken_sgd --claim descent.sufficient --problem '{problem[1]}'"
    )
    replay = subprocess.run(
        command, shell=True, cwd=project.path, capture_output=True, text=True, timeout=300
    )
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert f"problem     : {problem[1]}" in replay.stdout
    assert "status      : FAIL" in replay.stdout


def test_the_environment_variable_names_optimizers(project, monkeypatch):
    monkeypatch.setenv("RNNVERIFY_OPTIMIZER", "myopt:my_sgd, myopt:broken_sgd")
    result = run(project, "--collect-only", "-q")
    assert collected(result) == [
        "test_user.py::test_user",
        "rnnverify::myopt:my_sgd-contract.pure",  # no declared claims: the contract's
        "rnnverify::myopt:broken_sgd-contract.pure",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--rnnverify-optimizer=nomodule_xyz:f"],
            "ERROR: --rnnverify-optimizer: optimizer 'nomodule_xyz:f': cannot import module "
            "'nomodule_xyz' (ModuleNotFoundError: No module named 'nomodule_xyz')",
        ),
        (
            ["--rnnverify-optimizer=myopt:NOT_A_FACTORY"],
            "ERROR: --rnnverify-optimizer: optimizer 'myopt:NOT_A_FACTORY': a int, expected a "
            "Case, an optimizer (init and step) or a factory that returns one",
        ),
        (
            ["--rnnverify-optimizer=myopt:my_sgd", "--rnnverify-claims=descent.sufficent"],
            "ERROR: --rnnverify-claims='descent.sufficent': unknown claim 'descent.sufficent'; "
            "expected one of [[]*'descent.sufficient'*",
        ),
        (
            ["--rnnverify-claims=descent.sufficient"],
            "ERROR: --rnnverify-claims='descent.sufficient': expected --rnnverify-optimizer "
            "PKG.MOD:FACTORY (or $RNNVERIFY_OPTIMIZER) to check them on",
        ),
    ],
)
def test_bad_values_are_one_line_usage_errors(project, args, message):
    result = run(project, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert len([line for line in result.errlines if line.strip()]) == 1, result.errlines


def test_xdist_workers_collect_the_same_items(project):
    """xdist refuses to run when its workers collect different node ids; here two workers
    run the items and report the same outcomes as a serial run."""
    result = run(
        project,
        "-n",
        "2",
        "--rnnverify-optimizer=myopt:my_sgd",
        "--rnnverify-optimizer=myopt:broken_sgd",
        "--rnnverify-claims=descent.sufficient",
        "-v",
    )
    result.stdout.fnmatch_lines(["created: 2/2 workers"])
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*rnnverify::myopt:broken_sgd-descent.sufficient*"])
