"""The project's optimizers, as the README, docs/tutorial.md and docs/adapters.md write
them: gradient descent in numpy, through PyTorch and through optax, and a numpy one with a
sign typo. Zero-argument factories, so that a reproduce command rebuilds each of them."""

from types import SimpleNamespace

import optax
import torch

from rnnverify import Optimizer
from rnnverify.adapters import from_optax, from_torch
from rnnverify.problems import ProblemFamily


def my_sgd(lr=0.05):
    """θ ← θ − η·∇L(θ) on every parameter; ``lr`` is η."""

    def init(problem, params):
        return ()  # no state

    def step(problem, params, state):
        g = problem.grad(params)
        return {name: w - lr * g[name] for name, w in params.items()}, state

    return Optimizer(init, step)


def broken_sgd(lr=0.05):
    """:func:`my_sgd` with a sign typo that shows only when ``W_hh`` is at least 2×2: it
    climbs the loss there, so the smallest counterexample has n = 2."""

    def init(problem, params):
        return ()

    def step(problem, params, state):
        g = problem.grad(params)
        sign = -1.0 if params["W_hh"].shape[0] >= 2 else 1.0
        return {name: w - sign * lr * g[name] for name, w in params.items()}, state

    return Optimizer(init, step)


def torch_sgd():
    """``torch.optim.SGD`` through the adapter."""
    return from_torch(torch.optim.SGD, lr=0.05)


def optax_sgd():
    """``optax.sgd(0.05)`` through the adapter, on float32 problems: JAX's 64-bit mode is
    off (the tox environment forwards no ``JAX_ENABLE_X64``), and float64 problems would
    be refused."""
    return SimpleNamespace(
        **from_optax(optax.sgd(0.05))._asdict(),
        problems=ProblemFamily(dtypes=("float32",)),
        claims=("contract.pure", "descent.sufficient"),
    )
