"""adaQN: stochastic L-BFGS with averaged iterates, Fisher curvature pairs and a reset rule.

Keskar & Berahas, "adaQN: An Adaptive Quasi-Newton Algorithm for Training RNNs",
ECML-PKDD 2016 (arXiv 1511.01169); reconstructed from the authors' code
(theory/adaqn.md §1–§6; the public codes' defects D1–D3 of §8 are *not* reproduced).

Symbols → arguments: α = ``lr``, L = ``L`` (aggregation length), M = ``memory``,
m_F = ``fisher_memory``, γ = ``reset_factor`` (1.01), ε = ``eps`` (AdaGrad
regularizer, stochQN's 1e-4), the acceptance test = ``test``. With w the flattened
parameters, J_k a minibatch of the problem's B sequences (drawn from ``seed``, kept in
the state) and f_M the loss on a monitoring subset fixed at ``init``::

    g      = ∇f_{J_k}(w);   push g into the FIFO F (size ≤ m_F)
    H0     = diag(1/sqrt(Σ_{j≤k} g_j² + ε))                 (§6, AdaGrad, accumulated)
    w_s   += w                                              (pre-step iterate, minSQN)
    w     ← w − α·TwoLoop(g; pairs, H0)                     (§2)
    every L steps:  w_n = w_s/L,  w_s = 0
        first window:                       w_o ← w_n
        f_M(w_n) > γ·f_M(w_o)  (reset, §5): pairs ← ∅,  w ← w_o  (w_o unchanged)
        otherwise: s = w_n − w_o,  y = (1/|F|) Fᵀ F s      (§3, normalized Fisher)
                   if test(s, y): push (s, y) (FIFO, ≤ M);  w_o ← w_n
                   else: skip the pair, keep w_o

The declared acceptance test (§4) is stochQN's ``sts``: sᵀy > 1e-4·sᵀs (``yty`` =
minSQN's sᵀy > 1e-4·yᵀy is selectable). The window counter advances on every step,
resets included, so every w_n averages exactly L consecutive iterates (§7 Q6).

The state holds the pairs (``S``, ``Y``, oldest first), the last step's gradient ``g``,
direction ``d = H g`` and ``h0``, the newest pair's probe ``Hy = TwoLoop(y_newest)``,
and the window/reset record read by the claims in ``convergence/quasi_newton.py``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.contract import Optimizer
from rnnverify.problems import ProblemFamily, RNNData, RNNProblem
from rnnverify.quasi_newton import ACCEPTANCE_TESTS, fisher_product, passes_test, two_loop
from rnnverify.registry import Case, refs
from rnnverify.tree import Params

Array = NDArray[Any]
TwoLoop = Callable[[Array, Array, Array, Array], Array]


class AdaQNState(NamedTuple):
    """The adaQN state (all arrays float64 over the flattened parameters, length n)."""

    k: int  # steps taken
    t: int  # averages formed
    seed: int
    L: int
    M: int
    monitor: Array  # fixed monitoring indices into the batch
    S: Array  # (m, n) pairs s_i, oldest first
    Y: Array  # (m, n) pairs y_i
    F: Array  # (|F|, n) stored gradients, oldest first
    w_sum: Array
    n_summed: int  # iterates in w_sum
    w_o: Array  # anchor (previous accepted average)
    acc: Array  # Σ g² (AdaGrad)
    h0: Array  # H0 of the last step
    g: Array  # minibatch gradient of the last step
    d: Array  # direction H g of the last step
    Hy: Array  # TwoLoop(y_newest) with the current pairs and h0 (empty without pairs)
    averaged: bool  # the last step closed a window
    w_n: Array  # the last average
    reset: bool  # the last step reset
    pair_tried: bool
    pair_stored: bool
    s_cand: Array
    y_cand: Array


def flatten(params: Mapping[str, Array]) -> Array:
    """The parameters as one float64 vector (dict order)."""
    return np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in params.values()])


def unflatten(w: Array, like: Mapping[str, Array]) -> Params:
    out: Params = {}
    i = 0
    for name, v in like.items():
        out[name] = w[i : i + v.size].reshape(v.shape).astype(v.dtype)
        i += v.size
    return out


def subproblem(problem: RNNProblem, idx: Array) -> RNNProblem:
    """The problem restricted to the sequences ``idx`` of its batch (columns of x, y, h0);
    its loss is the mean over those sequences."""
    idx = np.asarray(idx, dtype=np.intp)
    data = problem.data
    sub = RNNData(
        x=np.ascontiguousarray(data.x[..., idx]),
        y=np.ascontiguousarray(data.y[..., idx]),
        h0=np.ascontiguousarray(data.h0[:, idx]),
    )
    spec = dataclasses.replace(problem.spec, batch=int(idx.size))
    return dataclasses.replace(problem, spec=spec, data=sub)


def minibatch(seed: int, k: int, B: int, size: int) -> Array:
    """Sorted minibatch indices of step ``k``: ``size`` of ``B`` without replacement."""
    rng = np.random.default_rng([seed, k])
    return np.sort(rng.choice(B, size=min(size, B), replace=False))


def monitoring_set(seed: int, B: int, size: int) -> Array:
    """The fixed monitoring indices (adaqn.md §1.1, commit 9bf063a)."""
    rng = np.random.default_rng([seed, 0, 1])
    return np.sort(rng.choice(B, size=min(size, B), replace=False))


def monitor_loss(problem: RNNProblem, state: AdaQNState, w: Array) -> float:
    """f_M(w): the loss on the state's monitoring subset."""
    return subproblem(problem, state.monitor).loss(unflatten(w, problem.params0))


