"""Elementwise activations of the recurrent cell, with their exact derivatives.

Every activation acts on a pre-activation ``z`` (without bias) and a bias ``b``:

* ``tanh``, ``relu``, ``identity`` add the bias first: ``h = σ(z + b)``;
* ``modrelu`` (real, scoRNN/expRNN): ``h = sign(z)·max(|z| + b, 0)``;
* ``modrelu`` on a complex ``z`` (scuRNN, uRNN): ``h = (|z| + b)·z/|z|`` where
  ``|z| + b > 0``, else ``0``; ``b`` is real.

Each activation provides three maps: ``forward``, the vector-Jacobian product ``vjp``
(reverse mode, used by BPTT) and the Jacobian-vector product ``jvp`` (forward mode, used
to find how far a perturbation may go before it meets a kink). The built-in ones also
provide ``jacobian``: the coefficients of the Jacobian at many points at once, so that
BPTT evaluates them once for all time steps instead of calling ``vjp`` at every step.

Complex convention (theory/orthogonal.md §0.4): for a real loss ``L`` and complex ``z``
the gradient carried backwards is ``G_z = ∂L/∂Re z + i·∂L/∂Im z = 2·∂L/∂z̄``, so that
``dL = Re Σ conj(G_z)·dz``. A complex activation viewed as a map R² → R² has a symmetric
Jacobian ``J`` (orthogonal.md §2.4), hence ``vjp = jvp = J·(·)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


class Jacobian(NamedTuple):
    """The derivatives of ``h = σ(z; b)`` at every entry of ``z``, as coefficient arrays
    of the shape of ``z``::

        dh = p·dz + q·conj(dz) + u·db

    (every R-linear map of C is ``dz ↦ p·dz + q·conj(dz)``; for real entries ``q = 0``
    and ``p = ∂h/∂z``). ``p`` is real: as a map of R² the Jacobian is symmetric
    (orthogonal.md §2.4), so the map is its own adjoint and reverse mode reads::

        g_z = p·g + q·conj(g),        g_b = Re(conj(u)·g).

    Attributes
    ----------
    p : real array
    q : array of ``z``'s dtype, or None
        ``None`` for real activations.
    u : array of ``z``'s dtype, or None
        ``∂h/∂b``; ``None`` when ``b`` enters as ``σ(z + b)``, where ``∂h/∂b = ∂h/∂z``
        and hence ``g_b = g_z``.
    """

    p: Array
    q: Array | None
    u: Array | None


@dataclass(frozen=True)
class Activation:
    """An activation with its derivatives.

    Attributes
    ----------
    name : str
        Identifier used in problem specs (``"tanh"``, ``"relu"``, ...).
    forward : callable ``(z, b) -> h``
    vjp : callable ``(z, b, g_h) -> (g_z, g_b)``
        Reverse mode: the gradient with respect to ``z`` and the per-element gradient
        with respect to ``b`` (to be summed over the batch by the caller).
    jvp : callable ``(z, b, dz, db) -> dh``
        Forward mode: the first-order change of ``h``.
    kinks : callable ``(z, b) -> list of arrays``
        Functions whose zero sets are the points where ``forward`` is not
        differentiable; empty for smooth activations.
    jacobian : callable ``(z, b, h) -> Jacobian``, optional
        The derivatives at every entry of ``z`` (of any shape that ``b`` broadcasts
        against), given ``h = forward(z, b)``; must agree with ``vjp``. BPTT uses it to
        take the derivatives of all steps at once. ``None`` (the default, and what an
        activation built from the first five fields gets, e.g. a deliberately broken
        one in the tests) makes BPTT call ``vjp`` at every step instead, so the
        activation's own ``vjp`` is what BPTT differentiates with. A variant made with
        ``dataclasses.replace(act, vjp=...)`` must also set ``jacobian=None``.
    """

    name: str
    forward: Callable[[Array, Array], Array]
    vjp: Callable[[Array, Array, Array], tuple[Array, Array]]
    jvp: Callable[[Array, Array, Array, Array], Array]
    kinks: Callable[[Array, Array], list[Array]]
    jacobian: Callable[[Array, Array, Array], Jacobian] | None = None

    def kink_step(self, z: Array, b: Array, dz: Array, db: Array) -> float:
        """Smallest ``t > 0`` for which ``z + t·dz`` may reach a kink (``inf`` if none).

        Each kink function below is 1-Lipschitz in ``z`` and ``b`` (they are ``z + b``,
        ``|z| + b`` and ``|z|``), so it changes at rate at most ``|dz| + |db|``; the
        distance divided by that rate is a certified lower bound on the step to a kink.
        """
        rate = np.abs(dz) + np.abs(db)
        best = np.inf
        for k in self.kinks(z, b):
            with np.errstate(divide="ignore"):
                steps = np.where(rate > 0, np.abs(k) / np.where(rate > 0, rate, 1.0), np.inf)
            if steps.size:
                best = min(best, float(np.min(steps)))
        return best


def _tanh_forward(z: Array, b: Array) -> Array:
    return np.tanh(z + b)


def _tanh_vjp(z: Array, b: Array, g: Array) -> tuple[Array, Array]:
    h = np.tanh(z + b)
    gz = (1 - h * h) * g
    return gz, gz


def _tanh_jvp(z: Array, b: Array, dz: Array, db: Array) -> Array:
    h = np.tanh(z + b)
    return (1 - h * h) * (dz + db)


def _tanh_jacobian(z: Array, b: Array, h: Array) -> Jacobian:
    return Jacobian(p=1 - h * h, q=None, u=None)  # tanh' = 1 − tanh², from h: no new tanh


def _relu_forward(z: Array, b: Array) -> Array:
    # max(z + b, 0): fmax, not maximum, so that NaN maps to 0 as in where(z + b > 0, z + b, 0)
    return np.fmax(z + b, 0.0)


def _relu_vjp(z: Array, b: Array, g: Array) -> tuple[Array, Array]:
    gz = np.where(z + b > 0, g, np.zeros_like(g))
    return gz, gz


def _relu_jvp(z: Array, b: Array, dz: Array, db: Array) -> Array:
    d = dz + db
    return np.where(z + b > 0, d, np.zeros_like(d))


def _relu_jacobian(z: Array, b: Array, h: Array) -> Jacobian:
    return Jacobian(p=(z + b > 0).astype(h.dtype), q=None, u=None)


def _identity_forward(z: Array, b: Array) -> Array:
    return z + b


def _identity_vjp(z: Array, b: Array, g: Array) -> tuple[Array, Array]:
    return g, g


def _identity_jvp(z: Array, b: Array, dz: Array, db: Array) -> Array:
    return dz + db


def _identity_jacobian(z: Array, b: Array, h: Array) -> Jacobian:
    return Jacobian(p=np.ones_like(h), q=None, u=None)


def _modrelu_forward(z: Array, b: Array) -> Array:
    if np.iscomplexobj(z):
        r = np.abs(z)
        s = r + b
        active = s > 0
        # h = (s/r)·z on the active set and 0 elsewhere, computed only where active (so r
        # is never 0 off it): the same numbers as np.where(active, s/safe_r·z, 0) in two
        # calls, where this runs at every step of every forward pass
        scale = np.divide(s, r, out=np.zeros(r.shape, dtype=r.dtype), where=active)
        return np.multiply(scale, z, out=np.zeros(z.shape, dtype=z.dtype), where=active)
    return np.sign(z) * np.maximum(np.abs(z) + b, 0)


def _modrelu_vjp(z: Array, b: Array, g: Array) -> tuple[Array, Array]:
    if np.iscomplexobj(z):
        r = np.abs(z)
        active = r + b > 0
        safe_r = np.where(active, r, np.ones_like(r))
        u = z / safe_r
        radial = np.real(np.conj(u) * g)  # ⟨u, g⟩ in R²
        gz = (1 + b / safe_r) * g - (b / safe_r) * radial * u
        zero = np.zeros_like(g)
        return np.where(active, gz, zero), np.where(active, radial, np.zeros_like(radial))
    active = np.abs(z) + b > 0
    zero = np.zeros_like(g)
    gz = np.where(active, g, zero)
    return gz, np.where(active, np.sign(z) * g, zero)


def _modrelu_jvp(z: Array, b: Array, dz: Array, db: Array) -> Array:
    if np.iscomplexobj(z):
        r = np.abs(z)
        active = r + b > 0
        safe_r = np.where(active, r, np.ones_like(r))
        u = z / safe_r
        dh = (1 + b / safe_r) * dz - (b / safe_r) * np.real(np.conj(u) * dz) * u + db * u
        return np.where(active, dh, np.zeros_like(dh))
    active = np.abs(z) + b > 0
    d = dz + np.sign(z) * db
    return np.where(active, d, np.zeros_like(d))


def _modrelu_jacobian(z: Array, b: Array, h: Array) -> Jacobian:
    if np.iscomplexobj(z):
        # On the active set, with r = |z| and u = z/r (|u| = 1): h = z + b·u, so
        #   dh = (1 + b/r)·dz − (b/r)·Re(ū·dz)·u + u·db        (as in _modrelu_vjp)
        # and Re(ū·dz)·u = (dz + u²·conj(dz))/2 gives p = 1 + b/(2r), q = −b/(2r)·u².
        # All three coefficients vanish off the active set.
        r = np.abs(z)
        active = r + b > 0
        safe_r = np.where(active, r, np.ones_like(r))
        u = np.where(active, z / safe_r, 0)
        k = np.where(active, b / (2 * safe_r), 0)  # b/(2r)
        return Jacobian(p=np.where(active, 1 + k, 0), q=-k * u * u, u=u)
    # ∂h/∂z = 1 and ∂h/∂b = sign(z) where |z| + b > 0, both 0 elsewhere
    active = (np.abs(z) + b > 0).astype(h.dtype)
    return Jacobian(p=active, q=None, u=np.sign(z) * active)


def _no_kinks(z: Array, b: Array) -> list[Array]:
    return []


def _relu_kinks(z: Array, b: Array) -> list[Array]:
    return [np.real(z + b)]


def _modrelu_kinks(z: Array, b: Array) -> list[Array]:
    # |z| + b = 0 is where a unit switches on or off; z = 0 is a kink (jump for b > 0)
    # only where the unit is active there, i.e. where b > 0.
    r = np.abs(z)
    kinks = [r + b]
    if np.any(b > 0):
        kinks.append(np.where(np.broadcast_to(b, r.shape) > 0, r, np.inf))
    return kinks


TANH = Activation("tanh", _tanh_forward, _tanh_vjp, _tanh_jvp, _no_kinks, jacobian=_tanh_jacobian)
RELU = Activation("relu", _relu_forward, _relu_vjp, _relu_jvp, _relu_kinks, jacobian=_relu_jacobian)
IDENTITY = Activation(
    "identity",
    _identity_forward,
    _identity_vjp,
    _identity_jvp,
    _no_kinks,
    jacobian=_identity_jacobian,
)
MODRELU = Activation(
    "modrelu",
    _modrelu_forward,
    _modrelu_vjp,
    _modrelu_jvp,
    _modrelu_kinks,
    jacobian=_modrelu_jacobian,
)

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (TANH, RELU, IDENTITY, MODRELU)}
