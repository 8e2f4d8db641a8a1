"""Verdicts serialize to JSON whatever their quantities hold."""

from __future__ import annotations

import json
import math

import numpy as np

from rnnverify.verdict import Status, Verdict


def test_to_json_takes_complex_numpy_and_non_finite_quantities():
    v = Verdict(
        claim="modrelu.nonexpansive",
        optimizer="scurnn(lr=0.05)",
        status=Status.FAIL,
        summary="s",
        quantities={
            "z": 1 + 2j,
            "zz": np.complex128(3 - 1j),
            "x": np.float64(0.5),
            "inf": math.inf,
            "k": np.int64(3),
        },
    )
    data = json.loads(json.dumps(v.to_json(), allow_nan=False))
    assert data["quantities"] == {
        "z": {"re": 1.0, "im": 2.0},
        "zz": {"re": 3.0, "im": -1.0},
        "x": 0.5,
        "inf": "inf",
        "k": 3,
    }
