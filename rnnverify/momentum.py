"""MomentumRNN cell (Nguyen et al., NeurIPS 2020; theory/orthogonal.md §5).

The paper's letters (§5.1, *notation warning*): **U is recurrent, W is input**, so
``U = W_hh`` and ``W = W_ih`` of :mod:`rnnverify.problems` (column convention, bias ``b``
inside the activation as there, ``σ(z; b)``)::

    v_t = μ·v_{t−1} + s·W x_t                 (velocity; μ = ``mu``, s = ``s``)
    h_t = σ(U h_{t−1} + v_t; b)               (h₀ = data.h0 = 0, v₀ = 0)

with the readout and loss of the problem (``ŷ_t = V h_t + c``, ``last``/``every``).
μ = 0, s = 1 is the problem's Elman cell (§5.2 item 1) — and with the operation order
used here (``W x`` for all t as one product, ``0·v + 1·Wx`` exact, then ``+ U h``),
bitwise so.

A *cell step* is a function ``cell(Uh, Wx, v_prev, mu, s) -> (z, v)``; :func:`momentum_cell`
is the paper's. Every function here takes the cell as an argument, so that a broken cell
(tests/mutants_momentum.py) is broken everywhere at once: forward, Jacobians, the
augmented linear map and the gradient. All of these use only that the cell is linear in
``(Uh, Wx, v_prev)`` for fixed (μ, s): its derivative is itself, applied to tangents, and
its coefficients are read off by probing it with unit scalars (:func:`coefficients`).

Jacobians (§5.2 item 4), for one batch column: with Σ_k = diag σ'(z_k),

    ∂h_T/∂h_t |_{v_t fixed} = Π_{k=t+1}^{T} Σ_k U
    ∂h_T/∂x_t = Σ_{j=t}^{T} [Π_{k=j+1}^{T} Σ_k U]·Σ_j·μ^{j−t}·s·W

computed by forward-mode tangents through the cell (not from the closed forms, which the
check uses via finite differences).

Linear case (σ = id, §5.2 item 5): ``(h_t, v_t) = A (h_{t−1}, v_{t−1}) + (sWx_t, sWx_t)``
with ``A = [[U, μI], [0, μI]]``, spec(A) = spec(U) ∪ {μ (n times)}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.activations import Activation
from rnnverify.problems import RNNProblem

Array = NDArray[Any]
Cell = Callable[[Any, Any, Any, float, float], tuple[Any, Any]]


def momentum_cell(Uh: Any, Wx: Any, v_prev: Any, mu: float, s: float) -> tuple[Any, Any]:
    """``v = μ·v_prev + s·Wx``, ``z = v + Uh`` (§5.1); returns ``(z, v)``."""
    v = mu * v_prev + s * Wx
    return v + Uh, v


class MomentumForward(NamedTuple):
    """``Z[t] = z_{t+1}`` (T, n, B); ``H[t] = h_t`` (T+1, n, B); ``Vel[t] = v_t`` (T+1, n, B)."""

    Z: Array
    H: Array
    Vel: Array


def forward(
    cell: Cell,
    U: Array,
    W: Array,
    b: Array,
    x: Array,
    h0: Array,
    mu: float,
    s: float,
    act: Activation,
) -> MomentumForward:
    """The recurrence of the module docstring; ``x`` (T, m, B), ``h0`` (n, B)."""
    bB = b.repeat(h0.shape[1]).reshape(h0.shape)  # as problems.RNNProblem._states
    WX = W @ x  # all W x_t in one product, as the Elman forward does
    T = len(WX)
    Z = np.empty_like(WX)
    H = np.empty((T + 1, *h0.shape), dtype=WX.dtype)
    Vel = np.empty_like(H)
    H[0] = h = h0
    Vel[0] = v = np.zeros_like(h0)
    for t in range(T):
        z, v = cell(U.dot(h), WX[t], v, mu, s)
        Z[t], Vel[t + 1] = z, v
        h = H[t + 1] = act.forward(z, bB)
    return MomentumForward(Z, H, Vel)


def coefficients(cell: Cell, mu: float, s: float) -> Array:
    """The cell's linear map as a 2×3 matrix: rows (z, v), columns (Uh, Wx, v_prev),
    read off by probing the cell with unit scalars (it is linear in these inputs)."""
    C = np.empty((2, 3))
    for j, unit in enumerate(np.eye(3)):
        z, v = cell(unit[0], unit[1], unit[2], mu, s)
        C[:, j] = (float(z), float(v))
    return C


def jacobians(
    cell: Cell,
    U: Array,
    W: Array,
    b: Array,
    x: Array,
    h0: Array,
    mu: float,
    s: float,
    act: Activation,
    fwd: MomentumForward | None = None,
    column: int = 0,
) -> tuple[Array, Array]:
    """``(J_h, J_x)`` for batch column ``column``: ``J_h[t] = ∂h_T/∂h_t`` with v_t held
    fixed (n, n), ``J_x[t] = ∂h_T/∂x_{t+1}`` (n, m), t = 0..T−1 (§5.2 item 4), by
    forward-mode tangents through the cell: ``dz, dv = cell(U dh, W dx, dv)``,
    ``dh = σ'(z)·dz``."""
    if fwd is None:
        fwd = forward(cell, U, W, b, x, h0, mu, s, act)
    T, n, m = x.shape[0], U.shape[0], W.shape[1]
    bc = b[:, None]
    zero_n = np.zeros((n, 1))
    J_h = np.empty((T, n, n), dtype=U.dtype)
    J_x = np.empty((T, n, m), dtype=U.dtype)

    def sigma_prime(t: int, dz: Array) -> Array:  # σ'(z_{t+1})·dz, z_{t+1} = Z[t]
        return act.jvp(fwd.Z[t][:, column : column + 1], bc, dz, zero_n)

    for t in range(T):
        # ∂h_T/∂h_t, v_t fixed: dh_t = I, dv_t = 0
        dh, dv = np.eye(n, dtype=U.dtype), np.zeros((n, n), dtype=U.dtype)
        for j in range(t, T):
            dz, dv = cell(U.dot(dh), np.zeros_like(dh), dv, mu, s)
            dh = sigma_prime(j, dz)
        J_h[t] = dh
        # ∂h_T/∂x_{t+1}: dh_t = 0, dv_t = 0, dx_{t+1} = I, later dx = 0
        dh, dv = np.zeros((n, m), dtype=U.dtype), np.zeros((n, m), dtype=U.dtype)
        for j in range(t, T):
            dWx = W if j == t else np.zeros((n, m), dtype=U.dtype)
            dz, dv = cell(U.dot(dh), dWx, dv, mu, s)
            dh = sigma_prime(j, dz)
        J_x[t] = dh
    return J_h, J_x


