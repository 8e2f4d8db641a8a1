"""scuRNN: the unitary recurrent matrix as a scaled Cayley transform of a skew-Hermitian A.

Parametrization and gradients (Maduranga, Helfrich & Ye, AAAI 2019; theory/orthogonal.md
§2.1–2.3), with plain transposes (no conjugation) where written ``ᵀ``::

    W    = C(A)·D,     C(A) = (I + A)⁻¹(I − A),   Aᴴ = −A,   D = diag(e^{iθ}), θ trainable
    G    = ∂L/∂W = ½(∂L/∂Re W − i·∂L/∂Im W)       Wirtinger (§0.4) = conj(G_problem)/2,
                                                   since problem.grad returns
                                                   G_problem = ∂L/∂Re W + i·∂L/∂Im W
    K    = (I + A)⁻¹(I − A)
    V    = (I + A)⁻ᵀ G (D + Wᵀ)
    DFA  = Vᵀ − conj(V)                            skew-Hermitian; d/dt L(A + tE)|₀ =
                                                   Re tr(DFAᴴE) for skew-Hermitian E
    ∂L/∂θ_j = 2·Re(i·e^{iθ_j}·(GᵀK)_jj)
    Re A ← Re A − η·Re DFA,  Im A ← Im A − η·Im DFA     (separately; RMSprop elementwise
                                                         on each part, as Update_step_A)
    θ    ← θ − η·∂L/∂θ;  W ← C(A)·D;  other parameters: θ ← θ − η·G_problem

Invariants (§2.3): Re DFA is exactly antisymmetric with a zero diagonal and Im DFA exactly
symmetric, so A stays bitwise skew-Hermitian; ``WᴴW = I`` to ``10·n·ε·sqrt(1 + ‖A‖₂²)``
for every skew-Hermitian A and real θ.

Start: ``W₀ = C(A₀)·e^{iφ}`` with one phase φ for all of D: the spectrum of ``W₀e^{−iφ}``
is that of W₀ turned by −φ, and φ puts −1 in the middle of the widest gap between W₀'s
eigen-angles (≥ 2π/n wide), so every eigen-angle α of ``C(A₀)`` has ``|α| ≤ π − π/n``
and ``‖A₀‖₂ = max|tan(α/2)| ≤ cot(π/(2n))`` (≈ 2n/π); ``A₀ = C(W₀e^{−iφ})``, made
bitwise skew-Hermitian by ``(M − Mᴴ)/2``.

``state`` (:class:`ScurnnState`) exposes ``A``, ``theta``, and ``grad_A`` (DFA),
``grad_theta`` of the step that produced it, for the ``cayley_complex.*`` claims.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from rnnverify.activations import MODRELU
from rnnverify.contract import Optimizer
from rnnverify.manifolds import cayley
from rnnverify.optimizers.scornn import (
    OPTIMIZERS,
    _check_lr,
    cayley_or_nan,
    skew_exact,
    solve_or_nan,
)
from rnnverify.problems import ProblemFamily, RNNProblem
from rnnverify.registry import Case, refs
from rnnverify.tree import Params

Array = NDArray[Any]


class ScurnnState(NamedTuple):
    """scuRNN's parametrization ``W_hh = C(A)·diag(e^{iθ})``.

    Attributes
    ----------
    A : (n, n) complex skew-Hermitian
    theta : (n,) real phases of D
    ms_re, ms_im, ms_theta : RMSprop accumulators of Re DFA, Im DFA and ∂L/∂θ
    grad_A, grad_theta : DFA and ∂L/∂θ of the step that produced this state
    """

    A: Array
    theta: Array
    ms_re: Array
    ms_im: Array
    ms_theta: Array
    grad_A: Array
    grad_theta: Array


def cayley_phase(A: Array, theta: Array) -> Array:
    """``W = C(A)·diag(e^{iθ})``."""
    return cayley_or_nan(A) * np.exp(1j * theta)[None, :]


def complex_cayley_gradients(A: Array, theta: Array, G: Array) -> tuple[Array, Array]:
    """``(DFA, ∂L/∂θ)`` of orthogonal.md §2.2 from the Wirtinger ``G = ∂L/∂W``.

    ``DFA = Vᵀ − conj(V)``, ``V = (I + A)⁻ᵀ G (D + Wᵀ)`` (plain transposes) and
    ``∂L/∂θ_j = 2·Re(i·e^{iθ_j}(GᵀK)_jj)``, ``K = C(A)``.
    """
    n = A.shape[0]
    K = cayley_or_nan(A)
    d = np.exp(1j * theta)
    W = K * d[None, :]
    V = solve_or_nan((np.eye(n) + A).T, G @ (np.diag(d) + W.T))
    DFA = V.T - V.conj()
    g_theta = 2 * np.real(1j * d * np.einsum("ij,ij->j", G, K))  # (GᵀK)_jj = Σ_i G_ij K_ij
    return DFA, g_theta


def wirtinger(G_problem: Array) -> Array:
    """``∂L/∂W = ½(∂L/∂Re W − i·∂L/∂Im W) = conj(G_problem)/2`` (orthogonal.md §0.4)."""
    return np.conj(G_problem) / 2


def phase_representation(W: Array) -> tuple[Array, Array]:
    """``(A, θ)`` with ``W ≈ C(A)·diag(e^{iθ})``, θ = φ·1 (module docstring)."""
    n = W.shape[0]
    alpha = np.sort(np.angle(np.linalg.eigvals(W)))
    gaps = np.diff(np.concatenate([alpha, alpha[:1] + 2 * np.pi]))
    j = int(np.argmax(gaps))
    middle = alpha[j] + gaps[j] / 2  # the point of the circle farthest from the spectrum
    phi = float(np.angle(np.exp(1j * (middle + np.pi))))  # W e^{−iφ} puts it at −1
    A = skew_exact(cayley(W * np.exp(-1j * phi)))
    return A, np.full(n, phi)


def scurnn(
    lr: float = 0.05,
    *,
    optimizer: str = "sgd",
    rho: float = 0.9,
    delta: float = 1e-8,
    target: str = "W_hh",
) -> Optimizer:
    """scuRNN on the complex ``target`` (η = ``lr``), gradient descent elsewhere.

    ``optimizer`` is the elementwise update applied separately to Re A, Im A and θ:
    ``"sgd"`` or ``"rmsprop"`` (decay ρ = ``rho``, δ = ``delta``).
    """
    _check_lr(lr)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer={optimizer!r}: expected one of {list(OPTIMIZERS)}")

    def update(x: Array, g: Array, ms: Array) -> tuple[Array, Array]:
        if optimizer == "rmsprop":
            ms = rho * ms + (1 - rho) * g * g
            return x - lr * g / (np.sqrt(ms) + delta), ms
        return x - lr * g, ms.copy()

    def init(problem: RNNProblem, params: Params) -> ScurnnState:
        W = np.asarray(params[target])
        if not np.iscomplexobj(W):
            raise ValueError(f"{target}: dtype {W.dtype}; scuRNN needs a complex (unitary) matrix")
        A, theta = phase_representation(W.astype(np.complex128))
        zr = np.zeros(A.shape)
        return ScurnnState(
            A, theta, zr, zr.copy(), np.zeros_like(theta), np.zeros_like(A), np.zeros_like(theta)
        )

    def step(problem: RNNProblem, params: Params, state: ScurnnState) -> tuple[Params, Any]:
        g = problem.grad(params)
        out = {k: (v - lr * g[k]).astype(v.dtype) for k, v in params.items() if k != target}
        DFA, g_theta = complex_cayley_gradients(state.A, state.theta, wirtinger(g[target]))
        re, ms_re = update(state.A.real, DFA.real, state.ms_re)
        im, ms_im = update(state.A.imag, DFA.imag, state.ms_im)
        theta, ms_theta = update(state.theta, g_theta, state.ms_theta)
        A = re + 1j * im
        out[target] = cayley_phase(A, theta).astype(params[target].dtype)
        new = ScurnnState(A, theta, ms_re, ms_im, ms_theta, DFA, g_theta)
        return {k: out[k] for k in params}, new

    def diagnostics(state: ScurnnState) -> dict[str, float]:
        return {"norm_A": float(np.linalg.norm(state.A, 2))}

    return Optimizer(init=init, step=step, diagnostics=diagnostics, activation=MODRELU.forward)


_COMPLEX = ProblemFamily(cells=("complex",), recurrent=("orthogonal",))
_CLAIMS = (
    "unitary.preserved:W_hh,drift=cayley",
    "cayley.skew_exact",
    "cayley.spectrum",
    "cayley.convention",
    "cayley_complex.gradient",
    "cayley_complex.theta_gradient",
    "modrelu.jacobian",
    "modrelu.nonexpansive",
)

CASES = [
    Case(scurnn, {"lr": 0.05}, claims=refs(*_CLAIMS), problems=_COMPLEX),
    Case(scurnn, {"lr": 0.01, "optimizer": "rmsprop"}, claims=refs(*_CLAIMS), problems=_COMPLEX),
]
