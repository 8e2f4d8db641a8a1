"""Small RNN problems: data, loss, exact forward pass and hand-written BPTT.

The model (column convention, theory/orthogonal.md §0.1)::

    z_t = W_hh h_{t-1} + W_ih x_t                 pre-activation without bias
    h_t = σ(z_t; b)                               σ from rnnverify.activations
    ŷ_t = V φ(h_t) + c                            φ(h) = h (real), [Re h; Im h] (complex)

with ``h_0`` given by the data (zeros). Parameter names are the model's own:

========  ==============  =====================================================
name      shape           meaning
========  ==============  =====================================================
``W_hh``  (n, n)          recurrent matrix (complex for the complex cell)
``W_ih``  (n, m)          input matrix (complex for the complex cell)
``b``     (n,)            bias; the modReLU threshold for ``modrelu`` (real)
``V``     (p, n) / (p, 2n) readout (real; acts on [Re h; Im h] for complex cells)
``c``     (p,)            readout bias
========  ==============  =====================================================

Losses, on a batch of ``B`` sequences of length ``T``::

    last :  L = 1/(2B)  Σ_b ‖ŷ_{T,b} − y_b‖²
    every:  L = 1/(2BT) Σ_{t,b} ‖ŷ_{t,b} − y_{t,b}‖²

Gradient convention for complex parameters (orthogonal.md §0.4): ``grad`` returns
``G = ∂L/∂Re θ + i·∂L/∂Im θ = 2·∂L/∂θ̄`` (the real-split gradient, as PyTorch and the
Wisdom et al. retraction use). With it ``dL = ⟨G, dθ⟩ = Re Σ conj(G)·dθ`` and plain
gradient descent ``θ ← θ − ηG`` descends. scuRNN's ``∂L/∂W`` is ``conj(G)/2``.

Problems are built from a :class:`ProblemSpec`: a small, hashable description (cell,
activation, sizes, loss, dtype, seed) from which data and initial parameters are drawn
deterministically, so that a spec printed in a verdict reproduces the problem exactly.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from rnnverify.activations import ACTIVATIONS, Activation
from rnnverify.tree import Params, freeze, freeze_array

CELLS: dict[str, tuple[str, ...]] = {
    "elman": ("tanh", "relu", "identity", "modrelu"),
    "complex": ("modrelu",),
}
LOSSES = ("last", "every")
DTYPES = ("float64", "float32")
RECURRENT_INITS = ("gaussian", "orthogonal")
"""How ``W_hh`` starts: ``gaussian`` (scaled to ‖W_hh‖₂ ≤ 1) or ``orthogonal`` (Haar on
O(n) for real cells, on U(n) for the complex cell: what orthogonal/unitary optimizers
preserve)."""
PARAM_NAMES = ("W_hh", "W_ih", "b", "V", "c")

_SPEC_RE = re.compile(
    r"^(?P<cell>[a-z]+)-(?P<act>[a-z]+)\((?P<args>[^()]*)\)$",
)


@dataclass(frozen=True)
class ProblemSpec:
    """Everything needed to rebuild a problem exactly.

    Parameters
    ----------
    cell : {"elman", "complex"}
    activation : str
        One of ``CELLS[cell]``.
    hidden, inputs, outputs : int
        n, m, p.
    steps, batch : int
        T, B.
    loss : {"last", "every"}
    dtype : {"float64", "float32"}
        Real dtype; complex cells use the matching complex dtype for W_hh and W_ih.
    seed : int
        Seed of the data and of the initial parameters.
    recurrent : {"gaussian", "orthogonal"}
        How ``W_hh`` starts (:data:`RECURRENT_INITS`); written ``W=orthogonal`` in the
        spec string, omitted when ``gaussian``.
    """

    cell: str = "elman"
    activation: str = "tanh"
    hidden: int = 2
    inputs: int = 1
    outputs: int = 1
    steps: int = 3
    batch: int = 1
    loss: str = "last"
    dtype: str = "float64"
    seed: int = 0
    recurrent: str = "gaussian"

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell={self.cell!r}: expected one of {sorted(CELLS)}")
        if self.activation not in CELLS[self.cell]:
            raise ValueError(
                f"activation={self.activation!r} for cell {self.cell!r}: "
                f"expected one of {list(CELLS[self.cell])}"
            )
        for name in ("hidden", "inputs", "outputs", "steps", "batch"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r}: expected a positive int")
        if self.loss not in LOSSES:
            raise ValueError(f"loss={self.loss!r}: expected one of {list(LOSSES)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype={self.dtype!r}: expected one of {list(DTYPES)}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed={self.seed!r}: expected a non-negative int")
        if self.recurrent not in RECURRENT_INITS:
            raise ValueError(
                f"recurrent={self.recurrent!r}: expected one of {list(RECURRENT_INITS)}"
            )

    @property
    def is_complex(self) -> bool:
        return self.cell == "complex"

    @property
    def real_dtype(self) -> np.dtype[Any]:
        return np.dtype(self.dtype)

    @property
    def hidden_dtype(self) -> np.dtype[Any]:
        if self.is_complex:
            return np.result_type(self.real_dtype, np.complex64)
        return self.real_dtype

    def __str__(self) -> str:
        return (
            f"{self.cell}-{self.activation}(n={self.hidden},m={self.inputs},p={self.outputs},"
            f"T={self.steps},B={self.batch},loss={self.loss},dtype={self.dtype},seed={self.seed}"
            + ("" if self.recurrent == "gaussian" else f",W={self.recurrent}")
            + ")"
        )

    @classmethod
    def parse(cls, text: str) -> ProblemSpec:
        """Inverse of ``str(spec)``: ``elman-tanh(n=2,m=1,p=1,T=3,B=1,loss=last,...)``.

        Keys may be omitted (defaults apply); unknown keys are an error.
        """
        m = _SPEC_RE.match(text.strip().replace(" ", ""))
        if m is None:
            raise ValueError(
                f"problem {text!r}: expected CELL-ACTIVATION(key=value,...), e.g. {str(cls())!r}"
            )
        keys = {
            "n": "hidden",
            "m": "inputs",
            "p": "outputs",
            "T": "steps",
            "B": "batch",
            "loss": "loss",
            "dtype": "dtype",
            "seed": "seed",
            "W": "recurrent",
        }
        kwargs: dict[str, Any] = {"cell": m["cell"], "activation": m["act"]}
        for item in filter(None, m["args"].split(",")):
            key, sep, value = item.partition("=")
            if not sep or key not in keys:
                raise ValueError(
                    f"problem {text!r}: bad entry {item!r}; expected key=value with key in "
                    f"{list(keys)}"
                )
            name = keys[key]
            textual = ("loss", "dtype", "recurrent")
            kwargs[name] = value if name in textual else _parse_int(text, key, value)
        return cls(**kwargs)


def _parse_int(text: str, key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"problem {text!r}: {key}={value!r} is not an integer") from None


@dataclass(frozen=True)
class RNNData:
    """Inputs ``x`` (T, m, B), targets ``y`` ((p, B) or (T, p, B)), initial state ``h0`` (n, B)."""

    x: NDArray[Any]
    y: NDArray[Any]
    h0: NDArray[Any]


@dataclass(frozen=True)
class Forward:
    """The forward pass: pre-activations ``z[t]``, states ``h[t]`` (``h[0] = h0``),
    outputs ``yhat[t]`` and the loss."""

    z: list[NDArray[Any]]
    h: list[NDArray[Any]]
    yhat: list[NDArray[Any]]
    loss: float


@dataclass(frozen=True)
class RNNProblem:
    """The oracle handed to optimizers: data, loss, exact gradient, model spec.

    Use :func:`make_problem` to build one from a :class:`ProblemSpec`.
    """

    spec: ProblemSpec
    data: RNNData
    params0: Mapping[str, NDArray[Any]]
    activation: Activation = field(repr=False)

    # -- structure ---------------------------------------------------------------------
    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: v.shape for k, v in self.params0.items()}

    @property
    def param_dtypes(self) -> dict[str, np.dtype[Any]]:
        return {k: v.dtype for k, v in self.params0.items()}

    def validate(self, params: Mapping[str, NDArray[Any]]) -> None:
        """Raise ``ValueError`` naming the first entry whose name, shape or dtype is off."""
        expected = set(self.params0)
        got = set(params)
        if got != expected:
            raise ValueError(
                f"parameters {sorted(got)}: expected exactly {sorted(expected)} "
                f"(missing {sorted(expected - got)}, extra {sorted(got - expected)})"
            )
        for k, v in params.items():
            ref = self.params0[k]
            if not isinstance(v, np.ndarray):
                raise ValueError(f"{k}: expected an ndarray, got {type(v).__name__}")
            if v.shape != ref.shape:
                raise ValueError(f"{k}: shape {v.shape}, expected {ref.shape}")
            if v.dtype != ref.dtype:
                raise ValueError(f"{k}: dtype {v.dtype}, expected {ref.dtype}")

    # -- forward -----------------------------------------------------------------------
    def _features(self, h: NDArray[Any]) -> NDArray[Any]:
        """φ(h) for states of shape (..., n, B): h, or [Re h; Im h] along the n axis."""
        if self.spec.is_complex:
            return np.concatenate([h.real, h.imag], axis=-2)
        return h

    def _features_adjoint(self, g: NDArray[Any]) -> NDArray[Any]:
        """φ's adjoint, (..., 2n, B) -> (..., n, B) for complex cells: a gradient with
        respect to φ(h) as one with respect to h, ``G_h = ∂L/∂Re h + i·∂L/∂Im h``."""
        if self.spec.is_complex:
            n = self.spec.hidden
            return g[..., :n, :] + 1j * g[..., n:, :]
        return g

    def _residual_weight(self) -> float:
        s = self.spec
        return 1.0 / (s.batch * (s.steps if s.loss == "every" else 1))

    def _target(self, t: int) -> NDArray[Any] | None:
        s = self.spec
        if s.loss == "every":
            return self.data.y[t]
        return self.data.y if t == s.steps - 1 else None

    def _states(
        self, W: NDArray[Any], U: NDArray[Any], b: NDArray[Any]
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        """The recurrence: pre-activations ``Z[t] = z_{t+1}`` (T, n, B) and states
        ``H[t] = h_t`` (T+1, n, B), ``H[0] = h0``::

            z_t = W_hh h_{t−1} + W_ih x_t,    h_t = σ(z_t; b)
        """
        x, h0 = self.data.x, self.data.h0
        act = self.activation.forward
        # The bias as a full (n, B) array: at these sizes a ufunc that broadcasts costs
        # more than the arithmetic, so b is broadcast once here, not at every step.
        bB = b.repeat(h0.shape[1]).reshape(h0.shape)
        # W_ih x_t for all t in one product (matmul broadcasts the (n, m) matrix over the
        # time axis of x, (T, m, B) -> (T, n, B)); each step then adds its W_hh h_{t−1}.
        Z = U @ x
        H = np.empty((len(Z) + 1, *h0.shape), dtype=Z.dtype)
        H[0] = h = h0
        for t, z in enumerate(Z):
            # ndarray.dot for 2-D products on the hot path: the same product as @, without
            # the generalized-ufunc overhead that is half its cost at these sizes
            z += W.dot(h)
            h = H[t + 1] = act(z, bB)
        return Z, H

    def _readout(
        self, V: NDArray[Any], c: NDArray[Any], H: NDArray[Any]
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        """Features ``φ(h_t)`` and residuals ``r_t = ŷ_t − y_t`` at the steps the loss
        uses (all, or the last), steps side by side: (n_feat, k·B) and (p, k·B).
        ``ŷ_t = V φ(h_t) + c`` is computed only there."""
        y = self.data.y
        if self.spec.loss == "every":
            F, Y = self._features(_flat(H[1:])), _flat(y)
        else:
            F, Y = self._features(H[-1]), y
        return F, V.dot(F) + c[:, None] - Y

    def _loss_value(self, R: NDArray[Any]) -> float:
        """``L = w/2 Σ ‖r_t‖²`` from the residuals of :meth:`_readout`."""
        return 0.5 * self._residual_weight() * float(np.vdot(R, R))

    def forward(self, params: Mapping[str, NDArray[Any]]) -> Forward:
        """Exact forward pass in the problem's dtype, with ``ŷ_t`` at every step."""
        W, U, b, V, c = (params[k] for k in PARAM_NAMES)
        Z, H = self._states(W, U, b)
        Yhat = V @ self._features(H[1:]) + c[:, None]  # (T, p, B)
        loss = self._loss_value(self._readout(V, c, H)[1])  # bitwise what loss() returns
        return Forward(list(Z), list(H), list(Yhat), loss)

    def loss(self, params: Mapping[str, NDArray[Any]]) -> float:
        """The loss ``L(params)`` as a Python float."""
        W, U, b, V, c = (params[k] for k in PARAM_NAMES)
        _, H = self._states(W, U, b)
        return self._loss_value(self._readout(V, c, H)[1])

    # -- reverse mode (BPTT) ----------------------------------------------------------
    def value_and_grad(self, params: Mapping[str, NDArray[Any]]) -> tuple[float, Params]:
        """Loss and its gradient by backpropagation through time.

        Returns the gradient in the convention of the module docstring, one entry per
        parameter, with the parameter's shape and dtype. With ``w`` the residual weight,
        ``g_•`` the gradient with respect to ``•`` and ``dh_t = p_t·dz_t + q_t·conj(dz_t)
        + u_t·db`` the activation's derivative (:class:`~rnnverify.activations.Jacobian`)::

            g_ŷ_t = w·(ŷ_t − y_t)                 at the steps the loss uses, else 0
            g_h_t = W_hhᴴ g_z_{t+1} + φᵀ(Vᵀ g_ŷ_t)    (g_z_{T+1} = 0)
            g_z_t = p_t·g_h_t + q_t·conj(g_h_t)
            G_W_hh = Σ_t g_z_t h_{t−1}ᴴ       G_W_ih = Σ_t g_z_t x_tᵀ
            g_b = Σ_t Re(conj(u_t)·g_h_t)
            G_V = Σ_t g_ŷ_t φ(h_t)ᵀ           g_c = Σ_t g_ŷ_t

        each sum also running over the batch. Only the recurrence ``g_h_t -> g_z_t ->
        g_h_{t−1}`` runs step by step; every other quantity is one product over all
        steps, with the steps side by side (see :func:`_flat`).
        """
        W, U, b, V, c = (params[k] for k in PARAM_NAMES)
        Z, H = self._states(W, U, b)
        F, R = self._readout(V, c, H)
        T, B = len(Z), Z.shape[2]

        # the readout, its k steps side by side
        GY = self._residual_weight() * R  # g_ŷ_t, (p, k·B)
        g_V = GY.dot(F.T)
        g_c = GY.sum(axis=1)
        GO = _unflat(self._features_adjoint(V.T.dot(GY)), B)  # φᵀ(Vᵀ g_ŷ_t), (k, n, B)

        # the recurrence, backwards from g_h_T: GZ[t] = g_z_{t+1}, GH[t] = g_h_{t+1}
        WH = W.conj().T
        every = self.spec.loss == "every"
        GZ, GH = np.empty_like(Z), np.empty_like(Z)
        gh = GO[-1]
        jacobian = self.activation.jacobian
        if jacobian is None:
            # the activation's own vjp at every step: what runs for an activation built
            # without `jacobian` (the tests' deliberately broken ones)
            bb = b[:, None]
            GB = np.empty(Z.shape, dtype=Z.real.dtype)
            for t in reversed(range(T)):
                gz, gb = self.activation.vjp(Z[t], bb, gh)
                GZ[t], GB[t] = gz, np.real(gb)
                gh = WH.dot(gz)
                if every and t:
                    gh = gh + GO[t - 1]
        else:
            # the coefficients of every step at once; p in Z's dtype, as a complex·complex
            # product is faster than a mixed one
            p, q, u = jacobian(Z, b[:, None], H[1:])
            p = p.astype(Z.dtype, copy=False)
            for t in reversed(range(T)):
                if u is not None:  # only g_b = Σ Re(ū·g_h) needs g_h
                    GH[t] = gh
                gz = GZ[t] = p[t] * gh if q is None else p[t] * gh + q[t] * gh.conj()
                gh = WH.dot(gz)
                if every and t:
                    gh = gh + GO[t - 1]
            GB = GZ if u is None else (u.conj() * GH).real

        # the parameters' gradients: one product each over (t, batch)
        GZ_flat = _flat(GZ)
        g = {
            "W_hh": GZ_flat.dot(_flat(H[:-1]).conj().T),
            "W_ih": GZ_flat.dot(_flat(self.data.x).T),
            "b": (GZ_flat if GB is GZ else _flat(GB)).real.sum(axis=1),
            "V": g_V,
            "c": g_c,
        }
        loss = self._loss_value(R)
        return loss, {k: v.astype(params[k].dtype, copy=False) for k, v in g.items()}

    def grad(self, params: Mapping[str, NDArray[Any]]) -> Params:
        """Gradient of the loss; see :meth:`value_and_grad`."""
        return self.value_and_grad(params)[1]

    # -- forward mode ------------------------------------------------------------------
    def kink_step(
        self, params: Mapping[str, NDArray[Any]], direction: Mapping[str, NDArray[Any]]
    ) -> float:
        """A certified lower bound on the ``t > 0`` at which ``params + t·direction`` first
        puts a pre-activation on a kink of the activation (``inf`` for smooth ones).

        Computed from the exact first-order change of every pre-activation (a tangent
        forward pass). It is first order: callers keep a safety factor below it.
        """
        act = self.activation
        W, U, b = params["W_hh"], params["W_ih"], params["b"]
        dW, dU, db = direction["W_hh"], direction["W_ih"], direction["b"]
        bb, dbb = b[:, None], db[:, None]
        h = self.data.h0
        dh = np.zeros_like(h)
        best = np.inf
        for t in range(self.spec.steps):
            x = self.data.x[t]
            z = W @ h + U @ x
            dz = dW @ h + W @ dh + dU @ x
            best = min(best, act.kink_step(z, bb, dz, dbb))
            h, dh = act.forward(z, bb), act.jvp(z, bb, dz, dbb)
        return best


