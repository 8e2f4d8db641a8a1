"""docs/tutorial.md runs as written: its files are written, its Python blocks run as one
script, and its shell commands run in order, in an empty directory.

Blocks: ```python starting with ``# file: NAME`` is written to NAME; any other ```python
block is part of the script; every line of a ```bash block is a command that must exit 0,
or N when it ends with ``# exits N``. ```text and ```ini blocks are shown, not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
EXITS = re.compile(r"\s+# exits (\d+)$")
PLUGIN = "rnnverify.pytest_plugin"


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(TUTORIAL.read_text()) if lang == language]


def files() -> dict[str, str]:
    out = {}
    for body in blocks("python"):
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            out[first.removeprefix("# file: ").strip()] = rest
    return out


def script() -> str:
    return "\n".join(b for b in blocks("python") if not b.startswith("# file: "))


def commands() -> list[tuple[str, int]]:
    out = []
    for body in blocks("bash"):
        for line in filter(None, (ln.strip() for ln in body.splitlines())):
            m = EXITS.search(line)
            out.append((line[: m.start()] if m else line, int(m[1]) if m else 0))
    return out


def test_the_tutorial_has_what_the_test_runs():
    assert set(files()) == {"myopt.py", "buggy.py", "test_myopt.py"}
    assert "rnnverify.check(" in script() and "verdict.reproduce" in script()
    assert [code for _, code in commands()] == [0, 1, 0, 0, 1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The reader's environment: an empty directory, the quick ``dev`` profile, and the
    pytest plugin loaded: by its entry point for the reader, here also by ``-p`` (a no-op
    then), so the test does not depend on which metadata the subprocess sees (an editable
    install); tests/test_plugin.py checks the entry point itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RNNVERIFY_", "PYTEST_"))}
    env["RNNVERIFY_PROFILE"] = "dev"
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["PYTEST_ADDOPTS"] = f"-p {PLUGIN}"
    for name, text in files().items():
        (tmp_path / name).write_text(text)
    return env


def test_the_python_blocks_run(tmp_path, env):
    (tmp_path / "tutorial.py").write_text(script())
    done = subprocess.run(
        [sys.executable, "tutorial.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "status      : FAIL" in done.stdout


@pytest.mark.parametrize(("command", "code"), commands(), ids=[c for c, _ in commands()])
def test_the_shell_commands_run(tmp_path, env, command, code):
    done = subprocess.run(
        command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == code, done.stdout + done.stderr
