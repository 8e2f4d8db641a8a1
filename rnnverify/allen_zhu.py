"""The Allen-Zhu–Li–Song RNN at initialization (theory/allen-zhu.md §1, §2, §7, §8).

Model (Sec. 2.1, Def. 2.2; arXiv 1810.12065v4 p. 4), for sequences i = 1..n of length L::

    h_{i,0} = 0,   g_{i,l} = W h_{i,l−1} + A x_{i,l},   h_{i,l} = φ(g_{i,l}) = D_{i,l} g_{i,l}
    D_{i,l} = diag(1[(g_{i,l})_k ≥ 0]),   y_{i,l} = B h_{i,l}

W ∈ R^{m×m} recurrent (the only trained matrix), A ∈ R^{m×d_x} input, B ∈ R^{d×m} readout.
In the problem's names: m = ``hidden``, d_x = ``inputs``, d = ``outputs``, L = ``steps``,
n = ``batch``; W sits in ``W_hh``, A in ``W_ih``, B in ``V`` (``b`` = ``c`` = 0).

Initialization (Def. 2.3; N(μ, σ) there means *variance* σ): W, A iid N(0, 2/m), B iid
N(0, 1/d). Input normalization (Sec. 2.1): ‖x_{i,l}‖ ≤ 1, ‖x_{i,1}‖ = 1 with last
coordinate 1/√2 (:func:`normalize_inputs`; needs d_x ≥ 2).

Objective and gradient (Sec. 2.2, Fact 2.5; §2 of the theory)::

    f(W) = Σ_i ½ Σ_{l=2}^{L} ‖loss_{i,l}‖²,     loss_{i,l} = B h_{i,l} − y*_{i,l}
    ∇f(W) = Σ_i Σ_{a=2}^{L} Σ_{l=1}^{a−1} D_{i,l+1} (Back_{i,l+1→a}ᵀ loss_{i,a}) h_{i,l}ᵀ
    Back_{i,a→a} = B,   Back_{i,l→a} = B D_{i,a} W D_{i,a−1} W ⋯ D_{i,l+1} W

evaluated by accumulating c_j = Σ_{a ≥ j} Back_{j→a}ᵀ loss_a backwards:
``c_L = Bᵀ loss_L``, ``c_j = 1[j ≥ first]·Bᵀ loss_j + Wᵀ D_{j+1} c_{j+1}``, and
``∇f = Σ_{l=1}^{L−1} D_{l+1} c_{l+1} h_lᵀ`` (``first`` = 2, the paper's loss).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


class AZInit(NamedTuple):
    """W (m, m), A (m, d_x), B (d, m): Def. 2.3."""

    W: Array
    A: Array
    B: Array


def paper_init(m: int, d_x: int, d: int, rng: np.random.Generator, w_var: float = 2.0) -> AZInit:
    """W, A ~ N(0, w_var/m) entrywise (w_var = 2, Def. 2.3), B ~ N(0, 1/d)."""
    W = rng.standard_normal((m, m)) * math.sqrt(w_var / m)
    A = rng.standard_normal((m, d_x)) * math.sqrt(w_var / m)
    B = rng.standard_normal((d, m)) * math.sqrt(1.0 / d)
    return AZInit(W, A, B)


def normalize_inputs(x: Array) -> Array:
    """Sequences ``x`` (n, L, d_x), d_x ≥ 2, normalized as in Sec. 2.1: the first token
    becomes ``[u/‖u‖·(1/√2), 1/√2]`` (u: its first d_x − 1 coordinates; e₁ if u = 0), so
    ‖x_{i,1}‖ = 1 with last coordinate 1/√2; later tokens are scaled to norm ≤ 1."""
    n, L, d_x = x.shape
    if d_x < 2:
        raise ValueError(f"d_x={d_x}: the normalization needs d_x ≥ 2 (last coordinate 1/√2)")
    out = np.array(x, dtype=np.float64)
    for i in range(n):
        u = out[i, 0, :-1]
        nu = float(np.linalg.norm(u))
        u = u / nu if nu > 0 else np.eye(d_x - 1)[0]
        out[i, 0, :-1] = u / math.sqrt(2.0)
        out[i, 0, -1] = 1.0 / math.sqrt(2.0)
        for j in range(1, L):
            out[i, j] /= max(1.0, float(np.linalg.norm(out[i, j])))
    return out


class AZForward(NamedTuple):
    """``G[i, l−1] = g_{i,l}``, ``H[i, l−1] = h_{i,l}`` (n, L, m), l = 1..L."""

    G: Array
    H: Array


def relu(g: Array) -> Array:
    """φ = ReLU, written as D·g with D = 1[g ≥ 0] (Sec. 2.1)."""
    return g * (g >= 0)


def forward(W: Array, A: Array, X: Array, act: Any = relu) -> AZForward:
    """The recurrence of the module docstring for all sequences ``X`` (n, L, d_x)."""
    n, L, _ = X.shape
    m = W.shape[0]
    G = np.empty((n, L, m))
    H = np.empty((n, L, m))
    h = np.zeros((m, n))
    for t in range(L):
        g = W @ h + A @ X[:, t, :].T
        h = act(g)
        G[:, t, :], H[:, t, :] = g.T, h.T
    return AZForward(G, H)


def loss(W: Array, A: Array, B: Array, X: Array, Y: Array, first: int = 2) -> float:
    """f(W) = Σ_i ½ Σ_{l=first}^{L} ‖B h_{i,l} − y*_{i,l}‖² (first = 2, Sec. 2.2)."""
    fwd = forward(W, A, X)
    R = fwd.H[:, first - 1 :, :] @ B.T - Y[:, first - 1 :, :]
    return 0.5 * float(np.sum(R * R))


def fact_2_5(
    W: Array,
    A: Array,
    B: Array,
    X: Array,
    Y: Array,
    fwd: AZForward | None = None,
    first: int = 2,
    with_d: bool = True,
) -> Array:
    """∇f(W) by Fact 2.5 (module docstring). ``first`` (the first loss index) and
    ``with_d`` (the factor D_{i,l+1}) exist for the deliberately broken variants."""
    if fwd is None:
        fwd = forward(W, A, X)
    n, L, m = fwd.H.shape
    grad = np.zeros((m, m))
    for i in range(n):
        D = (fwd.G[i] >= 0).astype(np.float64)  # D[l−1] = diag of D_{i,l}
        loss_ = fwd.H[i] @ B.T - Y[i]  # loss_{i,l}, row l−1
        c = np.zeros(m)
        for j in range(L, 0, -1):  # c_j, j = L..1
            nxt = W.T @ (D[j] * c) if j < L else np.zeros(m)
            c = (B.T @ loss_[j - 1] if j >= first else 0.0) + nxt
            if j >= 2:  # term l = j − 1: D_{l+1} c_{l+1} h_lᵀ
                grad += np.outer(D[j - 1] * c if with_d else c, fwd.H[i, j - 2])
    return grad
