"""Adapters: optimizers written for PyTorch or optax, checked under the rnnverify contract.

================================  ======================================================
``from_torch(make, ...)``         a ``torch.optim.Optimizer`` class or factory, optionally
                                  on parametrized weights (``parametrize={"W_hh":
                                  torch.nn.utils.parametrizations.orthogonal}``)
``from_optax(tx)``                an optax ``GradientTransformation``
================================  ======================================================

Both return an :class:`rnnverify.contract.Optimizer` over the numpy parameter dict and
use the oracle's exact gradient ``problem.grad``. The frameworks are optional and imported
only when an adapter is built: importing this package imports neither torch nor jax; a
missing one raises ``ImportError`` naming the extra to install
(``pip install 'rnnverify[torch]'`` / ``'rnnverify[optax]'``). See docs/adapters.md.
"""

from __future__ import annotations

from rnnverify.adapters.optax import from_optax
from rnnverify.adapters.torch import TorchState, from_torch, orthogonal_diagnostics

__all__ = ["TorchState", "from_optax", "from_torch", "orthogonal_diagnostics"]
