"""PyTorch optimizers a user checks with rnnverify: zero-argument factories, so that
``rnnverify check tests.user_examples.torch_opts:NAME --claim ...`` rebuilds them."""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any, ClassVar

import torch
from torch.nn.utils.parametrizations import orthogonal

from rnnverify.adapters import from_torch, orthogonal_diagnostics
from rnnverify.contract import Optimizer
from rnnverify.problems import ProblemFamily


def torch_sgd() -> Optimizer:
    """``torch.optim.SGD`` on every weight, ``W_hh`` unconstrained."""
    return from_torch(torch.optim.SGD, lr=0.05)


def torch_adam() -> Optimizer:
    """``torch.optim.Adam``: a state (moments, step count) that must round-trip."""
    return from_torch(torch.optim.Adam, lr=1e-2)


def torch_momentum() -> Optimizer:
    """A factory taking the tensor list: heavy-ball SGD."""
    return from_torch(lambda tensors: torch.optim.SGD(tensors, lr=0.05, momentum=0.9))


def torch_lbfgs() -> Optimizer:
    """``torch.optim.LBFGS`` with a strong-Wolfe line search: its step needs a closure,
    which the adapter provides (the oracle's loss and gradient at the current tensors)."""
    return from_torch(torch.optim.LBFGS, max_iter=5, line_search_fn="strong_wolfe")


def torch_orthogonal_sgd() -> Optimizer:
    """SGD on the unconstrained tensor X of PyTorch's orthogonal parametrization of
    ``W_hh`` with the Cayley map: ``W = base·(I − A/2)⁻¹(I + A/2)``,
    ``A = tril(X) − tril(X)ᴴ``; ‖A‖₂ reported for the ``drift=cayley`` bound."""
    return from_torch(
        torch.optim.SGD,
        lr=0.05,
        parametrize={"W_hh": functools.partial(orthogonal, orthogonal_map="cayley")},
        diagnostics=orthogonal_diagnostics("W_hh"),
    )


def torch_orthogonal_expm_sgd() -> Optimizer:
    """The same with the default map of a square weight, ``W = base·matrix_exp(A)``;
    ‖A‖₂ reported for the ``drift=expm`` bound."""
    return from_torch(
        torch.optim.SGD,
        lr=0.05,
        parametrize={"W_hh": orthogonal},
        diagnostics=orthogonal_diagnostics("W_hh"),
    )


def torch_orthogonal_declared() -> SimpleNamespace:
    """:func:`torch_orthogonal_sgd` with the problems it runs on and the claims it makes,
    so that ``rnnverify check tests.user_examples.torch_opts:torch_orthogonal_declared``
    needs no ``--claim``."""
    return SimpleNamespace(
        **torch_orthogonal_sgd()._asdict(),
        problems=ProblemFamily(recurrent=("orthogonal",)),
        claims=("contract.pure", "orthogonal.preserved:W_hh,drift=cayley"),
    )


class LeakySGD(torch.optim.SGD):
    """SGD whose step size grows with a counter kept on the class: state outside
    ``state_dict()`` that survives the adapter's rebuild of the optimizer."""

    calls: ClassVar[int] = 0

    def step(self, closure: Any = None) -> Any:
        type(self).calls += 1
        for group in self.param_groups:
            group["lr"] = 0.05 * type(self).calls
        return super().step(closure)


def torch_leaky_sgd() -> Optimizer:
    """A hidden mutable counter: two calls on identical inputs differ."""
    return from_torch(LeakySGD, lr=0.05)