def _flat(A: NDArray[Any]) -> NDArray[Any]:
    """Steps side by side, (T, k, B) -> (k, T·B), so that a sum over steps and batch is
    one product: ``Σ_t A_t C_tᵀ = _flat(A) _flat(C)ᵀ``."""
    return A.transpose(1, 0, 2).reshape(A.shape[1], -1)


def _unflat(A: NDArray[Any], B: int) -> NDArray[Any]:
    """The inverse of :func:`_flat` (a view), (k, T·B) -> (T, k, B)."""
    return A.reshape(A.shape[0], -1, B).transpose(1, 0, 2)


def init_params(spec: ProblemSpec, rng: np.random.Generator) -> Params:
    """Initial parameters, scaled so that the hidden state and the loss stay O(1) for every
    size in the family (a fixed learning rate then suits every problem):

    * ``W_hh`` ~ N(0, 1/n), divided by ``max(1, ‖W_hh‖₂)``: the recurrence is
      non-expansive at the start, whatever the activation;
    * ``W_ih`` ~ N(0, 1/(m·T)): the T input terms add up to an O(1) state;
    * ``V`` ~ N(0, 1/n_feat); ``b``, ``c`` ~ N(0, 0.1²), except ``b`` ~ U(−0.5, 0.5) for
      modReLU (both signs: b > 0 is scuRNN's singular case, orthogonal.md §2.4).

    Complex matrices draw real and imaginary parts each with half the variance.
    """
    n, m, p, T = spec.hidden, spec.inputs, spec.outputs, spec.steps
    real = spec.real_dtype
    cplx = spec.is_complex

    def gauss(shape: tuple[int, ...], var: float, complex_: bool) -> NDArray[Any]:
        if complex_:
            a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
            return a * np.sqrt(var / 2)
        return rng.standard_normal(shape) * np.sqrt(var)

    W = gauss((n, n), 1.0 / n, cplx)  # drawn in every case: the stream stays the same
    if spec.recurrent == "orthogonal":  # own stream: the other parameters stay the same
        W = haar(n, cplx, np.random.default_rng([spec.seed, 0, 1]))
    else:
        W = W / max(1.0, float(np.linalg.norm(W, 2)))
    n_feat = 2 * n if cplx else n
    params: Params = {
        "W_hh": W.astype(spec.hidden_dtype),
        "W_ih": gauss((n, m), 1.0 / (m * T), cplx).astype(spec.hidden_dtype),
        "b": (
            rng.uniform(-0.5, 0.5, n)
            if spec.activation == "modrelu"
            else rng.standard_normal(n) * 0.1
        ).astype(real),
        "V": gauss((p, n_feat), 1.0 / n_feat, False).astype(real),
        "c": (rng.standard_normal(p) * 0.1).astype(real),
    }
    return params


