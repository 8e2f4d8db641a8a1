"""The optax adapter: optax gradient transformations checked under the contract, with the
claims biting through it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import numpy as np
import pytest

# jax and optax are an optional extra. Without them these tests are skipped (a plain `tox`
# run, whose env does not install them: the skip names the missing package). The `adapters`
# tox env installs the extras and sets RNNVERIFY_REQUIRE_ADAPTERS=1: there a missing package
# must fail the run, not silently skip every test of the adapter.
if os.environ.get("RNNVERIFY_REQUIRE_ADAPTERS"):
    import jax
    import optax
else:
    jax = pytest.importorskip("jax", reason="jax not installed: pip install 'rnnverify[optax]'")
    optax = pytest.importorskip(
        "optax", reason="optax not installed: pip install 'rnnverify[optax]'"
    )

from rnnverify.adapters import from_optax
from rnnverify.contract import run
from rnnverify.problems import ProblemFamily, make_problem
from rnnverify.tolerance import gamma
from rnnverify.verdict import Status
from tests.helpers import ALL_CELLS, check, subject
from tests.user_examples import optax_opts

BOTH_DTYPES = ProblemFamily(cells=("elman", "complex"), dtypes=("float64", "float32"))
FLOAT32 = ProblemFamily(cells=("elman", "complex"), dtypes=("float32",))
COMPLEX = ProblemFamily(cells=("complex",))


@pytest.fixture(autouse=True)
def x64(request: pytest.FixtureRequest) -> Iterator[None]:
    """JAX's 64-bit mode on (the problems are float64 by default), restored afterwards;
    ``@pytest.mark.parametrize("x64", [False], indirect=True)`` turns it off."""
    wanted = getattr(request, "param", True)
    before = bool(jax.config.read("jax_enable_x64"))
    jax.config.update("jax_enable_x64", wanted)
    yield
    jax.config.update("jax_enable_x64", before)


def test_a_missing_optax_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optax", None)  # `import optax` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'rnnverify\[optax\]'"):
        from_optax(None)


def test_not_a_transformation_names_the_value():
    with pytest.raises(TypeError, match="tx=42"):
        from_optax(42)


@pytest.mark.parametrize("momentum", [None, optax_opts.MOMENTUM], ids=["sgd", "momentum"])
@pytest.mark.parametrize(
    "spec",
    [
        "elman-tanh(n=3,m=2,p=1,T=3,B=2,loss=last,seed=1)",
        "elman-relu(n=5,m=3,p=2,T=6,B=3,loss=every,seed=4)",
        "complex-modrelu(n=3,m=2,p=2,T=4,B=2,loss=every,seed=3)",
        "elman-tanh(n=4,m=2,p=2,T=3,B=2,loss=last,dtype=float32,seed=2)",
    ],
)
def test_iterates_equal_the_numpy_reference_of_heavy_ball(spec, momentum):
    """``optax.sgd(η, momentum=β)`` is ``t ← g + β·t``, ``u = (−η)·t``, ``θ ← θ + u``
    (``β = 0`` without momentum, no trace state). At every step, from the adapter's own
    (θ_k, t_k), numpy computes the same three operations. Each side rounds at most
    twice for t (γ₂·S, S = |g| + β|t_k|), once more for u, once for the sum, and once for
    η cast to the parameters' dtype: each is within γ₁|θ_k| + η·γ₄·S of the exact step,
    so the two differ by at most twice that, entrywise (moduli for complex entries:
    every operation is real-scalar times complex or a complex sum, rounded per part).
    Comparing step by step keeps the bound free of the trajectory's conditioning."""
    lr = optax_opts.LR
    beta = 0.0 if momentum is None else momentum
    problem = make_problem(spec)
    traj = run(from_optax(optax.sgd(lr, momentum=momentum)), problem, 5)
    assert traj.ok, traj.violation
    for k in range(traj.steps):
        theta, state = traj.params[k], traj.states[k]
        g = problem.grad(theta)
        for name, value in theta.items():
            t_k = state[0].trace[name] if momentum is not None else np.zeros_like(value)
            t = g[name] + beta * t_k
            expected = value + (-lr) * t
            S = np.abs(g[name]) + beta * np.abs(t_k)
            bound = 2 * (gamma(1, value.dtype) * np.abs(value) + lr * gamma(4, value.dtype) * S)
            got = traj.params[k + 1][name]
            assert got.dtype == value.dtype
            assert np.all(np.abs(got - expected) <= bound), (name, k)
            if momentum is not None:
                trace = traj.states[k + 1][0].trace[name]
                assert np.all(np.abs(trace - t) <= 2 * gamma(2, value.dtype) * S), (name, k)


@pytest.mark.parametrize(
    "factory",
    [optax_opts.optax_sgd, optax_opts.optax_momentum, optax_opts.optax_adam],
    ids=["sgd", "momentum", "adam"],
)
def test_optax_transformations_pass_contract_pure(factory):
    """State as a pytree of numpy arrays: frozen, compared bitwise, never aliased; dtype
    kept (float32 stays float32, complex128 stays complex128)."""
    verdict = check("contract.pure", subject(factory, family=BOTH_DTYPES))
    assert verdict.status is Status.PASS, verdict.render()


def test_optax_sgd_passes_descent_sufficient_on_real_and_complex_cells():
    verdict = check("descent.sufficient", subject(optax_opts.optax_sgd, family=ALL_CELLS))
    assert verdict.status is Status.PASS, verdict.render()


def test_the_jax_grad_convention_for_complex_parameters_is_caught():
    """Fed ``conj(G)`` (``jax.grad``'s convention), SGD moves the imaginary parts uphill:
    ``⟨G, −η·conj(G)⟩ = −η·Σ(Re G² − Im G²)`` can be ≥ 0 — not a descent direction."""
    subj = subject(optax_opts.optax_jax_grad_convention, family=COMPLEX)
    verdict = check("descent.sufficient", subj)
    assert verdict.status is Status.FAIL, verdict.render()
    assert "not a descent direction" in verdict.summary


def test_hidden_state_outside_the_pytree_is_caught_by_contract_pure():
    verdict = check("contract.pure", subject(optax_opts.optax_leaky, family=ALL_CELLS))
    assert verdict.status is Status.ERROR, verdict.render()
    assert verdict.summary.startswith("non_deterministic at step 0")


@pytest.mark.parametrize("x64", [False], indirect=True)
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_a_64_bit_problem_without_x64_is_a_one_line_error_verdict(dtype):
    """Without JAX's 64-bit mode jax would silently compute in float32: refused in init,
    one line naming the dtype and how to enable the mode."""
    family = ProblemFamily(cells=("complex",) if dtype == "complex128" else ("elman",))
    verdict = check("contract.pure", subject(optax_opts.optax_sgd, family=family))
    assert verdict.status is Status.ERROR, verdict.render()
    assert verdict.summary.startswith(f"raised at init: ValueError: W_hh: dtype {dtype} needs")
    assert "jax_enable_x64" in verdict.summary and "\n" not in verdict.summary


@pytest.mark.parametrize("x64", [False], indirect=True)
def test_float32_problems_run_without_x64():
    verdict = check("contract.pure", subject(optax_opts.optax_momentum, family=FLOAT32))
    assert verdict.status is Status.PASS, verdict.render()
