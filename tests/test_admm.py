"""ADMMiRNN: the harness's formulation against sympy, the reference's exact blocks against
sympy's closed forms, and the claims' behaviour at their preconditions (theory/admm.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convergence import admm as claims_admm
from rnnverify import admm
from rnnverify.contract import Optimizer, run
from rnnverify.derivations import admm as D
from rnnverify.optimizers.admmirnn import ADMM_FAMILY, _admmirnn, admmirnn
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.verdict import Status
from tests.helpers import check, subject
from tests.mutants_admm import admm_rho_below_2h

EPS = float(np.finfo(np.float64).eps)
SIZES = [(2, 1, 1, 2, 1, "every"), (2, 2, 1, 2, 2, "last"), (1, 1, 2, 3, 1, "every")]


def _problem(sizes: tuple[int, int, int, int, int, str], seed: int = 0):
    n, m, p, T, B, loss = sizes
    return make_problem(
        ProblemSpec.parse(
            f"elman-tanh(n={n},m={m},p={p},T={T},B={B},loss={loss},dtype=float64,seed={seed})"
        )
    )


def _random_point(problem, rng) -> admm.Point:
    """A point off the constraint set (every residual non-zero)."""
    p = admm.forward_point(problem, problem.params0)
    return admm.Point(*(np.asarray(v) + rng.normal(0, 0.5, np.shape(v)) for v in p))


def _args(problem, pt, nu=1.3, rho=2.7):
    return D.arguments(pt, problem.data.x, admm.targets(problem), problem.data.h0, nu, rho)


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("block", admm.BLOCKS)
def test_block_gradients_match_sympy(sizes, block):
    """rnnverify/admm.py's closed-form ∇_X L equals sympy's derivative of L, entrywise
    within twice the harness's rounding bound (both evaluations round relative to the same
    terms)."""
    problem = _problem(sizes)
    rng = np.random.default_rng(1)
    oracle = D.gradient_oracle(sizes, block)
    for _ in range(3):
        pt = _random_point(problem, rng)
        bg = admm.block_gradient(problem, pt, block, 1.3, 2.7)
        ref = oracle(*_args(problem, pt))
        assert np.all(np.abs(bg.grad - ref) <= 2 * bg.rounding + 4 * EPS * np.abs(ref)), (
            block,
            bg.grad,
            ref,
        )


@pytest.mark.parametrize("sizes", SIZES, ids=str)
def test_lagrangian_matches_sympy_within_its_rounding_bound(sizes):
    problem = _problem(sizes)
    rng = np.random.default_rng(2)
    f = D.lagrangian_oracle(sizes)
    for _ in range(3):
        pt = _random_point(problem, rng)
        val = admm.lagrangian(problem, pt, 1.3, 2.7)
        assert abs(val.value - float(f(*_args(problem, pt)))) <= 2 * val.rounding
        assert val.rounding < 1e-12 * (1 + abs(val.value))  # a bound, not a blanket


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("block", ["U", "W", "V"])
def test_block_lipschitz_is_the_hessian_norm(sizes, block):
    """For the quadratic blocks, the Lipschitz constant is λ_max of the block Hessian,
    probed exactly (L is quadratic in X) through sympy's gradient."""
    problem = _problem(sizes)
    pt = _random_point(problem, np.random.default_rng(3))
    g = D.gradient_oracle(sizes, block)
    X = getattr(pt, block)
    g0 = g(*_args(problem, pt))
    cols = []
    for i in range(X.size):
        E = np.zeros(X.size)
        E[i] = 1.0
        shifted = pt.replace(**{block: X + E.reshape(X.shape)})
        cols.append((g(*_args(problem, shifted)) - g0).ravel())
    Hs = np.array(cols).T
    lip = admm.block_lipschitz(problem, pt, block, 1.3, 2.7)
    assert math.isclose(float(np.linalg.eigvalsh((Hs + Hs.T) / 2)[-1]), lip, rel_tol=1e-9)


