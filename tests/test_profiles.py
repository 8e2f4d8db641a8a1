"""Profile selection: argument, environment variable, CI detection (also under tox)."""

from __future__ import annotations

import pytest
from hypothesis import settings

from rnnverify import profiles


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", profiles.ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_default_is_dev(clean_env):
    assert profiles.profile_name() == "dev"


def test_ci_is_detected_directly_and_through_tox(clean_env):
    clean_env.setenv("CI", "true")
    assert profiles.profile_name() == "ci"
    clean_env.delenv("CI")
    clean_env.setenv("__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "1")
    assert profiles.profile_name() == "ci"


def test_explicit_choice_wins(clean_env):
    clean_env.setenv("CI", "true")
    clean_env.setenv(profiles.ENV_VAR, "thorough")
    assert profiles.profile_name() == "thorough"
    assert profiles.profile_name("dev") == "dev"


def test_unknown_profile_names_the_value_and_its_source(clean_env):
    clean_env.setenv(profiles.ENV_VAR, "fast")
    with pytest.raises(ValueError, match="'fast' \\(from \\$RNNVERIFY_PROFILE\\)"):
        profiles.profile_name()


def test_profiles_differ_as_documented():
    dev, ci, thorough = (settings.get_profile(n) for n in profiles.PROFILES)
    assert dev.max_examples < ci.max_examples < thorough.max_examples
    assert ci.derandomize and ci.print_blob and ci.database is None
    assert all(p.deadline is None for p in (dev, ci, thorough))
