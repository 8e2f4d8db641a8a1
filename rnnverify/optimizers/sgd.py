"""Plain gradient descent on every parameter.

Update, for every parameter θ (real or complex)::

    θ_{k+1} = θ_k − η·g(θ_k)

with ``g`` the problem's gradient (for complex θ, ``g = ∂L/∂Re θ + i·∂L/∂Im θ``, so
the step descends; theory/orthogonal.md §0.4) or a user-supplied ``gradient``.

It claims only what gradient descent guarantees: sufficient decrease for a step that is
small relative to the local curvature (``descent.sufficient``), and that the gradient it
follows is the derivative of the loss (``grad.*``). Because it moves ``W_hh`` freely it is
the negative control of every constraint claim: its case lists them as known failures, so
the verdict matrix shows each constraint check biting (``xfail``) on every run.

Reference: Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), §3.1 and Thm 3.2.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rnnverify.contract import Optimizer
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params


def sgd(
    lr: float = 0.05,
    *,
    gradient: Callable[[RNNProblem, Params], Params] | None = None,
) -> Optimizer:
    """Gradient descent with learning rate ``lr`` (η).

    Parameters
    ----------
    lr : float
        η > 0.
    gradient : callable, optional
        ``gradient(problem, params)`` to use instead of ``problem.grad`` (a user's own
        BPTT, say); it is then what the ``grad.*`` claims check.
    """
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")
    grad_fn = gradient

    def init(problem: RNNProblem, params: Params) -> tuple[()]:
        return ()

    def step(problem: RNNProblem, params: Params, state: tuple[()]) -> tuple[Params, tuple[()]]:
        g = grad_fn(problem, params) if grad_fn is not None else problem.grad(params)
        return {k: (v - lr * g[k]).astype(v.dtype, copy=False) for k, v in params.items()}, state

    return Optimizer(init=init, step=step, gradient=grad_fn)


CASES = [
    Case(
        sgd,
        {"lr": 0.05},
        claims=refs(
            "descent.sufficient",
            "grad.taylor_slope",
            "grad.finite_difference",
            "grad.sympy_bptt",
            "orthogonal.preserved:W_hh",
            "unitary.preserved:W_hh",
        ),
        problems=ProblemFamily(cells=("elman", "complex")),
        known_failures={
            claim: "negative control: plain gradient descent moves W_hh off the group"
            for claim in ("orthogonal.preserved:W_hh", "unitary.preserved:W_hh")
        },
    ),
]
