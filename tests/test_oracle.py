"""The problem oracle: exact BPTT, specs, validation, kinks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, note

from properties.strategies import problem_specs
from rnnverify.problems import (
    CELLS,
    PARAM_NAMES,
    ProblemFamily,
    ProblemSpec,
    make_problem,
    rng_for,
)
from rnnverify.tolerance import accumulation_length, gamma, loss_rounding
from rnnverify.tree import axpy, inner, unit_direction
from tests.mutants import BROKEN_MODRELU

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


# ---------------------------------------------------------------------------------------
# The vectorized BPTT against the straightforward one
# ---------------------------------------------------------------------------------------


def bptt_reference(problem, params):
    """Loss and gradient by BPTT one step at a time from the activation's ``vjp``, every
    sum accumulated step by step (the oracle's algorithm before it was vectorized): what
    ``value_and_grad`` must reproduce up to rounding."""
    s = problem.spec
    W, U, b, V, c = (params[k] for k in PARAM_NAMES)
    x, bb, act, n = problem.data.x, b[:, None], problem.activation, s.hidden
    w = problem._residual_weight()

    def phi(h):
        return np.concatenate([h.real, h.imag]) if s.is_complex else h

    zs, hs = [], [problem.data.h0]
    for t in range(s.steps):
        zs.append(W @ hs[t] + U @ x[t])
        hs.append(act.forward(zs[t], bb))
    loss = 0.0
    g = {k: np.zeros_like(v) for k, v in params.items()}
    gh = np.zeros_like(hs[0])  # ∂L/∂h_{t+1} through the later steps
    for t in reversed(range(s.steps)):
        y = problem._target(t)
        if y is not None:
            r = V @ phi(hs[t + 1]) + c[:, None] - y
            loss += 0.5 * w * float(np.sum(r * r))
            g["V"] += (w * r) @ phi(hs[t + 1]).T
            g["c"] += (w * r).sum(axis=1)
            gf = V.T @ (w * r)
            gh = gh + (gf[:n] + 1j * gf[n:] if s.is_complex else gf)
        gz, gb = act.vjp(zs[t], bb, gh)
        g["W_hh"] += gz @ hs[t].conj().T
        g["W_ih"] += gz @ x[t].T
        g["b"] += np.real(gb).sum(axis=1)
        gh = W.conj().T @ gz
    return loss, g


def assert_same_value_and_grad(problem, params, got, want):
    """``got`` and ``want`` are two evaluations of the same loss and gradient in the
    problem's dtype, differing only in the order of their sums: equal up to rounding.

    Gradient, entry i: each evaluation is a sum over T steps and B sequences of terms
    that each went through a chain of at most 2K roundings (K = accumulation_length,
    forward and backward) and are bounded by the largest gradient entry, so each is within
    γ_{2K}·T·B·(‖g‖_∞ + |g_i|) of the exact value (the model of grad.sympy_bptt), and the
    two within twice that. Loss: each within δ_f = loss_rounding, so the two within 2·δ_f.
    """
    __tracebackhide__ = True
    s = problem.spec
    (loss, g), (ref_loss, ref) = got, want
    assert isinstance(loss, float)
    d_f = loss_rounding(problem, params).value
    assert abs(loss - ref_loss) <= 2 * d_f, (
        f"{s}: loss {loss!r}, reference {ref_loss!r}: |difference| = {abs(loss - ref_loss)!r}"
        f" > 2·δ_f = {2 * d_f!r}"
    )
    gamma_2k = gamma(2 * accumulation_length(problem), s.real_dtype)
    rel = 2 * gamma_2k * s.steps * s.batch
    scale = max(float(np.max(np.abs(v))) for v in ref.values())
    assert set(g) == set(ref)
    for k in PARAM_NAMES:
        assert g[k].dtype == ref[k].dtype and g[k].shape == ref[k].shape, (
            f"{s}: {k} has dtype {g[k].dtype} shape {g[k].shape}, the reference "
            f"{ref[k].dtype} {ref[k].shape}"
        )
        err = np.abs(g[k] - ref[k]).astype(np.float64)
        tol = rel * (scale + np.abs(ref[k]).astype(np.float64))
        i = np.unravel_index(int(np.argmax(err - tol)), err.shape)
        assert np.all(err <= tol), (
            f"{s}: {k}{tuple(int(j) for j in i)}: value_and_grad {g[k][i]!r}, reference "
            f"{ref[k][i]!r}: |difference| = {err[i]!r} > {tol[i]!r} = 2·γ_2K·T·B·(‖ref‖_∞ + "
            f"|ref_i|) with γ_2K = {gamma_2k!r}, T·B = {s.steps * s.batch}, "
            f"‖ref‖_∞ = {scale!r}"
        )


REFERENCE_SPECS = [
    f"{cell}-{act}({sizes},loss={loss},dtype={dtype},seed=3)"
    for cell in CELLS
    for act in CELLS[cell]
    for loss in ("last", "every")
    for dtype in ("float64", "float32")
    for sizes in ("n=3,m=2,p=2,T=5,B=3", "n=1,m=1,p=1,T=1,B=1")
]


@pytest.mark.parametrize("spec", REFERENCE_SPECS)
def test_value_and_grad_equals_the_per_step_reference_bptt(spec):
    """Every cell and activation, both losses, both dtypes; through the activation's
    `jacobian` (the fast path) and, with `jacobian` removed, through its `vjp`."""
    problem = make_problem(spec)
    x = dict(problem.params0)
    want = bptt_reference(problem, x)
    assert_same_value_and_grad(problem, x, problem.value_and_grad(x), want)
    per_step = dataclasses.replace(problem.activation, jacobian=None)
    assert_same_value_and_grad(
        problem, x, make_problem(spec, activation=per_step).value_and_grad(x), want
    )


@pytest.mark.parametrize("cell", ["elman", "complex"])
def test_an_injected_activation_without_jacobian_is_honoured(cell):
    """A broken activation built from (name, forward, vjp, jvp, kinks), as the mutants
    are, changes the gradient exactly as its vjp says."""
    spec = f"{cell}-modrelu(n=3,m=2,p=2,T=4,B=3,loss=every,seed=2)"
    broken = make_problem(spec, activation=BROKEN_MODRELU)
    x = dict(broken.params0)
    assert_same_value_and_grad(broken, x, broken.value_and_grad(x), bptt_reference(broken, x))
    g_broken, g = broken.grad(x), make_problem(spec).grad(x)
    assert not np.allclose(g_broken["b"], g["b"]), "the broken bias derivative has no effect"


@pytest.mark.parametrize("spec", REFERENCE_SPECS[::2])
def test_the_loss_is_the_same_number_from_loss_forward_and_value_and_grad(spec):
    """Bitwise: the runner compares losses from these three entry points."""
    problem = make_problem(spec)
    x = dict(problem.params0)
    assert problem.loss(x) == problem.forward(x).loss == problem.value_and_grad(x)[0]


@pytest.mark.parametrize("cell, activation", [("elman", "tanh"), ("complex", "modrelu")])
def test_orthogonal_recurrent_init_is_orthogonal_and_keeps_the_other_parameters(cell, activation):
    """‖WᴴW − I‖_F ≤ 10·n·eps for Householder QR (PyTorch's parametrization test uses the
    same bound); the other parameters and the data come from the same streams as with a
    Gaussian W_hh."""
    for n in (1, 3, 8):
        spec = ProblemSpec(cell=cell, activation=activation, hidden=n, seed=4)
        ortho = ProblemSpec(**{**spec.__dict__, "recurrent": "orthogonal"})
        assert ProblemSpec.parse(str(ortho)) == ortho and "W=orthogonal" in str(ortho)
        a, b = make_problem(spec), make_problem(ortho)
        W = b.params0["W_hh"]
        err = np.linalg.norm(W.conj().T @ W - np.eye(n))
        assert err <= 10 * n * np.finfo(np.float64).eps
        for k in ("W_ih", "b", "V", "c"):
            np.testing.assert_array_equal(a.params0[k], b.params0[k])
