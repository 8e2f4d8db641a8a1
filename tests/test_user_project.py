"""A new user's first session, for real: a project (``tests/user_project``: the package
``mypkg`` with a numpy, a torch and an optax optimizer and a broken numpy one) with the
``tox.ini`` template of docs/pytest.md runs ``tox -e rnnverify``, sees the broken optimizer
fail with its minimal counterexample, pastes the printed reproduce command into a shell,
and opens the HTML report of the failure (docs/report.md) in a browser.

The inner tox environment installs this checkout, ``rnnverify[optax,report,torch] @
file://<repo root>``, with torch and jax, like any user's environment; it is the only
change to the template besides the list of optimizers. It does not reuse the packages of
the environment running this test: ``system_site_packages`` would expose the *base*
interpreter's site-packages (virtualenv's meaning of "system"), not this environment's,
and tox refuses the template's ``pytest`` command when the script lives outside its
environment ("pytest is not allowed, use allowlist_externals").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The inner environment installs the torch and optax extras, so this test runs where they
# are installed: the `adapters` tox env, which sets RNNVERIFY_REQUIRE_ADAPTERS=1 (a missing
# package fails there) and needs tox itself. Elsewhere it is skipped like the adapter tests.
if os.environ.get("RNNVERIFY_REQUIRE_ADAPTERS"):
    import jax  # noqa: F401
    import optax  # noqa: F401
    import torch  # noqa: F401
    import tox  # noqa: F401
else:
    for _name, _why in [
        ("torch", "pip install 'rnnverify[torch]'"),
        ("jax", "pip install 'rnnverify[optax]'"),
        ("optax", "pip install 'rnnverify[optax]'"),
        ("tox", "pip install tox"),
    ]:
        pytest.importorskip(_name, reason=f"{_name} not installed: {_why}")

from tests.test_report import CHROMIUM, render

ROOT = Path(__file__).resolve().parents[1]
PROJECT = Path(__file__).with_name("user_project")
PYTEST_DOC = ROOT / "docs" / "pytest.md"
TEMPLATE = re.compile(r"^## A `tox\.ini` template\n.*?^```ini\n(.*?)^```$", re.M | re.S)

MODULE = "mypkg.opt"
OPTIMIZERS = ("my_sgd", "torch_sgd", "optax_sgd", "broken_sgd")
BROKEN = f"{MODULE}:broken_sgd"
CLAIMS = "contract.pure,descent.sufficient"
# the smallest problem on which broken_sgd's typo shows: a 2×2 W_hh, every other size 1
MINIMAL = "elman-tanh(n=2,m=1,p=1,T=1,B=1,"
OUTCOMES = "PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS"  # pytest -rA's short summary
TIMEOUT = 1800  # seconds: the first run installs torch and jax into the tox environment


def substitute(pattern: str, replacement: str, text: str) -> str:
    """``text`` with the one line matching ``pattern`` replaced: a template whose line
    changed shape fails here, naming the pattern."""
    out, count = re.subn(pattern, replacement, text, flags=re.M)
    assert count == 1, f"docs/pytest.md template: {count} lines match {pattern!r}\n{text}"
    return out


def user_tox_ini(source: Path) -> str:
    """The template of docs/pytest.md with the project's optimizers and rnnverify from
    ``source`` (a copy of this checkout)."""
    match = TEMPLATE.search(PYTEST_DOC.read_text(encoding="utf-8"))
    assert match is not None, "docs/pytest.md: no ```ini block under '## A `tox.ini` template'"
    ini = substitute(
        r"^(\s*RNNVERIFY_OPTIMIZER\s*=).*$",
        r"\1 " + " ".join(f"{MODULE}:{name}" for name in OPTIMIZERS),
        match[1],
    )
    return substitute(
        r"^(\s+)rnnverify$", rf"\1rnnverify[optax,report,torch] @ {source.as_uri()}", ini
    )


def user_env(extra_path: Path | None = None) -> dict[str, str]:
    """The user's shell: none of the tox, pytest or virtualenv variables of the run that
    runs this test, no optimizer list and no shared example database (the project keeps
    its own under ``.hypothesis/``); ``extra_path`` first on ``PATH``."""
    drop = ("TOX_", "PYTEST_", "VIRTUAL_ENV", "RNNVERIFY_OPTIMIZER", "RNNVERIFY_DATABASE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    if extra_path is not None:
        env["PATH"] = f"{extra_path}{os.pathsep}{env.get('PATH', '')}"
    return env


def shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def field(name: str, text: str) -> str:
    """The value of the verdict line ``name : value`` in ``text``: one value, though the
    verdict may be printed twice (under CI, pytest's short summary repeats the whole
    failure message instead of its first line)."""
    values = set(re.findall(rf"^{name} +: (.*)$", text, re.M))
    assert len(values) == 1, f"{len(values)} different '{name}' values in:\n{text}"
    return str(values.pop())


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """The user's project in ``tmp_path``; its tox environment (torch and jax, 1.5 GB) is
    removed afterwards."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    # pip builds a local directory in place (build/, *.egg-info): install from a copy of
    # the sources, so the checkout under test is left as it was
    source = tmp_path / "rnnverify-src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".tox", ".ci", "build", "*.egg-info", ".hypothesis", "__pycache__",
            ".mypy_cache", ".ruff_cache", ".pytest_cache",
        ),
    )  # fmt: skip
    (root / "tox.ini").write_text(user_tox_ini(source), encoding="utf-8")
    yield root
    shutil.rmtree(root / ".tox", ignore_errors=True)