def augmented(cell: Cell, U: Array, mu: float, s: float) -> Array:
    """The linear (σ = id) transition of ``(h, v)``: ``[[∂h_t/∂h_{t−1}, ∂h_t/∂v_{t−1}],
    [∂v_t/∂h_{t−1}, ∂v_t/∂v_{t−1}]]`` from the cell, = ``[[U, μI], [0, μI]]`` for the
    paper's cell (§5.2 item 5)."""
    n = U.shape[0]
    eye, zero = np.eye(n, dtype=U.dtype), np.zeros((n, n), dtype=U.dtype)
    zh, vh = cell(U.dot(eye), zero, zero, mu, s)
    zv, vv = cell(U.dot(zero), zero, eye, mu, s)
    return np.block([[zh, zv], [vh, vv]])


def value_and_grad(
    cell: Cell, problem: RNNProblem, params: dict[str, Array], mu: float, s: float
) -> tuple[float, dict[str, Array], MomentumForward]:
    """Loss of the momentum model on the problem's data and readout, its gradient by BPTT
    and the forward pass. With the cell's coefficients ``z = a_z·Uh + w_z·Wx + v_z·v_prev``,
    ``v = a_v·Uh + w_v·Wx + v_v·v_prev`` (:func:`coefficients`) and ``g_z = σ'·g_h``::

        g_{Uh_{t−1}} = a_z g_z_t + a_v g_v_t      g_{Wx_t} = w_z g_z_t + w_v g_v_t
        g_v_{t−1}   = v_z g_z_t + v_v g_v_t       g_h_{t−1} += Uᵀ g_{Uh_{t−1}}
        G_U = Σ_t g_{Uh_t} h_{t−1}ᵀ   G_W = Σ_t g_{Wx_t} x_tᵀ   g_b = Σ σ'_b g_h

    Real cells only (``problem.spec.cell == "elman"``)."""
    U, W, b, V, c = (params[k] for k in ("W_hh", "W_ih", "b", "V", "c"))
    data, spec = problem.data, problem.spec
    act = problem.activation
    fwd = forward(cell, U, W, b, data.x, data.h0, mu, s, act)
    T, B = spec.steps, spec.batch
    every = spec.loss == "every"
    w = 1.0 / (B * (T if every else 1))
    gh_out = np.zeros_like(fwd.H)  # ∂L/∂h_t from the readout
    loss = 0.0
    g_V, g_c = np.zeros_like(V), np.zeros_like(c)
    for t in range(1, T + 1):
        if every:
            y = data.y[t - 1]
        elif t == T:
            y = data.y
        else:
            continue
        r = V.dot(fwd.H[t]) + c[:, None] - y
        loss += 0.5 * w * float(np.sum(r * r))
        gy = w * r
        g_V += gy.dot(fwd.H[t].T)
        g_c += gy.sum(axis=1)
        gh_out[t] = V.T.dot(gy)
    (az, wz, vz), (av, wv, vv) = coefficients(cell, mu, s)
    g_U, g_W, g_b = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    bb = b[:, None]
    gh = np.zeros_like(data.h0)
    gv = np.zeros_like(data.h0)
    for t in range(T, 0, -1):
        gh = gh + gh_out[t]
        gz, gbias = act.vjp(fwd.Z[t - 1], bb, gh)
        g_b += np.real(gbias).sum(axis=1)
        g_Uh = az * gz + av * gv
        g_Wx = wz * gz + wv * gv
        gv = vz * gz + vv * gv
        g_U += g_Uh.dot(fwd.H[t - 1].T)
        g_W += g_Wx.dot(data.x[t - 1].T)
        gh = U.T.dot(g_Uh)
    grads = {"W_hh": g_U, "W_ih": g_W, "b": g_b, "V": g_V, "c": g_c}
    return loss, grads, fwd