def test_a_block_bound_constant_is_sympys():
    assert float(D.tanh_sech2_max()) == pytest.approx(admm.TANH_SECH2_MAX, rel=1e-15)
    a = np.linspace(-6, 6, 200001)
    assert np.max(np.abs(np.tanh(a) / np.cosh(a) ** 2)) <= admm.TANH_SECH2_MAX


def test_dual_identity_is_symbolic():
    assert D.dual_identity_residual() == {"linearized": 0, "exact": 0}


def _replayed(opt: Optimizer, problem, steps: int = 3):
    subj = subject(lambda: opt, family=ADMM_FAMILY, name="ref", steps=steps)
    out = claims_admm._replay(subj, problem.spec, steps)
    assert isinstance(out, claims_admm.Run), out
    return out


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("o_update", ["linearized", "exact"])
def test_exact_blocks_are_sympys_closed_forms(sizes, o_update):
    """The reference's b, h, c (and exact o) steps equal sympy's argmin of L in that block,
    within the forward error of a solve: 8·k·eps·κ·max|X| (k unknowns, κ the condition
    number of the block Hessian: 1 for b, c, o; cond(νI + νWᵀW + ρVᵀV) for h)."""
    problem = _problem(sizes)
    rho = 2.5
    r = _replayed(admmirnn(rho, o_update=o_update), problem)
    checked = 0
    for sweep in r.sweeps:
        for st in sweep:
            if st.kind != "exact":
                continue
            ref = D.minimizer_oracle(sizes, st.name)(*_args(problem, st.before, 1.0, rho))
            X = getattr(st.after, st.name)
            kappa = 1.0
            if st.name == "h":
                W, V = st.before.W, st.before.V
                A = np.eye(W.shape[0]) + W.T @ W + rho * V.T @ V
                kappa = float(np.linalg.cond(A))
            tol = 8 * X.size * EPS * kappa * max(1.0, float(np.max(np.abs(ref))))
            assert np.max(np.abs(X - ref)) <= tol, (st.name, X, ref)
            checked += 1
    assert checked == 3 * (4 if o_update == "exact" else 3)


def test_reference_rejects_bad_hyperparameters_and_problems():
    with pytest.raises(ValueError, match=r"rho=-1.0: expected a finite float > 0"):
        admmirnn(-1.0)
    with pytest.raises(ValueError, match=r"o_update='prox'"):
        admmirnn(o_update="prox")
    relu = make_problem(
        ProblemSpec.parse("elman-relu(n=2,m=1,p=1,T=2,B=1,loss=last,dtype=float64,seed=0)")
    )
    traj = run(admmirnn(), relu, 2)
    assert traj.violation is not None and traj.violation.kind == "raised"
    assert "expected cell=elman, activation=tanh" in traj.violation.message


def test_diagnostics_and_series_carry_what_a_plot_needs():
    problem = _problem((2, 1, 1, 3, 1, "last"))
    traj = run(admmirnn(), problem, 4)
    assert set(traj.diagnostics[-1]) >= {"L", "Psi", "r1", "r2", "r3", "rho", "nu"}
    v = check("admm.lyapunov_monotone", subject(admmirnn, family=ADMM_FAMILY), max_examples=5)
    assert v.status is Status.PASS
    assert {"Psi", "r1", "r2", "r3"} <= set(v.series)


def test_below_2h_is_a_violated_precondition_not_a_counterexample():
    v = check(
        "admm.lyapunov_monotone", subject(admm_rho_below_2h, family=ADMM_FAMILY), max_examples=25
    )
    assert v.status is Status.FAIL
    assert v.summary.startswith("precondition violated: ρ = 0.5 ≤ 2·H")
    assert "does not apply" in v.summary and "Ψ rose by" in v.summary
    assert v.quantities["precondition_violated"] == 1.0


