"""Hypothesis profiles: ``dev``, ``ci`` and ``thorough``.

Chosen, in order, by an explicit argument, the ``RNNVERIFY_PROFILE`` environment variable,
and CI detection (``CI``, or the copy tox ≥ 4.30 forwards as
``__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI``; tox strips ``CI`` itself, see
theory/anchors.md §2.3); otherwise ``dev``.

=========  ============  ===========  ==========================================
profile    max_examples  derandomize  for
=========  ============  ===========  ==========================================
dev        20            no           a quick local loop; failures saved in .hypothesis/
ci         50            yes          reproducible CI runs; prints the reproduce blob
thorough   400           no           nightly / before a release; targets worst cases
=========  ============  ===========  ==========================================

Numeric checks run whole trajectories per example, so every profile disables the
deadline and the ``too_slow`` health check.

Example database. A counterexample a search finds is saved and replayed first by the next
search of the same claim on the same optimizer (:func:`database`): under ``dev`` and
``thorough`` in ``.hypothesis/examples/`` below the current directory; under ``ci`` nowhere,
so that a CI run depends on nothing but the commit. ``RNNVERIFY_DATABASE`` overrides both:
a directory, or ``redis://HOST:PORT[/DB]`` for a database shared by several machines
(needs the ``redis`` package; docs/distributed.md).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

PROFILES = ("dev", "ci", "thorough")
ENV_VAR = "RNNVERIFY_PROFILE"
DATABASE_ENV_VAR = "RNNVERIFY_DATABASE"
DEFAULT_DATABASE = os.path.join(".hypothesis", "examples")
"""Where ``dev`` and ``thorough`` keep counterexamples, relative to the current directory
(Hypothesis's own default location)."""

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

settings.register_profile("dev", max_examples=20, **_COMMON)  # type: ignore[arg-type]
settings.register_profile(
    "ci",
    max_examples=50,
    derandomize=True,
    print_blob=True,
    database=None,
    **_COMMON,  # type: ignore[arg-type]
)
settings.register_profile("thorough", max_examples=400, **_COMMON)  # type: ignore[arg-type]


def in_ci() -> bool:
    return any(
        os.environ.get(name) not in (None, "", "0", "false", "False")
        for name in ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI")
    )


def profile_name(explicit: str | None = None) -> str:
    """The profile to use; raise ``ValueError`` naming an unknown one."""
    name = explicit or os.environ.get(ENV_VAR) or ("ci" if in_ci() else "dev")
    if name not in PROFILES:
        source = "argument" if explicit else f"${ENV_VAR}"
        raise ValueError(f"profile {name!r} (from {source}): expected one of {list(PROFILES)}")
    return name


def get(explicit: str | None = None) -> settings:
    """The Hypothesis settings object of the chosen profile."""
    return settings.get_profile(profile_name(explicit))


def database(explicit: str | None = None) -> ExampleDatabase | None:
    """The example database of the chosen profile, resolved now (the current directory
    and the environment of the call, not of the import).

    ``$RNNVERIFY_DATABASE`` wins: ``redis://HOST:PORT[/DB]`` gives a
    :class:`hypothesis.extra.redis.RedisExampleDatabase`, anything else a directory.
    Without it, ``ci`` has none and the other profiles use :data:`DEFAULT_DATABASE`.
    ``ValueError`` names a bad profile, a malformed URL or a missing ``redis`` package.
    """
    name = profile_name(explicit)
    location = os.environ.get(DATABASE_ENV_VAR, "")
    if location.startswith("redis://"):
        return _redis_database(location)
    if location:
        return DirectoryBasedExampleDatabase(location)
    if name == "ci":
        return None
    return DirectoryBasedExampleDatabase(os.path.join(os.getcwd(), DEFAULT_DATABASE))


def _redis_database(url: str) -> ExampleDatabase:
    try:
        from hypothesis.extra.redis import RedisExampleDatabase
        from redis import Redis
    except ImportError:
        raise ValueError(
            f"${DATABASE_ENV_VAR}={url!r}: a Redis database needs the redis package "
            "(pip install 'rnnverify[redis]')"
        ) from None
    try:
        client = Redis.from_url(url)
    except ValueError as exc:
        raise ValueError(
            f"${DATABASE_ENV_VAR}={url!r}: expected redis://HOST:PORT[/DB] ({exc})"
        ) from None
    return RedisExampleDatabase(client)