def haar(n: int, complex_: bool, rng: np.random.Generator) -> NDArray[Any]:
    """A Haar-distributed orthogonal (unitary if ``complex_``) n×n matrix: QR of a
    Gaussian matrix with the phase fix ``Q·diag(R_ii/|R_ii|)`` (Mezzadri 2007), which makes
    the distribution exactly Haar; both determinant signs occur for real matrices."""
    G = rng.standard_normal((n, n))
    if complex_:
        G = G + 1j * rng.standard_normal((n, n))
    Q, R = np.linalg.qr(G)
    d = np.diagonal(R)
    return Q * (d / np.abs(d))


def make_data(spec: ProblemSpec, rng: np.random.Generator) -> RNNData:
    """Standard Gaussian inputs and targets, zero initial state."""
    T, m, p, B = spec.steps, spec.inputs, spec.outputs, spec.batch
    real = spec.real_dtype
    x = rng.standard_normal((T, m, B)).astype(real)
    y_shape = (T, p, B) if spec.loss == "every" else (p, B)
    y = rng.standard_normal(y_shape).astype(real)
    h0 = np.zeros((spec.hidden, B), dtype=spec.hidden_dtype)
    return RNNData(freeze_array(x), freeze_array(y), freeze_array(h0))


def make_problem(
    spec: ProblemSpec | str,
    *,
    activation: Activation | None = None,
) -> RNNProblem:
    """Build the problem described by ``spec`` (a :class:`ProblemSpec` or its string).

    ``activation`` overrides the spec's activation object (used to inject a broken one
    in tests); the spec still names the intended activation.
    """
    if isinstance(spec, str):
        spec = ProblemSpec.parse(spec)
    params = init_params(spec, np.random.default_rng([spec.seed, 0]))
    data = make_data(spec, np.random.default_rng([spec.seed, 1]))
    return RNNProblem(
        spec=spec,
        data=data,
        params0=freeze(params),
        activation=activation or ACTIVATIONS[spec.activation],
    )


