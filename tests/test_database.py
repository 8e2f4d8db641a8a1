"""The example database: a counterexample is saved, and the next search of the same claim
on the same optimizer replays it first (locally, and through a shared Redis server)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis.database import DirectoryBasedExampleDatabase, InMemoryExampleDatabase
from hypothesis.extra.redis import RedisExampleDatabase

from rnnverify import profiles
from rnnverify.claims import Subject, verify
from rnnverify.contract import Optimizer
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.tree import Params
from rnnverify.verdict import Status

FAMILY = ProblemFamily(hidden=(1, 3), steps=(1, 3), batch=(1, 2))


def wide_ascent(lr: float = 0.05) -> Optimizer:
    """A gradient step that turns into an ascent step once ``W_hh`` is at least 2×2.
    Hypothesis's first example is its simplest problem (n = 1), where the step is
    correct: a search of one example finds the failure only by replaying a saved
    counterexample."""

    def init(problem: RNNProblem, params: Params) -> tuple[()]:
        return ()

    def step(problem: RNNProblem, params: Params, state: tuple[()]) -> tuple[Params, tuple[()]]:
        g = problem.grad(params)
        sign = -1.0 if params["W_hh"].shape[0] >= 2 else 1.0
        return {k: v - sign * lr * g[k] for k, v in params.items()}, state

    return Optimizer(init, step)


def search(max_examples: int | None = None, profile: str = "ci") -> tuple[Status, str | None]:
    """One search of ``descent.sufficient`` on a freshly built ``wide_ascent`` (a new
    function object each time: the database key must not depend on it)."""
    subject = Subject("wide_ascent", wide_ascent(), family=FAMILY)
    verdict = verify("descent.sufficient", subject, profile=profile, max_examples=max_examples)
    return verdict.status, verdict.problem


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", profiles.DATABASE_ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_profiles_choose_the_database(clean_env, tmp_path):
    assert profiles.database("ci") is None
    for name in ("dev", "thorough"):
        db = profiles.database(name)
        assert db == DirectoryBasedExampleDatabase(str(tmp_path / ".hypothesis" / "examples"))
    clean_env.setenv(profiles.DATABASE_ENV_VAR, str(tmp_path / "shared"))
    assert profiles.database("ci") == DirectoryBasedExampleDatabase(str(tmp_path / "shared"))
    clean_env.setenv(profiles.DATABASE_ENV_VAR, "redis://127.0.0.1:6399/2")
    db = profiles.database("ci")
    assert isinstance(db, RedisExampleDatabase)
    assert db.redis.connection_pool.connection_kwargs["port"] == 6399


def test_a_malformed_redis_url_is_named(clean_env):
    clean_env.setenv(profiles.DATABASE_ENV_VAR, "redis://127.0.0.1:port")
    with pytest.raises(
        ValueError, match=r"\$RNNVERIFY_DATABASE='redis://127.0.0.1:port': expected"
    ):
        profiles.database("ci")


def test_a_failure_is_saved_and_replayed_first(clean_env, tmp_path):
    clean_env.setenv(profiles.DATABASE_ENV_VAR, str(tmp_path / "db"))
    assert search(max_examples=1)[0] is Status.PASS  # an empty database: n = 1 only
    status, problem = search()
    assert status is Status.FAIL and problem is not None and "(n=2," in problem
    assert any((tmp_path / "db").iterdir())
    assert search(max_examples=1) == (Status.FAIL, problem)


def test_ci_keeps_no_database_without_the_variable(clean_env, tmp_path):
    assert search()[0] is Status.FAIL
    assert search(max_examples=1)[0] is Status.PASS
    assert not (tmp_path / ".hypothesis").exists()


def test_the_database_key_is_the_claim_and_optimizer(clean_env):
    """The saved example is fetched first, under a key naming the claim, the optimizer,
    its target and options."""

    class Recording(InMemoryExampleDatabase):
        def __init__(self) -> None:
            super().__init__()
            self.fetched: list[bytes] = []

        def fetch(self, key: bytes) -> Iterator[bytes]:
            self.fetched.append(key)
            yield from super().fetch(key)

    db = Recording()
    clean_env.setattr(profiles, "database", lambda explicit=None: db)
    search()
    key = b"rnnverify:wide_ascent|descent.sufficient|None|[]"
    assert key in db.data
    db.fetched.clear()
    assert search(max_examples=1)[0] is Status.FAIL
    assert db.fetched[0] == key


# ---------------------------------------------------------------------------------------
# Redis: one database shared by separate processes
# ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of our own on a free loopback port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


ROOT = Path(__file__).resolve().parents[1]
RUN = """
import sys
from tests.test_database import search
status, problem = search(max_examples=int(sys.argv[1]))
print(status.value, problem)
"""


def test_two_processes_share_counterexamples_through_redis(redis_url, tmp_path):
    def run(max_examples: int) -> str:
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(max_examples)],
            cwd=ROOT,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1", profiles.DATABASE_ENV_VAR: redis_url},
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        return out.stdout.strip()

    assert run(1).startswith("pass ")  # nothing shared yet: the simplest problem passes
    first = run(50)
    assert first.startswith("FAIL elman-") and "(n=2," in first
    assert redis.Redis.from_url(redis_url).keys(b"hypothesis-example:rnnverify:wide_ascent*")
    assert run(1) == first  # the second process replays the first one's counterexample
