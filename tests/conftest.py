"""Test configuration: the Hypothesis profile, and strict numerics.

The profile comes from ``RNNVERIFY_PROFILE`` (tox sets it per environment: ``ci`` for the
test env, ``thorough`` for the nightly one) and applies both to our own ``@given`` tests
and to the searches the checks run.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import settings

from rnnverify import profiles

settings.load_profile(profiles.profile_name())


@pytest.fixture(autouse=True)
def strict_numerics() -> Iterator[None]:
    """Overflow, invalid operations and division by zero raise (underflow to subnormals
    is how tiny gradients legitimately end)."""
    with np.errstate(all="raise", under="ignore"):
        yield
