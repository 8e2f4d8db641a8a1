"""optax gradient transformations under the optimizer contract.

``from_optax(tx)`` runs one ``tx.update`` per contract step, with θ the parameters and
``s`` the transformation's state::

    G         = problem.grad(θ)                    the oracle's exact BPTT gradient
    (u, s')   = tx.update(G, s, θ)                 on jax arrays
    θ'        = optax.apply_updates(θ, u)          dtype of θ kept

``G`` is the oracle's gradient (exact BPTT, cross-checked by the ``grad.*`` claims), in the
convention ``G = ∂L/∂Re θ + i·∂L/∂Im θ`` for complex θ: the conjugate of ``jax.grad``,
which is what optax's own tests hand to ``update`` for complex parameters (descent needs
it). No JAX copy of the RNN is differentiated, so there is no second model to keep in
step with the oracle.

The state is the transformation's own pytree (its named tuples, dicts and tuples) with
every leaf a numpy copy: the runner freezes it, compares it bitwise for determinism and
checks it for aliasing like any other state; ``step`` turns it back into jax arrays.

Precision: without JAX's 64-bit mode a float64 (complex128) array would silently be
computed in float32 (complex64); such a problem is refused in ``init`` with a one-line
error (an ERROR verdict naming the dtype), never run at the wrong precision. Enable it
with ``jax.config.update("jax_enable_x64", True)`` or ``JAX_ENABLE_X64=1``.

jax and optax are imported when an adapter is built, never at import time of this module
(``pip install 'rnnverify[optax]'``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnverify.contract import Optimizer
from rnnverify.problems import RNNProblem
from rnnverify.tree import Params

INSTALL_HINT = "pip install 'rnnverify[optax]'"


def _import_jax() -> tuple[Any, Any]:
    try:
        import jax
        import optax
    except ImportError as exc:
        raise ImportError(f"the optax adapter needs jax and optax: {INSTALL_HINT}") from exc
    return jax, optax


def require_precision(params: Params) -> None:
    """Raise ``ValueError`` if JAX would compute some parameter in a lower precision than
    its dtype (float64/complex128 without 64-bit mode)."""
    jax, _ = _import_jax()
    for name, value in params.items():
        computed = np.dtype(jax.dtypes.canonicalize_dtype(value.dtype))
        if computed != value.dtype:
            raise ValueError(
                f"{name}: dtype {value.dtype} needs JAX's 64-bit mode (off: jax would compute "
                f"in {computed}); enable it with jax.config.update('jax_enable_x64', True) "
                "or JAX_ENABLE_X64=1"
            )


def from_optax(tx: Any) -> Optimizer:
    """An optax ``GradientTransformation`` as an :class:`~rnnverify.contract.Optimizer`.

    Parameters
    ----------
    tx : optax.GradientTransformation
        Anything with ``init(params) -> state`` and ``update(grads, state, params) ->
        (updates, state)`` on pytrees of jax arrays (``optax.sgd(0.05)``,
        ``optax.adam(1e-2)``, an ``optax.chain``). Not jitted: ``jax.jit(tx.update)``
        would compile once per problem shape, and every search draws many shapes.
    """
    jax, optax = _import_jax()
    if not (callable(getattr(tx, "init", None)) and callable(getattr(tx, "update", None))):
        raise TypeError(
            f"tx={tx!r}: expected an optax GradientTransformation with init(params) and "
            "update(grads, state, params)"
        )
    jnp = jax.numpy

    def to_jax(tree: Any) -> Any:
        return jax.tree_util.tree_map(jnp.asarray, tree)

    def to_numpy(tree: Any) -> Any:
        return jax.tree_util.tree_map(lambda x: np.array(x, copy=True), tree)

    def init(problem: RNNProblem, params: Params) -> Any:
        require_precision(params)
        return to_numpy(tx.init(to_jax(params)))

    def step(problem: RNNProblem, params: Params, state: Any) -> tuple[Params, Any]:
        require_precision(params)
        theta = to_jax(params)
        grads = to_jax(problem.grad(params))
        updates, new_state = tx.update(grads, to_jax(state), theta)
        new_theta = optax.apply_updates(theta, updates)
        return {name: np.array(new_theta[name], copy=True) for name in params}, to_numpy(new_state)

    return Optimizer(init=init, step=step)


__all__ = ["INSTALL_HINT", "from_optax", "require_precision"]
