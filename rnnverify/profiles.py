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
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILES = ("dev", "ci", "thorough")
ENV_VAR = "RNNVERIFY_PROFILE"

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
