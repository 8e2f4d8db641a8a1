"""The problem oracle: exact BPTT, specs, validation, kinks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, note

from properties.strategies import problem_specs
from rnnverify.problems import CELLS, ProblemFamily, ProblemSpec, make_problem, rng_for
from rnnverify.tree import axpy, inner, unit_direction

ALL_CELLS = ProblemFamily(cells=tuple(CELLS))


def directional_derivative_fd(problem, x, d, h=1e-6):
    return (problem.loss(axpy(h, d, x)) - problem.loss(axpy(-h, d, x))) / (2 * h)


@given(problem_specs(ALL_CELLS))
def test_bptt_matches_the_tangent_forward_pass_and_fd(spec):
    """⟨∇L, d⟩ from BPTT equals a central difference (h = 1e-6) to 1e-6 relative to
    max(|⟨∇L, d⟩|, ‖∇L‖): FD truncation is h²·|L'''| ≈ 1e-12 and rounding
    δ_f/h ≈ 1e-16·K·scale/1e-6 ≈ 1e-9 for these sizes (K ≤ 150, scale ≤ 1e2)."""
    problem = make_problem(spec)
    x = dict(problem.params0)
    g = problem.grad(x)
    d = unit_direction(x, rng_for(spec, 2))
    if problem.kink_step(x, d) < 1e-4:
        return
    fd = directional_derivative_fd(problem, x, d)
    an = inner(g, d)
    scale = max(abs(an), np.sqrt(inner(g, g)), 1e-3)
    note(f"fd={fd!r} analytic={an!r}")
    assert abs(fd - an) <= 1e-6 * scale


@pytest.mark.parametrize("cell, activation", [(c, a) for c in CELLS for a in CELLS[c]])
def test_gradient_has_the_parameters_shapes_and_dtypes(cell, activation):
    for dtype in ("float64", "float32"):
        p = make_problem(
            ProblemSpec(
                cell=cell,
                activation=activation,
                hidden=3,
                inputs=2,
                outputs=2,
                steps=4,
                batch=2,
                dtype=dtype,
                seed=1,
            )
        )
        g = p.grad(dict(p.params0))
        assert set(g) == set(p.params0)
        for k in g:
            assert g[k].shape == p.params0[k].shape
            assert g[k].dtype == p.params0[k].dtype
        assert isinstance(p.loss(dict(p.params0)), float)


def test_complex_gradient_convention_is_the_real_split_gradient():
    """G = ∂L/∂Re θ + i·∂L/∂Im θ: check both parts by real and imaginary central differences."""
    p = make_problem("complex-modrelu(n=2,m=1,p=1,T=3,B=1,loss=every,seed=5)")
    x = dict(p.params0)
    g = p.grad(x)
    h = 1e-6
    for unit, part in ((1.0, np.real), (1j, np.imag)):
        d = {k: np.zeros_like(v) for k, v in x.items()}
        d["W_hh"][0, 1] = unit
        fd = directional_derivative_fd(p, x, d, h)
        assert fd == pytest.approx(part(g["W_hh"][0, 1]), rel=1e-6, abs=1e-9)


def test_identity_cell_with_zero_recurrence_has_the_closed_form_gradient():
    """W_hh = 0, identity, T = 1: ŷ = V(Ux + b) + c, so ∂L/∂c = (ŷ − y)/B exactly."""
    p = make_problem("elman-identity(n=2,m=1,p=1,T=1,B=2,loss=last,seed=0)")
    x = dict(p.params0)
    x["W_hh"] = np.zeros_like(x["W_hh"])
    fwd = p.forward(x)
    g = p.grad(x)
    np.testing.assert_allclose(g["c"], (fwd.yhat[-1] - p.data.y).sum(axis=1) / 2, rtol=1e-15)


def test_spec_string_round_trips_and_bad_specs_name_the_value():
    spec = ProblemSpec(cell="complex", activation="modrelu", hidden=3, loss="every", seed=7)
    assert ProblemSpec.parse(str(spec)) == spec
    assert make_problem(str(spec)).spec == spec
    with pytest.raises(ValueError, match="'sigmoid'"):
        ProblemSpec(activation="sigmoid")
    with pytest.raises(ValueError, match="hidden=0"):
        ProblemSpec(hidden=0)
    with pytest.raises(ValueError, match="'q=1'"):
        ProblemSpec.parse("elman-tanh(q=1)")
    with pytest.raises(ValueError, match="expected CELL-ACTIVATION"):
        ProblemSpec.parse("tanh")
    with pytest.raises(ValueError, match="'x'"):
        ProblemSpec.parse("elman-tanh(n=x)")


def test_same_spec_same_problem_bitwise():
    a, b = make_problem("elman-relu(n=4,seed=3)"), make_problem("elman-relu(n=4,seed=3)")
    for k in a.params0:
        assert a.params0[k].tobytes() == b.params0[k].tobytes()
    assert a.data.x.tobytes() == b.data.x.tobytes()


def test_problem_arrays_are_frozen():
    p = make_problem("elman-tanh()")
    with pytest.raises(ValueError, match="read-only"):
        p.params0["W_hh"][0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        p.data.x[0, 0, 0] = 1.0


def test_validate_names_the_offending_entry():
    p = make_problem("elman-tanh(n=2)")
    x = dict(p.params0)
    with pytest.raises(ValueError, match="missing \\['c'\\]"):
        p.validate({k: v for k, v in x.items() if k != "c"})
    with pytest.raises(ValueError, match="W_hh: shape"):
        p.validate({**x, "W_hh": np.zeros((3, 3))})
    with pytest.raises(ValueError, match="b: dtype float32"):
        p.validate({**x, "b": x["b"].astype(np.float32)})


@pytest.mark.parametrize(
    "spec",
    [
        "elman-relu(n=3,T=4,seed=2)",
        "elman-modrelu(n=3,T=4,seed=2)",
        "complex-modrelu(n=3,T=4,seed=2)",
    ],
)
def test_kink_step_is_a_lower_bound_on_the_distance_to_a_kink(spec):
    """No unit crosses a kink for t below kink_step/2 (first-order bound with a safety 2),
    while some unit does cross one shortly above a large multiple of it."""
    p = make_problem(spec)
    x = dict(p.params0)
    d = unit_direction(x, np.random.default_rng(0))
    t_k = p.kink_step(x, d)
    assert 0 < t_k < np.inf

    def signs(t):
        xt = axpy(t, d, x)
        b = xt["b"][:, None]
        return [np.sign(k) for z in p.forward(xt).z for k in p.activation.kinks(z, b)]

    base = signs(0.0)
    for t in np.linspace(0, t_k / 2, 20):
        for s0, s1 in zip(base, signs(t), strict=True):
            assert np.array_equal(s0, s1)


def test_smooth_activations_have_no_kinks():
    p = make_problem("elman-tanh(n=3)")
    x = dict(p.params0)
    assert p.kink_step(x, unit_direction(x, np.random.default_rng(0))) == np.inf
