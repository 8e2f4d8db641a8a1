"""optax transformations a user checks with rnnverify: zero-argument factories, so that
``rnnverify check tests.user_examples.optax_opts:NAME --claim ...`` rebuilds them
(float64 problems need ``JAX_ENABLE_X64=1``)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from rnnverify.adapters import from_optax
from rnnverify.contract import Optimizer

LR = 0.05
MOMENTUM = 0.9


def optax_sgd() -> Optimizer:
    """``optax.sgd(0.05)``: plain gradient descent."""
    return from_optax(optax.sgd(LR))


def optax_momentum() -> Optimizer:
    """``optax.sgd(0.05, momentum=0.9)``: heavy ball, ``t ← g + β·t``, ``θ ← θ − η·t``."""
    return from_optax(optax.sgd(LR, momentum=MOMENTUM))


def optax_adam() -> Optimizer:
    """``optax.adam(1e-2)``."""
    return from_optax(optax.adam(1e-2))


def optax_jax_grad_convention() -> Optimizer:
    """``optax.sgd`` fed ``jax.grad``'s convention for complex parameters, ``conj(G)``
    (a user who forgot optax's conjugation): it ascends along the imaginary parts."""
    conj = optax.stateless(lambda updates, params: jax.tree_util.tree_map(jnp.conj, updates))
    return from_optax(optax.chain(conj, optax.sgd(LR)))


class _Calls:
    """A Python-side counter: mutable state outside the transformation's state."""

    count = 0


def optax_leaky() -> Optimizer:
    """``optax.sgd`` whose step size grows with a counter kept outside its state."""

    def init(params: Any) -> optax.EmptyState:
        return optax.EmptyState()

    def update(updates: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        _Calls.count += 1
        scaled = jax.tree_util.tree_map(lambda g: -LR * _Calls.count * g, updates)
        return scaled, state

    return from_optax(optax.GradientTransformation(init, update))