def test_a_users_tox_run_finds_reproduces_and_reports_the_broken_optimizer(project, tmp_path):
    # 1. tox -e rnnverify, narrowed to two claims as docs/pytest.md shows; -rA lists every
    # item's outcome in the short summary
    tox_run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tox",
            "-e",
            "rnnverify",
            "--",
            f"--rnnverify-claims={CLAIMS}",
            "-rA",
        ],
        cwd=project,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    out = tox_run.stdout + tox_run.stderr
    assert tox_run.returncode == 1, out
    outcomes = {
        node: outcome for outcome, node in re.findall(rf"^({OUTCOMES}) (rnnverify::\S+)", out, re.M)
    }
    expected = {
        f"rnnverify::{MODULE}:{o}-{c}": "PASSED" for o in OPTIMIZERS for c in CLAIMS.split(",")
    }
    expected[f"rnnverify::{BROKEN}-descent.sufficient"] = "FAILED"
    assert outcomes == expected, out

    # the minimal counterexample and the command that replays it
    assert field("claim", out).startswith("descent.sufficient "), out
    assert field("status", out) == "FAIL", out
    problem = field("problem", out)
    assert problem.startswith(MINIMAL), out
    reproduce = field("reproduce", out)
    assert reproduce == f"rnnverify check {BROKEN} --claim descent.sufficient --problem '{problem}'"

    # 2. the command pasted into a shell in the project, the tox environment's bin on PATH
    bin_dir = project / ".tox" / "rnnverify" / "bin"
    env = user_env(extra_path=bin_dir)
    assert shutil.which("rnnverify", path=env["PATH"]) == str(bin_dir / "rnnverify")
    replay = shell(reproduce, project, env)
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert field("problem", replay.stdout) == problem, replay.stdout
    assert field("status", replay.stdout) == "FAIL", replay.stdout

    # 3. the report of the failure (docs/report.md): the search starts from the example
    # database the tox run left in the project, so it fails on the same problem
    report_command = f"rnnverify check {BROKEN} --claim descent.sufficient --report out"
    report = shell(report_command, project, env)
    assert report.returncode == 1, report.stdout + report.stderr
    out_dir = project / "out"
    data = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    [verdict] = data["verdicts"]
    assert (verdict["status"], verdict["problem"]) == ("FAIL", problem), verdict
    assert verdict["reproduce"] == reproduce
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert problem in page and reproduce in page
    # the plots are the failing claim's (docs/report.md: a failing verdict's series are
    # those of the shrunk counterexample), at least its loss against step k
    plots = data["plots"]
    assert {p["row"] for p in plots} == {"descent.sufficient"}, f"no plot of the failure: {plots}"
    assert "loss" in {p["kind"] for p in plots}, plots
    # every plot inlined, and nothing else loaded: a src or href is a data: URI or a
    # fragment
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sum(s.startswith("data:image/png;base64,") for s in sources) == len(plots), sources
    assert all(s.startswith(("data:", "#")) for s in sources), sources

    # 4. the page in a browser: the matrix table, every image decoded
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium): steps 1-3 passed")
    dom = render(page, tmp_path)
    n = len(plots)
    assert f'data-images="{n}/{n}"' in dom, re.findall(r'data-images="[^"]*"', dom)
    assert '<table id="matrix">' in dom