def test_same_rho_meets_the_theorem_where_its_precondition_holds():
    """ρ = 0.5 > 2H once B·|S| ≥ 5 (H = 1/(B·|S|)): there Ψ must be monotone."""
    family = ADMM_FAMILY.restrict(batch=(3, 4), losses=("every",), steps=(2, 10))
    v = check("admm.lyapunov_monotone", subject(admm_rho_below_2h, family=family), max_examples=25)
    assert v.status is Status.PASS, v.render()


def test_a_sweep_that_does_not_lead_to_the_next_iterate_is_an_error():
    base = _admmirnn(2.5, 1.0, "linearized")

    def step(problem, params, state):
        new, st = base.step(problem, params, state)
        sweep = tuple(b._replace(value=b.value + 1.0) if b.name == "c" else b for b in st.sweep)
        return new, st._replace(sweep=sweep)

    bad = Optimizer(base.init, step, base.diagnostics)
    v = check(
        "admm.dual_identity", subject(lambda: bad, family=ADMM_FAMILY, name="bad"), max_examples=3
    )
    assert v.status is Status.ERROR
    assert "replaying the sweep gives a different 'c'" in v.summary


def test_optimizer_without_admm_state_is_told_what_is_missing():
    from rnnverify.optimizers.sgd import sgd

    v = check(
        "admm.dual_identity",
        subject(lambda: sgd(0.05), family=ADMM_FAMILY, name="sgd"),
        max_examples=2,
    )
    assert v.status is Status.ERROR
    assert "'rho'" in v.summary or "rho" in v.summary


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("o_update", ["linearized", "exact"])
def test_minus_convention_gives_bitwise_the_plus_iterates(sizes, o_update):
    """theory/admm.md §9 A8: with μ = −λ the primal iterates are identical. Negation is
    exact and IEEE rounding is symmetric, so the reference's are identical bit for bit."""
    problem = _problem(sizes, seed=5)
    plus = run(admmirnn(o_update=o_update), problem, 6)
    minus = run(admmirnn(o_update=o_update, convention="minus"), problem, 6)
    for p_, m_ in zip(plus.params, minus.params, strict=True):
        assert all(np.array_equal(p_[k], m_[k]) for k in p_)
    for sp_, sm_ in zip(plus.states, minus.states, strict=True):
        for f in ("a", "h", "o"):
            assert np.array_equal(getattr(sp_, f), getattr(sm_, f))
        assert np.array_equal(sp_.lam, -sm_.lam)
        assert (sp_.convention, sm_.convention) == ("plus", "minus")


@pytest.mark.parametrize(
    "claim", ["admm.dual_identity", "admm.exact_block_optimality", "admm.lyapunov_monotone"]
)
def test_minus_convention_reference_meets_the_claims(claim):
    """The claims read a declared MINUS multiplier as λ = −μ."""
    subj = subject(lambda: admmirnn(convention="minus"), family=ADMM_FAMILY, name="admmirnn_minus")
    assert check(claim, subj, max_examples=25).status is Status.PASS


def test_an_unknown_convention_is_named():
    with pytest.raises(ValueError, match=r"convention='sideways': expected one of"):
        admmirnn(convention="sideways")


def test_a_step_longer_than_the_lipschitz_constant_allows_is_a_violated_precondition():
    """θ_U = Lip/4: the step overshoots by 4×, L rises; block descent says the descent
    lemma's precondition failed (θ < Lip), not that the theorem is false."""
    subj = subject(
        lambda: _admmirnn(2.5, 1.0, "linearized", theta_u_scale=0.25),
        family=ADMM_FAMILY,
        name="admm_theta_quarter",
    )
    v = check("admm.block_descent", subj, max_examples=25)
    assert v.status is Status.FAIL, v.render()
    assert "precondition violated: θ_U" in v.summary
    assert v.figure == "precondition θ_U < Lip"
    assert v.quantities["theta"] < v.quantities["lipschitz"]