def adaqn(
    lr: float = 0.05,
    *,
    L: int = 3,
    memory: int = 5,
    fisher_memory: int = 10,
    batch_size: int = 2,
    test: str = "sts",
    reset_factor: float = 1.01,
    eps: float = 1e-4,
    seed: int = 0,
) -> Optimizer:
    """adaQN (module docstring); ``test`` is the declared acceptance test (``sts``/``yty``)."""
    return _adaqn(lr, L, memory, fisher_memory, batch_size, test, reset_factor, eps, seed)


def _adaqn(
    lr: float,
    L: int,
    memory: int,
    fisher_memory: int,
    batch_size: int,
    test: str,
    reset_factor: float,
    eps: float,
    seed: int,
    *,
    two_loop_fn: TwoLoop = two_loop,
    check_pair: Callable[[Array, Array, str], bool] = passes_test,
    curvature_sign: float = 1.0,
    clear_memory_on_reset: bool = True,
    clear_sum_on_reset: bool = True,
    count_reset_step: bool = True,
    accumulate_adagrad: bool = True,
    direction_sign: float = 1.0,
    fisher_fn: Callable[[Array, Array], Array] = fisher_product,
) -> Optimizer:
    """adaQN with hooks for the mutants in tests/mutants_adaqn.py (defaults: the reference)."""
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r}: expected a finite float > 0")
    for name, v in (("L", L), ("memory", memory), ("fisher_memory", fisher_memory)):
        if not (isinstance(v, int) and v >= 1):
            raise ValueError(f"{name}={v!r}: expected an integer >= 1")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size={batch_size!r}: expected an integer >= 1")
    if test not in ACCEPTANCE_TESTS:
        raise ValueError(f"test={test!r}: expected one of {list(ACCEPTANCE_TESTS)}")
    if not reset_factor >= 1.0:
        raise ValueError(f"reset_factor={reset_factor!r}: expected >= 1")
    if not eps > 0:
        raise ValueError(f"eps={eps!r}: expected > 0")

    def init(problem: RNNProblem, params: Params) -> AdaQNState:
        complex_ = [k for k, v in params.items() if np.iscomplexobj(v)]
        if complex_:
            raise ValueError(f"adaqn: parameters {complex_} are complex; real cells only")
        n = flatten(params).size
        z = np.zeros(n)
        return AdaQNState(
            k=0,
            t=0,
            seed=seed,
            L=L,
            M=memory,
            monitor=monitoring_set(seed, problem.spec.batch, batch_size),
            S=np.zeros((0, n)),
            Y=np.zeros((0, n)),
            F=np.zeros((0, n)),
            w_sum=z.copy(),
            n_summed=0,
            w_o=z.copy(),
            acc=z.copy(),
            h0=np.full(n, 1.0 / math.sqrt(eps)),
            g=z.copy(),
            d=z.copy(),
            Hy=np.zeros(0),
            averaged=False,
            w_n=z.copy(),
            reset=False,
            pair_tried=False,
            pair_stored=False,
            s_cand=z.copy(),
            y_cand=z.copy(),
        )

    def step(problem: RNNProblem, params: Params, state: AdaQNState) -> tuple[Params, AdaQNState]:
        w = flatten(params)
        J = minibatch(state.seed, state.k, problem.spec.batch, batch_size)
        g = flatten(subproblem(problem, J).grad(params))
        F = np.vstack([state.F, g[None, :]])[-fisher_memory:]
        acc = state.acc + g * g if accumulate_adagrad else state.acc.copy()  # else: D3
        h0 = 1.0 / np.sqrt(acc + eps)
        S, Y = state.S.copy(), state.Y.copy()
        d = two_loop_fn(g, S, Y, h0)
        w_sum = state.w_sum + w
        n_summed = state.n_summed + 1
        w_next = w - direction_sign * lr * d
        k = state.k + 1
        t, w_o, w_n = state.t, state.w_o.copy(), state.w_n.copy()
        averaged = reset = tried = stored = False
        s_c, y_c = np.zeros_like(w), np.zeros_like(w)
        if k % L == 0:
            averaged = True
            w_n = w_sum / L
            w_sum, n_summed = np.zeros_like(w), 0
            if t == 0:
                w_o = w_n.copy()
            else:
                f_new = monitor_loss(problem, state, w_n)
                f_old = monitor_loss(problem, state, w_o)
                if f_new > reset_factor * f_old or not math.isfinite(f_new):
                    reset = True
                    if clear_memory_on_reset:
                        S, Y = S[:0], Y[:0]
                    w_next = w_o.copy()
                    if not clear_sum_on_reset:  # mutant (stochQN D2)
                        w_sum = w_n * L
                    if not count_reset_step:  # mutant (minSQN D1)
                        k -= 1
                else:
                    tried = True
                    s_c = w_n - w_o
                    y_c = curvature_sign * fisher_fn(F, s_c)
                    if check_pair(s_c, y_c, test):
                        stored = True
                        S = np.vstack([S, s_c[None, :]])[-memory:]
                        Y = np.vstack([Y, y_c[None, :]])[-memory:]
                        w_o = w_n.copy()
            t += 1
        Hy = two_loop_fn(Y[-1], S, Y, h0) if S.shape[0] else np.zeros(0)
        new_state = AdaQNState(
            k=k,
            t=t,
            seed=state.seed,
            L=L,
            M=memory,
            monitor=state.monitor.copy(),
            S=np.array(S),
            Y=np.array(Y),
            F=np.array(F),
            w_sum=w_sum,
            n_summed=n_summed,
            w_o=w_o,
            acc=acc,
            h0=h0,
            g=g,
            d=np.asarray(d, dtype=np.float64),
            Hy=Hy,
            averaged=averaged,
            w_n=w_n,
            reset=reset,
            pair_tried=tried,
            pair_stored=stored,
            s_cand=s_c,
            y_cand=y_c,
        )
        return unflatten(w_next, params), new_state

    def diagnostics(state: AdaQNState) -> dict[str, float]:
        m = state.S.shape[0]
        return {
            "sTy_newest": float(state.S[-1] @ state.Y[-1]) if m else float("nan"),
            "memory": float(m),
            "h0_min": float(np.min(state.h0)),
            "h0_max": float(np.max(state.h0)),
            "reset": float(state.reset),
            "averages": float(state.t),
        }

    return Optimizer(init=init, step=step, diagnostics=diagnostics)


CASES = [
    Case(
        adaqn,
        {"lr": 0.1, "L": 3, "memory": 3},
        claims=refs(
            "qn.two_loop_dense",
            "qn.secant",
            "qn.positive_definite",
            "qn.descent_direction",
            "qn.fisher_pair,normalized=yes",
            "qn.pair_acceptance,test=sts",
            "adaqn.averaging_window",
            "adaqn.reset",
            "adaqn.h0_adagrad,eps=1e-4",
        ),
        problems=ProblemFamily(),
        steps=12,
    ),
]
