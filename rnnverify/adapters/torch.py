"""PyTorch optimizers and parametrizations under the optimizer contract.

``from_torch(make, parametrize=..., **hyperparameters)`` runs one ``torch.optim`` step per
contract step. With θ the rnnverify parameters, ``u`` the unconstrained tensors of the
parametrized weights ``W = P(u)`` and ``o`` the torch optimizer's ``state_dict``::

    G      = problem.grad(θ)                       the oracle's exact BPTT gradient
    ∇_u L  = (∂P/∂u)ᴴ·G_W                          torch autograd through P (a VJP)
    ∇_θ L  = G_θ                                   for every weight that is not parametrized
    (u, θ) ← opt.step()                            opt = make(tensors, **hyperparameters),
                                                   loaded with o; if step requires a
                                                   closure (LBFGS), one that returns L and
                                                   sets these gradients at the current u, θ
    W      ← P(u)                                  the materialized weight is the parameter

The gradient of the loss is the oracle's, not torch autograd through a torch copy of the
RNN: the oracle is exact BPTT, cross-checked against finite differences and sympy by the
``grad.*`` claims, in the convention torch uses for complex tensors
(``G = ∂L/∂Re θ + i·∂L/∂Im θ``), so the optimizer sees what ``loss.backward()`` would give
it without a second model to keep in step with the first. Autograd is used only for what
only torch knows, the Jacobian of the user's parametrization.

Purity: every call builds a fresh module and a fresh optimizer from the state
(:class:`TorchState`: ``u`` and ``o`` as numpy copies) and returns new numpy arrays, so no
torch object outlives a call. State an optimizer keeps outside ``state_dict()`` does not
survive a step; state kept outside the optimizer (a module or class attribute) makes the
step non-deterministic, which the contract reports. dtypes are kept (float64 stays
float64, complex128 stays complex128).

torch is imported when an adapter is built, never at import time of this module
(``pip install 'rnnverify[torch]'``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.contract import Optimizer
from rnnverify.problems import RNNProblem
from rnnverify.tolerance import eps
from rnnverify.tree import Params

INSTALL_HINT = "pip install 'rnnverify[torch]'"


class TorchState(NamedTuple):
    """The adapter's state: numpy copies of everything torch would keep between steps.

    Attributes
    ----------
    unconstrained : dict
        ``name -> {key: array}``: the ``state_dict`` of each parametrized weight's
        parametrization (``original`` — the unconstrained tensor u — and buffers such as
        the ``base`` of PyTorch's orthogonal trivialization).
    optimizer : dict
        The torch optimizer's ``state_dict()`` (``state`` and ``param_groups``) with every
        tensor as a numpy array.
    """

    unconstrained: dict[str, dict[str, NDArray[Any]]]
    optimizer: dict[str, Any]


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"the torch adapter needs PyTorch: {INSTALL_HINT}") from exc
    return torch


def _to_numpy(tree: Any) -> Any:
    """Every tensor of ``tree`` (dicts, lists, tuples) as a numpy array that owns its memory."""
    torch = _import_torch()
    if isinstance(tree, torch.Tensor):
        return np.array(tree.detach().resolve_conj().resolve_neg().cpu().numpy(), copy=True)
    if isinstance(tree, Mapping):
        return {k: _to_numpy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_numpy(v) for v in tree)
    return tree


def _to_torch(tree: Any) -> Any:
    """Inverse of :func:`_to_numpy`: every array as a fresh tensor (a copy: the inputs are
    read-only and must stay untouched)."""
    torch = _import_torch()
    if isinstance(tree, np.ndarray):
        return torch.from_numpy(np.array(tree, copy=True))
    if isinstance(tree, Mapping):
        return {k: _to_torch(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_torch(v) for v in tree)
    return tree


def from_torch(
    make: Callable[..., Any],
    /,
    *,
    parametrize: Mapping[str, Callable[[Any, str], Any]] | None = None,
    diagnostics: Callable[[TorchState], Mapping[str, float]] | None = None,
    **hyperparameters: Any,
) -> Optimizer:
    """A ``torch.optim.Optimizer`` (optionally on parametrized weights) as an
    :class:`~rnnverify.contract.Optimizer`.

    Parameters
    ----------
    make : callable
        ``make(tensors, **hyperparameters) -> torch.optim.Optimizer``: an optimizer class
        (``torch.optim.SGD``) or a factory. ``tensors`` lists the leaf tensors in the
        order of the parameter dict (``W_hh, W_ih, b, V, c``), a parametrized weight
        contributing the parameters of its parametrization (``original``) in its place.
    parametrize : dict, optional
        ``name -> fn`` with ``fn(module, name)`` registering a parametrization of the
        weight ``name`` on ``module``: ``torch.nn.utils.parametrizations.orthogonal``,
        ``geotorch.orthogonal``, or any ``torch.nn.utils.parametrize`` registration. The
        optimizer acts on the unconstrained tensors; the rnnverify parameter is the
        materialized weight. The parametrization must represent the starting weight.
    diagnostics : callable, optional
        ``diagnostics(state) -> {name: float}`` on the :class:`TorchState` (see
        :func:`orthogonal_diagnostics` for the ``norm_A`` the ``drift=expm`` /
        ``drift=cayley`` bounds of ``orthogonal.preserved`` need).
    **hyperparameters
        Passed to ``make`` (``lr=0.05``, ``momentum=0.9``, ...).
    """
    torch = _import_torch()
    if not callable(make):
        raise TypeError(
            f"make={make!r}: expected a torch.optim.Optimizer class or a factory "
            "make(tensors, **hyperparameters)"
        )
    maps = dict(parametrize or {})
    for name, fn in maps.items():
        if not callable(fn):
            raise TypeError(
                f"parametrize[{name!r}]={fn!r}: expected a callable fn(module, name), e.g. "
                "torch.nn.utils.parametrizations.orthogonal"
            )

    def build(params: Params, state: TorchState | None) -> tuple[Any, list[Any], Any]:
        """A fresh module holding ``params`` (parametrized weights restored from
        ``state``), the optimizer's tensors, and the optimizer itself."""
        unknown = sorted(set(maps) - set(params))
        if unknown:
            raise ValueError(
                f"parametrize: {unknown} not parameters of the problem; expected some of "
                f"{list(params)}"
            )
        module = torch.nn.Module()
        for name, value in params.items():
            module.register_parameter(name, torch.nn.Parameter(_to_torch(value)))
        for name, fn in maps.items():
            fn(module, name)
            if state is None:
                _start_at(torch, module, name, params[name])
            else:
                module.parametrizations[name].load_state_dict(_to_torch(state.unconstrained[name]))
        tensors: list[Any] = []
        for name in params:
            if name in maps:
                tensors.extend(module.parametrizations[name].parameters())
            else:
                tensors.append(module.get_parameter(name))
        opt = make(tensors, **hyperparameters)
        if state is not None:
            opt.load_state_dict(_to_torch(state.optimizer))
        return module, tensors, opt

    def snapshot(module: Any, opt: Any) -> TorchState:
        return TorchState(
            {name: _to_numpy(module.parametrizations[name].state_dict()) for name in maps},
            _to_numpy(opt.state_dict()),
        )

    def init(problem: RNNProblem, params: Params) -> TorchState:
        module, _, opt = build(params, None)
        return snapshot(module, opt)

    def step(problem: RNNProblem, params: Params, state: TorchState) -> tuple[Params, TorchState]:
        module, tensors, opt = build(params, state)

        def current() -> Params:
            with torch.no_grad():  # W = P(u) for a parametrized weight
                return {
                    name: _to_numpy(
                        getattr(module, name) if name in maps else module.get_parameter(name)
                    )
                    for name in params
                }

        def set_gradient(theta: Params) -> float:
            """``.grad`` of every tensor: the oracle's G at θ, pulled back through P."""
            loss, G = problem.value_and_grad(theta)
            for t in tensors:
                t.grad = None
            for name in params:
                if name not in maps:
                    module.get_parameter(name).grad = _to_torch(G[name])
            if maps:
                weights = [getattr(module, name) for name in maps]
                torch.autograd.backward(weights, [_to_torch(G[name]) for name in maps])
            return loss

        def closure() -> Any:
            """For optimizers that re-evaluate the loss (``torch.optim.LBFGS``): the loss and
            gradient at the tensors' current values."""
            return torch.tensor(set_gradient(current()), dtype=torch.float64)

        set_gradient(params)
        if _needs_closure(opt):
            opt.step(closure)
        else:
            opt.step()
        return current(), snapshot(module, opt)

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


def _needs_closure(opt: Any) -> bool:
    """Whether ``opt.step`` takes a required ``closure`` argument (``torch.optim.LBFGS``)."""
    try:
        parameter = inspect.signature(opt.step).parameters.get("closure")
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.default is inspect.Parameter.empty


def _start_at(torch: Any, module: Any, name: str, W0: NDArray[Any]) -> None:
    """Start the parametrization of ``name`` at the problem's weight ``W0``.

    If the registration did not already put ``P(u₀) = W0`` (geotorch samples a random
    point), ``W0`` is assigned through the parametrization's ``right_inverse``. A
    parametrization that then still misses ``W0`` by more than
    ``10·n·ε·max(1, ‖W0‖_F)`` — the rounding of its forward map, PyTorch's own tolerance
    for "already orthogonal" (theory/anchors.md §1.3) — cannot represent the starting
    point, and the run is refused rather than started elsewhere.
    """
    n = max(W0.shape[-2:]) if W0.ndim >= 2 else W0.size
    tol = 10 * n * eps(W0.dtype) * max(1.0, float(np.linalg.norm(W0)))

    def miss() -> float:
        with torch.no_grad():
            return float(np.linalg.norm(_to_numpy(getattr(module, name)) - W0))

    if miss() <= tol:
        return
    with torch.no_grad():
        setattr(module, name, _to_torch(W0))
    gap = miss()
    if not gap <= tol:
        raise ValueError(
            f"{name}: the parametrization does not represent the starting weight "
            f"(‖P(u₀) − W₀‖_F = {gap:.3g} > {tol:.3g}); run it on problems it can "
            "represent, e.g. ProblemFamily(recurrent=('orthogonal',)) for an orthogonal one"
        )


def orthogonal_diagnostics(
    name: str = "W_hh",
) -> Callable[[TorchState], dict[str, float]]:
    """``{"norm_A": ‖A‖₂}`` for ``torch.nn.utils.parametrizations.orthogonal`` on the
    square weight ``name`` with the ``matrix_exp`` (default) or ``cayley`` map.

    That parametrization stores an unconstrained X (``original``) and materializes
    ``W = base·exp(A)`` (``base·cayley(A)``) with ``A = tril(X) − tril(X)ᴴ``; ‖A‖₂ is the
    variable of the ``drift=expm`` (``drift=cayley``) bound of ``orthogonal.preserved``
    (theory/orthogonal.md §7: W is rebuilt from A every step, so its error depends on
    ‖A‖, not on the step count).
    """

    def diagnostics(state: TorchState) -> dict[str, float]:
        X = state.unconstrained[name]["original"]
        L = np.tril(X)
        A = L - L.conj().T
        return {"norm_A": float(np.linalg.norm(A, 2)) if A.size else 0.0}

    return diagnostics


__all__ = ["INSTALL_HINT", "TorchState", "from_torch", "orthogonal_diagnostics"]