def rng_for(spec: ProblemSpec, purpose: int) -> np.random.Generator:
    """A generator for claim-internal randomness (directions, ...), fixed by the spec.

    ``purpose`` separates independent streams; 0 and 1 are taken by parameters and data.
    """
    if purpose < 2:
        raise ValueError(f"purpose={purpose}: 0 and 1 are reserved for parameters and data")
    return np.random.default_rng([spec.seed, purpose])


Cell = Literal["elman", "complex"]


@dataclass(frozen=True)
class ProblemFamily:
    """Which problems an optimizer (or a claim) runs on: the ranges Hypothesis draws from.

    Sizes are inclusive ``(low, high)`` ranges; ``activations=None`` means every
    activation the chosen cells support. The defaults are the issue's sizes: hidden 1–8,
    input 1–4, output 1–3, T 1–10, batch 1–4, both losses, float64, real cells only
    (complex support is a capability an optimizer declares), Gaussian ``W_hh``
    (orthogonal/unitary optimizers declare ``recurrent=("orthogonal",)``).
    """

    cells: tuple[str, ...] = ("elman",)
    activations: tuple[str, ...] | None = None
    hidden: tuple[int, int] = (1, 8)
    inputs: tuple[int, int] = (1, 4)
    outputs: tuple[int, int] = (1, 3)
    steps: tuple[int, int] = (1, 10)
    batch: tuple[int, int] = (1, 4)
    losses: tuple[str, ...] = LOSSES
    dtypes: tuple[str, ...] = ("float64",)
    recurrent: tuple[str, ...] = ("gaussian",)

    def __post_init__(self) -> None:
        for cell in self.cells:
            if cell not in CELLS:
                raise ValueError(f"cells: {cell!r} is not a cell; expected some of {sorted(CELLS)}")
        if not self.cells:
            raise ValueError("cells=(): expected at least one cell")
        if self.activations is not None:
            known = {a for c in self.cells for a in CELLS[c]}
            for a in self.activations:
                if a not in known:
                    raise ValueError(
                        f"activations: {a!r} is not an activation of cells {list(self.cells)}; "
                        f"expected some of {sorted(known)}"
                    )
        for name in ("hidden", "inputs", "outputs", "steps", "batch"):
            lo, hi = getattr(self, name)
            if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
                raise ValueError(
                    f"{name}=({lo!r}, {hi!r}): expected integers with 1 <= low <= high"
                )
        for loss in self.losses:
            if loss not in LOSSES:
                raise ValueError(f"losses: {loss!r}; expected some of {list(LOSSES)}")
        for dt in self.dtypes:
            if dt not in DTYPES:
                raise ValueError(f"dtypes: {dt!r}; expected some of {list(DTYPES)}")
        for init in self.recurrent:
            if init not in RECURRENT_INITS:
                raise ValueError(f"recurrent: {init!r}; expected some of {list(RECURRENT_INITS)}")
        if not self.losses or not self.dtypes or not self.recurrent:
            raise ValueError(
                "losses, dtypes and recurrent must not be empty: the family would be empty"
            )
        if not self.combinations():
            raise ValueError(f"{self!r} contains no (cell, activation) pair")

    def combinations(self) -> list[tuple[str, str]]:
        """The (cell, activation) pairs of the family, in a fixed order."""
        return [
            (c, a)
            for c in self.cells
            for a in CELLS[c]
            if self.activations is None or a in self.activations
        ]

    def contains(self, spec: ProblemSpec) -> bool:
        def inside(v: int, r: tuple[int, int]) -> bool:
            return r[0] <= v <= r[1]

        return (
            (spec.cell, spec.activation) in self.combinations()
            and inside(spec.hidden, self.hidden)
            and inside(spec.inputs, self.inputs)
            and inside(spec.outputs, self.outputs)
            and inside(spec.steps, self.steps)
            and inside(spec.batch, self.batch)
            and spec.loss in self.losses
            and spec.dtype in self.dtypes
            and spec.recurrent in self.recurrent
        )

    def restrict(self, **limits: Any) -> ProblemFamily:
        """Intersect with ``limits`` (same field names); raise if the result is empty."""
        changes: dict[str, Any] = {}
        for name, value in limits.items():
            mine = getattr(self, name)
            if name in ("hidden", "inputs", "outputs", "steps", "batch"):
                lo, hi = max(mine[0], value[0]), min(mine[1], value[1])
                if lo > hi:
                    raise ValueError(
                        f"{name}: {mine} and {tuple(value)} do not intersect; no problem fits both"
                    )
                changes[name] = (lo, hi)
            elif name == "activations":
                current = (
                    mine if mine is not None else tuple(a for c in self.cells for a in CELLS[c])
                )
                changes[name] = tuple(a for a in current if a in value)
            else:
                changes[name] = tuple(v for v in mine if v in value)
        return dataclasses.replace(self, **changes)
