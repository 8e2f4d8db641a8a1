"""Unit tests of the modReLU claims' numerics and of cayley.representation's measure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from properties.cayley import representation_measure
from properties.modrelu import jacobian_check
from rnnverify.activations import MODRELU
from rnnverify.manifolds import cayley
from rnnverify.optimizers.scornn import representation
from rnnverify.problems import haar
from tests.mutants_modrelu import modrelu_flipped_bias


@pytest.mark.parametrize("r, want", [(1e-3, (101.0, 1.0)), (0.1, (2.0, 1.0))])
def test_complex_singular_values_match_theory_table(r, want):
    """orthogonal.md §2.4: b = +0.1 gives (101, 1) at |z| = 1e-3 and (2, 1) at |z| = 0.1."""
    z = np.array([r * np.exp(0.7j)])
    res = jacobian_check(MODRELU.forward, z, np.array([0.1]))
    assert isinstance(res, dict) and res["usable"][0]
    np.testing.assert_allclose(res["measured"][0], want, rtol=1e-8)
    assert res["err"][0] <= res["tol"][0]


def test_reference_passes_everywhere_usable():
    rng = np.random.default_rng(0)
    z = (
        rng.standard_normal(400)
        * np.exp(1j * rng.uniform(0, 6.3, 400))
        * 10.0 ** rng.uniform(-4, 1, 400)
    )
    b = rng.uniform(-0.5, 0.5, 400)
    for zz in (z, z.real):
        res = jacobian_check(MODRELU.forward, zz, b)
        assert isinstance(res, dict)
        u = res["usable"]
        assert u.sum() > 300
        assert np.all(res["err"][u] <= res["tol"][u])


def test_flipped_bias_fails():
    z, b = np.array([0.5 + 0.2j]), np.array([-0.2])
    res = jacobian_check(modrelu_flipped_bias, z, b)
    assert isinstance(res, dict)
    assert res["err"][0] > 1e6 * res["tol"][0]
    assert abs(modrelu_flipped_bias(z, b)[0]) > abs(z[0])
    assert abs(MODRELU.forward(z, b)[0]) <= abs(z[0])


def test_points_near_kinks_are_skipped():
    """On |z| + b = 0 and at z = 0 (b > 0) no stencil fits; very small |z| with b > 0 is
    usable (relative step) and matches 1 + b/|z| ≈ 1e19."""
    z = np.array([0.3 + 0j, 0j, 1e-20 + 0j])
    res = jacobian_check(MODRELU.forward, z, np.array([-0.3, 0.1, 0.1]))
    assert isinstance(res, dict)
    assert res["usable"].tolist() == [False, False, True]
    assert np.all(np.isnan(res["tol"][:2]))
    assert res["err"][2] <= res["tol"][2]


def test_representation_bound_is_attained():
    """n = 2, W a rotation by π/2: both admissible D give |a₀₁| = 1 exactly (in exact
    arithmetic), which the rounding allowance must accept."""
    W = np.array([[0.0, -1.0], [1.0, 0.0]])
    A, d = representation(W)
    rep, max_a, tol_W, tol_a = representation_measure(W, A, d)
    assert rep <= tol_W.value
    assert max_a <= 1 + tol_a.value
    assert math.isclose(max_a, 1.0, rel_tol=1e-14)


def test_representation_of_det_minus_one_with_identity_D_is_not_finite_or_large():
    W = haar(4, False, np.random.default_rng(3))
    if np.linalg.det(W) > 0:
        W[:, 0] *= -1
    with np.errstate(all="ignore"):
        try:
            A = cayley(W)
        except np.linalg.LinAlgError:
            A = np.full_like(W, np.nan)
    _, max_a, _, tol_a = representation_measure(W, A, np.ones(4))
    assert not max_a <= 1 + tol_a.value
