"""Backpropagation through time, derived by sympy from the unrolled loss of one sequence.

The model (column convention, as in :mod:`rnnverify.problems`), for one sequence
``x_1, …, x_T`` with target ``y``::

    z_t = W_hh h_{t−1} + W_ih x_t,            h_0 = 0
    h_t = σ(z_t; b)
    ŷ_t = V φ(h_t) + c                         φ(h) = h (real), [Re h; Im h] (complex)
    ℓ   = ½ ‖ŷ_T − y‖²                         loss "last"
    ℓ   = 1/(2T) Σ_t ‖ŷ_t − y_t‖²              loss "every"

and on a batch of ``B`` sequences ``L = (1/B) Σ_b ℓ_b``, which is the problem's
``1/(2B)`` or ``1/(2BT)`` weighting. The activations are written from their definitions,
with ``a = z + b``:

============  ======================================================================
``tanh``      ``tanh(a)``
``relu``      ``Max(0, a)``
``identity``  ``a``
``modrelu``   real: ``Piecewise((Max(z + b, 0), z > 0), (Min(z − b, 0), True))``
              ``= sign(z)·max(|z| + b, 0)``; complex ``z = u + iv``, ``r = √(u² + v²)``:
              ``(Re h, Im h) = Piecewise(((r + b)/r·(u, v), r + b > 0), (0, True))``
============  ======================================================================

The derivation
--------------
Every parameter entry is a real symbol ``θ_k`` (a complex entry is two: its real and
imaginary parts) and so is every data entry. The loss is unrolled over the ``T`` steps
with each pre-activation and hidden-state coordinate (real and imaginary parts for the
complex cell) kept as a real *undefined function of the parameters it depends on*,
``z_{t,i}(θ)``, ``h_{t,i}(θ)``, whose definition is the formula above in the previous
functions. Then

* ``sympy.diff(ℓ, θ_k)`` differentiates the unrolled loss; sympy's chain rule stops at
  the states and leaves the inner derivatives ``Derivative(h_{T,i}(θ), θ_k)``;
* each inner derivative is ``sympy.diff`` of that state's definition, which in turn
  leaves ``Derivative(z_{T,i}(θ), θ_k)``, then ``Derivative(h_{T−1,j}(θ), θ_k)``, and so
  on down to ``t = 1``.

Substituting every inner derivative and every state by its value gives exactly
``sympy.diff`` of the fully substituted loss (the test suite checks this on the smallest
structures, evaluating that in 30-digit arithmetic), but each inner derivative is taken
once per state rather than once per occurrence. The fully substituted loss is a *tree*
that grows geometrically with T — 27 515 nodes for elman modReLU and 23 109 for complex
modReLU at n = m = p = 2 (T = 3 and T = 2) over only a few hundred distinct
subexpressions — and ``sympy.diff``, ``free_symbols`` and ``lambdify`` walk trees, not
DAGs: differentiating it took ~10 s (elman modReLU, T = 3) and minutes (complex, T = 3).
(Also, sympy folds a ``Piecewise`` inside a condition into a boolean ``Piecewise`` that
``lambdify`` turns into a float ``numpy.select``: the substituted real modReLU does not
even lambdify correctly.) Here the conditions only ever read state variables.

This is forward-mode differentiation (tangents ``∂h_t/∂θ``), a different algorithm from
the reverse-mode BPTT it checks, and every derivative in it is sympy's: nothing is ported
from :meth:`rnnverify.problems.RNNProblem.value_and_grad` or
:class:`rnnverify.activations.Activation`. No ``simplify`` is called.

The result is a straight-line program — states and tangents level by level, each level's
right-hand sides reduced by ``sympy.cse`` — lambdified with ``modules="numpy"`` (the
program is handed to ``lambdify`` as its ``cse``). For a complex parameter ``θ`` the
gradient is reassembled as ``G = ∂ℓ/∂Re θ + i·∂ℓ/∂Im θ = 2·∂ℓ/∂θ̄`` (theory/orthogonal.md
§0.4).

sympy differentiates ``Max``/``Min`` into ``Heaviside`` and ``Piecewise`` into a
``Piecewise`` of the branch derivatives; both lambdify to ``numpy.select``. Their values
*on* a kink are conventions, not derivatives: evaluate away from kinks.

The derivation is per sequence, so the batch size does not enter it; builds are cached by
structure (:func:`symbolic_bptt`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import NDArray
from sympy.core.function import AppliedUndef

from rnnverify.problems import CELLS, LOSSES, PARAM_NAMES, RNNProblem

Vector = list[sp.Expr]
Matrix = list[list[sp.Expr]]
Entry = tuple[str, tuple[int, ...], str]
"""One real coordinate of a parameter: ``(name, index, part)`` with part ``"real"``
(a real parameter's entry), ``"re"`` or ``"im"`` (the parts of a complex entry)."""
Assignment = tuple[sp.Symbol, sp.Expr]


@dataclass(frozen=True, eq=False)
class SymbolicBPTT:
    """Loss and gradient of one sequence, derived by sympy and lambdified to numpy.

    Attributes
    ----------
    cell, activation : str
        The cell (``"elman"``, ``"complex"``) and activation, as in ``ProblemSpec``.
    hidden, inputs, outputs, steps : int
        n, m, p, T.
    loss_kind : {"last", "every"}
        Which outputs enter the loss.
    entries : tuple of (name, index, part)
        The real coordinates ``θ_k`` of the parameters, in the order of
        ``parameter_symbols`` and of the gradient function's outputs.
    parameter_symbols, data_symbols : tuple of sympy.Symbol
        ``θ_k``; then ``x[t, k]`` row-major and ``y[q]`` (``"last"``) or ``y[t, q]``.
        Together, in this order, the arguments of both lambdified functions.
    states : tuple of (state, definition)
        Every pre-activation and hidden-state coordinate ``z_{t,i}(θ)``, ``h_{t,i}(θ)``
        (real and imaginary parts for the complex cell) as an undefined real function of
        the parameters it depends on, with its definition in earlier states, in the order
        of evaluation.
    loss_expression : sympy.Expr
        ``ℓ`` in the last states (``"last"``) or in all of them (``"every"``).
    loss_function : callable ``(*parameters, *data) -> float``
        ``ℓ`` of one sequence.
    gradient_function : callable ``(*parameters, *data) -> list of float``
        ``∂ℓ/∂θ_k`` for every coordinate ``θ_k`` of ``entries``.
    build_seconds : float
        Wall time of the derivation (unrolling, ``sympy.diff``, ``cse``, ``lambdify``).
    """

    cell: str
    activation: str
    hidden: int
    inputs: int
    outputs: int
    steps: int
    loss_kind: str
    entries: tuple[Entry, ...]
    parameter_symbols: tuple[sp.Symbol, ...] = field(repr=False)
    data_symbols: tuple[sp.Symbol, ...] = field(repr=False)
    states: tuple[tuple[sp.Expr, sp.Expr], ...] = field(repr=False)
    loss_expression: sp.Expr = field(repr=False)
    loss_function: Callable[..., Any] = field(repr=False)
    gradient_function: Callable[..., Any] = field(repr=False)
    build_seconds: float = 0.0

    @property
    def is_complex(self) -> bool:
        return self.cell == "complex"

    @property
    def arguments(self) -> tuple[sp.Symbol, ...]:
        """Arguments of the lambdified functions: parameter, then data symbols."""
        return (*self.parameter_symbols, *self.data_symbols)

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of ``W_hh, W_ih, b, V, c``: (n, n), (n, m), (n,), (p, n_feat), (p,)."""
        return _param_shapes(self.cell, self.hidden, self.inputs, self.outputs)

    @property
    def target_shape(self) -> tuple[int, ...]:
        """Shape of one sequence's target: (p,) for ``"last"``, (T, p) for ``"every"``."""
        if self.loss_kind == "every":
            return (self.steps, self.outputs)
        return (self.outputs,)

    def unrolled_loss(self) -> sp.Expr:
        """``ℓ`` with every state replaced by its definition: an expression in the parameter
        and data symbols only. Its size grows geometrically with T; for tests on the
        smallest structures (``sympy.diff`` of it must equal :attr:`gradient_function`)."""
        value: dict[sp.Expr, sp.Expr] = {}
        for state, definition in self.states:
            value[state] = definition.xreplace(value)
        return self.loss_expression.xreplace(value)

    # -- evaluation --------------------------------------------------------------------
    def loss(
        self,
        params: Mapping[str, NDArray[Any]],
        x_seq: NDArray[Any],
        y_seq: NDArray[Any],
    ) -> float:
        """``ℓ(params; x_seq, y_seq)`` of one sequence (x_seq (T, m), y_seq (p,) or (T, p))."""
        return float(self.loss_function(*self.argument_values(params, x_seq, y_seq)))

    def gradient(
        self,
        params: Mapping[str, NDArray[Any]],
        x_seq: NDArray[Any],
        y_seq: NDArray[Any],
    ) -> dict[str, NDArray[Any]]:
        """``∂ℓ/∂θ`` of one sequence for every parameter ``θ``.

        Real parameters get the ordinary gradient (float64); complex ones
        ``∂ℓ/∂Re θ + i·∂ℓ/∂Im θ`` (complex128). Shapes are :attr:`param_shapes`.
        """
        return self._gradient_dict(
            self.gradient_function(*self.argument_values(params, x_seq, y_seq))
        )

    def value_and_gradient(
        self,
        params: Mapping[str, NDArray[Any]],
        x_seq: NDArray[Any],
        y_seq: NDArray[Any],
    ) -> tuple[float, dict[str, NDArray[Any]]]:
        """``(ℓ, ∂ℓ/∂θ)`` of one sequence; see :meth:`loss` and :meth:`gradient`."""
        args = self.argument_values(params, x_seq, y_seq)
        return float(self.loss_function(*args)), self._gradient_dict(self.gradient_function(*args))

    def _gradient_dict(self, values: Sequence[Any]) -> dict[str, NDArray[Any]]:
        complex_names = {name for name, _, part in self.entries if part != "real"}
        grad = {
            name: np.zeros(shape, np.complex128 if name in complex_names else np.float64)
            for name, shape in self.param_shapes.items()
        }
        for (name, index, part), value in zip(self.entries, values, strict=True):
            v = float(value)
            grad[name][index] += 1j * v if part == "im" else v
        return grad

    def argument_values(
        self,
        params: Mapping[str, NDArray[Any]],
        x_seq: NDArray[Any],
        y_seq: NDArray[Any],
    ) -> list[float]:
        """The values of :attr:`arguments` (floats) for one sequence; validates shapes."""
        shapes = self.param_shapes
        if set(params) != set(shapes):
            raise ValueError(f"parameters {sorted(params)}: expected exactly {sorted(shapes)}")
        arrays: dict[str, NDArray[Any]] = {}
        for name, shape in shapes.items():
            a = np.asarray(params[name])
            if a.shape != shape:
                raise ValueError(f"{name}: shape {a.shape}, expected {shape} for {self}")
            if np.iscomplexobj(a) and not (self.is_complex and name in ("W_hh", "W_ih")):
                raise ValueError(f"{name}: dtype {a.dtype} is complex; expected real for {self}")
            arrays[name] = a
        x = np.asarray(x_seq)
        if x.shape != (self.steps, self.inputs):
            raise ValueError(
                f"x_seq: shape {x.shape}, expected (T, m) = {(self.steps, self.inputs)}"
            )
        y = np.asarray(y_seq)
        if y.shape != self.target_shape:
            raise ValueError(
                f"y_seq: shape {y.shape}, expected {self.target_shape} for loss {self.loss_kind!r}"
            )
        out: list[float] = []
        for name, index, part in self.entries:
            value = arrays[name][index]
            out.append(float(np.imag(value) if part == "im" else np.real(value)))
        out.extend(float(v) for v in x.ravel())
        out.extend(float(v) for v in y.ravel())
        return out


# ---------------------------------------------------------------------------------------
# the derivation
# ---------------------------------------------------------------------------------------


@functools.cache  # = functools.lru_cache(maxsize=None)
def symbolic_bptt(
    cell: str,
    activation: str,
    hidden: int,
    inputs: int,
    outputs: int,
    steps: int,
    loss: str,
) -> SymbolicBPTT:
    """Derive loss and gradient of one sequence of the RNN described by the arguments.

    ``ℓ`` (module docstring) is unrolled over ``T = steps`` in real symbols for every
    parameter and data entry, with states as undefined functions of the parameters;
    ``∂ℓ/∂θ_k = sympy.diff(ℓ, θ_k)`` for every parameter coordinate, the chain rule's inner
    derivatives ``∂h_t/∂θ_k`` by ``sympy.diff`` of the states' definitions; loss and
    gradient are lambdified (numpy). Cached: each structure is derived once per process.

    Parameters
    ----------
    cell : {"elman", "complex"}
    activation : str
        One of ``rnnverify.problems.CELLS[cell]``.
    hidden, inputs, outputs, steps : int
        n, m, p, T (positive).
    loss : {"last", "every"}

    Returns
    -------
    SymbolicBPTT
    """
    _validate(cell, activation, hidden, inputs, outputs, steps, loss)
    start = time.perf_counter()
    n, m, p, T = hidden, inputs, outputs, steps
    cplx = cell == "complex"

    # parameters: one real symbol per real coordinate
    entries: list[Entry] = []
    theta: list[sp.Symbol] = []

    def matrix(name: str, rows: int, cols: int, part: str = "real") -> Matrix:
        tag = "" if part == "real" else f"_{part}"
        mat: Matrix = []
        for i in range(rows):
            row: Vector = []
            for j in range(cols):
                theta.append(sp.Symbol(f"{name}{tag}_{i}_{j}", real=True))
                entries.append((name, (i, j), part))
                row.append(theta[-1])
            mat.append(row)
        return mat

    def vector(name: str, size: int) -> Vector:
        vec: Vector = []
        for i in range(size):
            theta.append(sp.Symbol(f"{name}_{i}", real=True))
            entries.append((name, (i,), "real"))
            vec.append(theta[-1])
        return vec

    if cplx:
        W_re, W_im = matrix("W_hh", n, n, "re"), matrix("W_hh", n, n, "im")
        U_re, U_im = matrix("W_ih", n, m, "re"), matrix("W_ih", n, m, "im")
    else:
        W, U = matrix("W_hh", n, n), matrix("W_ih", n, m)
    b = vector("b", n)
    V = matrix("V", p, 2 * n if cplx else n)
    c = vector("c", p)

    # data
    x = [[sp.Symbol(f"x_{t}_{k}", real=True) for k in range(m)] for t in range(T)]
    if loss == "every":
        y = [[sp.Symbol(f"y_{t}_{q}", real=True) for q in range(p)] for t in range(T)]
    else:
        y = [[sp.Symbol(f"y_{q}", real=True) for q in range(p)]]

    # forward pass, unrolled; each state coordinate a real function of its parameters
    position = {s: k for k, s in enumerate(theta)}
    states: list[tuple[sp.Expr, sp.Expr]] = []

    def state(name: str, definition: sp.Expr) -> sp.Expr:
        depends_on = sorted(definition.free_symbols & position.keys(), key=position.__getitem__)
        h = sp.Function(name, real=True)(*depends_on)
        states.append((h, definition))
        return h

    zero: Vector = [sp.S.Zero] * n
    yhats: list[Vector] = []
    if cplx:
        h_re, h_im = zero, zero
        for t in range(1, T + 1):
            # z = W h + U x with W = W_re + i·W_im, h = h_re + i·h_im, U = U_re + i·U_im
            Wh_re = _sub(_matvec(W_re, h_re), _matvec(W_im, h_im))
            Wh_im = _add(_matvec(W_re, h_im), _matvec(W_im, h_re))
            Ux_re, Ux_im = _matvec(U_re, x[t - 1]), _matvec(U_im, x[t - 1])
            z_re = [state(f"z_re_{t}_{i}", a) for i, a in enumerate(_add(Wh_re, Ux_re))]
            z_im = [state(f"z_im_{t}_{i}", a) for i, a in enumerate(_add(Wh_im, Ux_im))]
            parts = [_complex_modrelu(z_re[i], z_im[i], b[i]) for i in range(n)]
            h_re = [state(f"h_re_{t}_{i}", parts[i][0]) for i in range(n)]
            h_im = [state(f"h_im_{t}_{i}", parts[i][1]) for i in range(n)]
            yhats.append(_add(_matvec(V, h_re + h_im), c))
    else:
        h = zero
        for t in range(1, T + 1):
            z_def = _add(_matvec(W, h), _matvec(U, x[t - 1]))
            z = [state(f"z_{t}_{i}", a) for i, a in enumerate(z_def)]
            h = [state(f"h_{t}_{i}", _real_activation(activation, z[i], b[i])) for i in range(n)]
            yhats.append(_add(_matvec(V, h), c))

    if loss == "every":
        ell = sp.Rational(1, 2 * T) * sp.Add(
            *((yhats[t][q] - y[t][q]) ** 2 for t in range(T) for q in range(p))
        )
    else:
        ell = sp.Rational(1, 2) * sp.Add(*((yhats[-1][q] - y[0][q]) ** 2 for q in range(p)))

    # the derivation: sympy.diff of the unrolled loss, and of each state's definition for
    # the inner derivatives its chain rule leaves, Derivative(h_t(θ), θ_k)
    gradient = [sp.diff(ell, s) for s in theta]
    tangents = {(h, s): sp.diff(definition, s) for h, definition in states for s in h.args}

    # straight-line program: a variable for every state and every inner derivative
    variables: dict[sp.Expr, sp.Symbol] = {}
    for h, _ in states:
        variables[h] = sp.Symbol(h.func.__name__, real=True)
        for s in h.args:
            variables[sp.Derivative(h, s)] = sp.Symbol(f"d{h.func.__name__}__d{s}", real=True)

    def to_program(expr: sp.Expr) -> sp.Expr:
        """Replace states and inner derivatives by the program's variables."""
        out = expr.xreplace(variables)
        if out.has(sp.Derivative, AppliedUndef):
            raise AssertionError(f"derivation left a derivative or state unreplaced in {out}")
        return out

    # a state's level is one more than the highest level it reads: states of one level
    # never read each other, so one level is one block of the program
    level: dict[sp.Expr, int] = {}
    for h, definition in states:
        level[h] = 1 + max((level[g] for g in definition.atoms(AppliedUndef)), default=-1)
    state_blocks: list[list[Assignment]] = [[] for _ in range(max(level.values()) + 1)]
    tangent_blocks: list[list[Assignment]] = [[] for _ in state_blocks]
    for h, definition in states:
        state_blocks[level[h]].append((variables[h], to_program(definition)))
        tangent_blocks[level[h]].extend(
            (variables[sp.Derivative(h, s)], to_program(tangents[h, s])) for s in h.args
        )
    data = [s for row in x for s in row] + [s for row in y for s in row]
    args = [*theta, *data]
    loss_function = _lambdify(args, state_blocks, to_program(ell))
    gradient_function = _lambdify(
        args,
        [s + d for s, d in zip(state_blocks, tangent_blocks, strict=True)],
        [to_program(g) for g in gradient],
    )
    return SymbolicBPTT(
        cell=cell,
        activation=activation,
        hidden=n,
        inputs=m,
        outputs=p,
        steps=T,
        loss_kind=loss,
        entries=tuple(entries),
        parameter_symbols=tuple(theta),
        data_symbols=tuple(data),
        states=tuple(states),
        loss_expression=ell,
        loss_function=loss_function,
        gradient_function=gradient_function,
        build_seconds=time.perf_counter() - start,
    )


def _lambdify(
    args: Sequence[sp.Symbol],
    blocks: Sequence[Sequence[Assignment]],
    outputs: sp.Expr | list[sp.Expr],
) -> Callable[..., Any]:
    """Lambdify (numpy) the straight-line program ``blocks`` followed by ``outputs``.

    Each block (one level of states, which never read each other) is reduced by
    ``sympy.cse`` on its own, so that every shared subexpression is assigned after the
    variables it reads; the program is handed to ``lambdify`` as its ``cse``.
    """
    program: list[Assignment] = []
    for k, block in enumerate(blocks):
        if block:
            names, values = zip(*block, strict=True)
            shared, reduced = sp.cse(list(values), symbols=sp.numbered_symbols(f"cse{k}_"))
            program += [*shared, *zip(names, reduced, strict=True)]
    single = not isinstance(outputs, list)
    shared, reduced = sp.cse(outputs, symbols=sp.numbered_symbols("cse_out_"))
    program += shared
    expr = reduced[0] if single else reduced
    return sp.lambdify(args, expr, modules="numpy", cse=lambda e: (program, e))


def _real_activation(activation: str, z: sp.Expr, b: sp.Expr) -> sp.Expr:
    """``σ(z; b)`` of a real cell, from its definition (module docstring)."""
    if activation == "tanh":
        return sp.tanh(z + b)
    if activation == "relu":
        return sp.Max(0, z + b)
    if activation == "identity":
        return z + b
    if activation == "modrelu":
        # sign(z)·max(|z| + b, 0): z > 0 gives max(z + b, 0), z < 0 gives −max(−z + b, 0)
        return sp.Piecewise((sp.Max(z + b, 0), z > 0), (sp.Min(z - b, 0), True))
    raise ValueError(f"activation={activation!r}: no real-cell definition")


def _complex_modrelu(u: sp.Expr, v: sp.Expr, b: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``(Re h, Im h)`` of ``h = (|z| + b)·z/|z|`` if ``|z| + b > 0`` else 0, ``z = u + iv``."""
    r = sp.sqrt(u**2 + v**2)
    active = r + b > 0
    return (
        sp.Piecewise(((r + b) / r * u, active), (0, True)),
        sp.Piecewise(((r + b) / r * v, active), (0, True)),
    )


def _matvec(A: Matrix, v: Vector) -> Vector:
    """``A v``."""
    return [sp.Add(*(a * vj for a, vj in zip(row, v, strict=True))) for row in A]


def _add(u: Vector, v: Vector) -> Vector:
    return [a + b for a, b in zip(u, v, strict=True)]


def _sub(u: Vector, v: Vector) -> Vector:
    return [a - b for a, b in zip(u, v, strict=True)]


def _param_shapes(cell: str, n: int, m: int, p: int) -> dict[str, tuple[int, ...]]:
    n_feat = 2 * n if cell == "complex" else n
    return {"W_hh": (n, n), "W_ih": (n, m), "b": (n,), "V": (p, n_feat), "c": (p,)}


def _validate(
    cell: str, activation: str, hidden: int, inputs: int, outputs: int, steps: int, loss: str
) -> None:
    if cell not in CELLS:
        raise ValueError(f"cell={cell!r}: expected one of {sorted(CELLS)}")
    if activation not in CELLS[cell]:
        raise ValueError(
            f"activation={activation!r} for cell {cell!r}: expected one of {list(CELLS[cell])}"
        )
    sizes = {"hidden": hidden, "inputs": inputs, "outputs": outputs, "steps": steps}
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r}: expected a positive int")
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r}: expected one of {list(LOSSES)}")


# ---------------------------------------------------------------------------------------
# the batch oracle
# ---------------------------------------------------------------------------------------


def sympy_value_and_grad(
    problem: RNNProblem, params: Mapping[str, NDArray[Any]]
) -> tuple[float, dict[str, NDArray[Any]]]:
    """Loss and gradient of ``problem`` at ``params``, from the sympy derivation.

    ``L = (1/B) Σ_b ℓ_b`` and ``∇L = (1/B) Σ_b ∇ℓ_b`` over the ``B`` sequences of
    ``problem.data`` (``x[:, :, b]``, ``y[..., b]``), with ``ℓ`` and ``∇ℓ`` from
    :func:`symbolic_bptt` for ``problem.spec``'s structure. This equals the problem's
    ``1/(2B)`` (``"last"``) or ``1/(2BT)`` (``"every"``) weighting.

    Evaluated in float64 whatever the problem's dtype; the gradient is returned with the
    parameters' shapes and dtypes (complex ``G = ∂L/∂Re θ + i·∂L/∂Im θ`` for the complex
    cell's ``W_hh`` and ``W_ih``), as :meth:`RNNProblem.value_and_grad` returns it.

    Parameters
    ----------
    problem : RNNProblem
        Structure from ``problem.spec``, data from ``problem.data``; the initial state
        must be zero (the derivation has ``h_0 = 0``).
    params : mapping of str to ndarray
        ``W_hh, W_ih, b, V, c``, with the names, shapes and dtypes of ``problem.params0``.

    Returns
    -------
    loss : float
    grad : dict of str to ndarray
    """
    s = problem.spec
    problem.validate(params)
    if np.any(problem.data.h0 != 0):
        raise ValueError(
            f"problem {s}: initial state h0 has max |h0| = {np.max(np.abs(problem.data.h0))!r};"
            " the derivation assumes h0 = 0"
        )
    derivation = symbolic_bptt(s.cell, s.activation, s.hidden, s.inputs, s.outputs, s.steps, s.loss)
    x, y = problem.data.x, problem.data.y
    per_sequence = [
        derivation.value_and_gradient(params, x[:, :, j], y[..., j]) for j in range(s.batch)
    ]
    loss = sum(ell for ell, _ in per_sequence) / s.batch
    grad = {
        k: np.mean([g[k] for _, g in per_sequence], axis=0).astype(params[k].dtype)
        for k in PARAM_NAMES
    }
    return float(loss), grad
