"""Hypothesis strategies for structured matrices: orthogonal, unitary, skew, SPD, fixed ρ.

Every strategy is valid by construction (no ``filter``, no ``assume``): the numeric
content comes from a seed drawn with ``st.integers(0, 2**32 - 1)`` and fed to
:func:`numpy.random.default_rng`, and the structure is imposed exactly (skew matrices
are assembled from one triangle, symmetric ones are symmetrized). Each strategy draws
its size first, then a branch (the simplest matrix of the kind, the generic random
matrix, and the edge cases of theory/orthogonal.md §8), so that shrinking goes to the
smallest size, the first branch, and seed 0. Shrink targets and edge cases:

- ``orthogonal_matrices``: I (diag(1, …, 1, −1) when det=−1); both signs of det occur;
- ``unitary_matrices``: I;
- ``skew_matrices``: 0; edge case 2×2 blocks [[0, s_k], [−s_k, 0]] with |s_k| up to 1e6;
- ``skew_hermitian_matrices``: 0; edge case i·diag(s_k) with |s_k| up to 1e6;
- ``spectral_radius_matrices``: radius·I;
- ``spd_matrices``: I; edge case cond₂ = max_condition.

Matrices are built in float64 (complex128) and cast to the requested dtype, and are
returned read-only (the house rule "inputs are frozen": code under test that writes into
its input fails loudly instead of corrupting the example). Arguments are validated when
the strategy is created; a bad argument raises :class:`hypothesis.errors.InvalidArgument`
showing the offending value and what was expected. Sizes and radii given as strategies are
validated as they are drawn.

References
----------
.. [1] F. Mezzadri, "How to generate random matrices from the classical compact groups",
   Notices of the AMS 54(5):592–604, 2007 (QR of a Ginibre matrix, then the sign or
   phase fix Q·Λ with Λ = diag(R)/|diag(R)|, gives Haar measure).
.. [2] theory/orthogonal.md §0.2 (Cayley map C(A) = (I + A)^{-1}(I − A)), §1.1 (scoRNN's
   2×2-block skew initialization), §3.2 (ENRNN: spectral radius 1), §8 (strategies).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from numpy.typing import DTypeLike, NDArray

__all__ = [
    "orthogonal_matrices",
    "skew_hermitian_matrices",
    "skew_matrices",
    "spd_matrices",
    "spectral_radius_matrices",
    "unitary_matrices",
]

_SIZES = st.integers(min_value=1, max_value=8)
_SEEDS = st.integers(min_value=0, max_value=2**32 - 1)

_REAL = (np.dtype(np.float32), np.dtype(np.float64))
_COMPLEX = (np.dtype(np.complex64), np.dtype(np.complex128))

#: Largest |s_k| of the "huge block" edge cases: C(A) then has an eigenvalue at distance
#: |1 + e^{−2i·arctan s}| = 2/sqrt(1 + s²) ≈ 2e-6 from −1 (theory/orthogonal.md §1.1, §8).
_HUGE = 1e6

Matrix = NDArray[Any]
Branch = tuple[str, int]


# ---------------------------------------------------------------------------
# argument validation
# ---------------------------------------------------------------------------


def _is_real_number(x: object) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(
        x, bool | np.bool_
    )


def _check_dtype(name: str, dtype: DTypeLike, allowed: Sequence[np.dtype[Any]]) -> np.dtype[Any]:
    expected = " or ".join(str(d) for d in allowed)
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise InvalidArgument(
            f"{name}: dtype={dtype!r} is not a dtype; expected {expected}"
        ) from err
    if dt not in allowed:
        raise InvalidArgument(f"{name}: dtype={dtype!r} ({dt}); expected {expected}")
    return dt


def _check_size(name: str, n: object) -> None:
    if not (isinstance(n, int | np.integer) and not isinstance(n, bool | np.bool_) and n >= 1):
        raise InvalidArgument(f"{name}: n={n!r}; expected an int >= 1")


def _sizes(name: str, n: int | st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    """``n`` as a strategy, validated now if it is an int and on each draw otherwise."""
    if isinstance(n, st.SearchStrategy):
        if n.is_empty:
            raise InvalidArgument(f"{name}: n={n!r} can generate no sizes; expected ints >= 1")

        def checked(k: int) -> int:
            _check_size(f"{name} (drawn from n={n!r})", k)
            return int(k)

        return n.map(checked)
    _check_size(name, n)
    return st.just(int(n))


def _normal_range(dtype: np.dtype[Any]) -> tuple[float, float]:
    """[tiny/eps, max·eps]: magnitudes whose rounding error stays relative to themselves.

    Entries below ``tiny`` are subnormal and carry an absolute error up to tiny·eps/2,
    which is negligible against eps·r only when r ≥ tiny/eps; r ≤ max·eps keeps entries
    r·|m_ij|/ρ(M) finite unless ‖M‖/ρ(M) > 1/eps.
    """
    fi = np.finfo(dtype)
    return float(fi.tiny / fi.eps), float(fi.max * fi.eps)


def _check_radius(name: str, radius: object, dtype: np.dtype[Any]) -> float:
    lo, hi = _normal_range(dtype)
    expected = f"0 or a finite float in [tiny/eps, max·eps] = [{lo:.4g}, {hi:.4g}] for {dtype}"
    if not (_is_real_number(radius) and (radius == 0 or lo <= radius <= hi)):  # type: ignore[operator]
        raise InvalidArgument(f"{name}: radius={radius!r}; expected {expected}")
    return float(radius)  # type: ignore[arg-type]


def _check_scale(name: str, scale: object, dtype: np.dtype[Any]) -> tuple[float, float]:
    fi = np.finfo(dtype)
    lo, top = float(fi.tiny / fi.eps), float(fi.max)
    expected = (
        f"a pair (low, high) of floats with 0 <= low <= high <= {top:.4g} and low = 0 or "
        f"low >= tiny/eps = {lo:.4g} for {dtype}"
    )
    if not (isinstance(scale, tuple | list) and len(scale) == 2):
        raise InvalidArgument(f"{name}: scale={scale!r}; expected {expected}")
    low, high = scale
    if not (_is_real_number(low) and _is_real_number(high)):
        raise InvalidArgument(f"{name}: scale={scale!r}; expected {expected}")
    if not (0 <= low <= high <= top and (low == 0 or low >= lo)):  # also rejects nan, inf
        raise InvalidArgument(
            f"{name}: scale={scale!r} (low={low!r}, high={high!r}); expected {expected}"
        )
    return float(low), float(high)


def _condition_limit(n: int, dtype: np.dtype[Any]) -> float:
    """Largest κ for which every stored n×n matrix Q·diag(λ)·Qᵀ is safely SPD.

    The stored matrix is S + E with ‖E‖₂ ≤ 10·n·eps·‖S‖₂ = 10·n·eps·κ (forming the
    product: n-term sums, error γ_n per entry; a Q̂ that is orthogonal to O(n·eps); the
    final cast). By Weyl, λ_min(S + E) ≥ 1 − ‖E‖₂ ≥ 1/2 when 10·n·eps·κ ≤ 1/2.
    """
    return 1.0 / (20.0 * n * float(np.finfo(dtype).eps))


def _check_condition(name: str, max_condition: float, n: int, dtype: np.dtype[Any]) -> None:
    limit = _condition_limit(n, dtype)
    if max_condition > limit:
        raise InvalidArgument(
            f"{name}: max_condition={max_condition!r} with n={n} and dtype={dtype}; expected "
            f"max_condition <= 1/(20·n·eps) = {limit:.4g}, beyond which the rounding of the "
            f"stored matrix (~n·eps·κ) can make it indefinite"
        )


# ---------------------------------------------------------------------------
# numeric building blocks (float64 / complex128, from a seeded Generator)
# ---------------------------------------------------------------------------


def _branches(*weighted: Branch) -> st.SearchStrategy[str]:
    """Branch labels drawn with integer weights; shrinks toward the first label."""
    return st.sampled_from([label for label, weight in weighted for _ in range(weight)])


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """exp(U(log low, log high)) clipped to [low, high]; U(0, high) when low = 0."""
    if low == 0.0:
        return float(rng.uniform(0.0, high))
    s = math.exp(rng.uniform(math.log(low), math.log(high)))
    return min(max(s, low), high)


def _huge(rng: np.random.Generator, m: int) -> NDArray[np.float64]:
    """±s_k with |s_1| = 1e6 and |s_k| log-uniform in [1, 1e6], random signs."""
    s = np.clip(np.exp(rng.uniform(0.0, np.log(_HUGE), m)), 1.0, _HUGE)
    s[:1] = _HUGE
    return s * rng.choice([-1.0, 1.0], m)


def _complex(re: NDArray[np.float64], im: NDArray[np.float64]) -> NDArray[np.complex128]:
    """re + i·im, assembled part by part (no complex multiply, so no sign-of-zero noise)."""
    z = np.empty(re.shape, dtype=np.complex128)
    z.real = re
    z.imag = im
    return z


def _haar_orthogonal(n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Q·sign(diag R) for X = QR, X with iid N(0, 1) entries: Haar on O(n) [1]."""
    x = rng.standard_normal((n, n))
    q, r = np.linalg.qr(x)
    d = np.diagonal(r)
    return q * np.where(d < 0, -1.0, 1.0)  # scales column j by sign(r_jj)


def _haar_unitary(n: int, rng: np.random.Generator) -> NDArray[np.complex128]:
    """Q·Λ, Λ = diag(R)/|diag(R)|, for Z = QR, Z with iid CN(0, 1) entries: Haar on U(n) [1]."""
    z = _complex(rng.standard_normal((n, n)), rng.standard_normal((n, n))) / np.sqrt(2.0)
    q, r = np.linalg.qr(z)
    d = np.diagonal(r)
    a = np.abs(d)
    return q * np.where(a > 0, d / np.where(a > 0, a, 1.0), 1.0)


def _finish(a: Matrix, dtype: np.dtype[Any]) -> Matrix:
    """Cast to ``dtype`` (round to nearest) and freeze."""
    out = np.array(a, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


def _matrices(
    name: str,
    sizes: st.SearchStrategy[int],
    branches: st.SearchStrategy[str],
    build: Callable[[str, int, np.random.Generator], Matrix],
    dtype: np.dtype[Any],
) -> st.SearchStrategy[Matrix]:
    """Draw n, then a branch, then a seed; ``build(branch, n, rng)`` does the math."""

    @st.composite
    def matrices(draw: st.DrawFn) -> Matrix:
        k = draw(sizes)
        branch = draw(branches)
        seed = draw(_SEEDS)
        note(f"{name}: n={k}, branch={branch!r}, seed={seed}")
        return _finish(build(branch, k, np.random.default_rng(seed)), dtype)

    return matrices()


# ---------------------------------------------------------------------------
# public strategies
# ---------------------------------------------------------------------------


def orthogonal_matrices(
    n: int | st.SearchStrategy[int] = _SIZES,
    *,
    det: int | None = None,
    dtype: DTypeLike = "float64",
) -> st.SearchStrategy[Matrix]:
    """Real orthogonal matrices Q, QᵀQ = I, Haar-distributed on O(n) or on one of its cosets.

    Q = Q₀·diag(sign(diag R)) for the QR factorization Q₀R of an n×n matrix with iid
    N(0, 1) entries, which is Haar on O(n) [1]; det Q = ±1 with probability 1/2 each.
    With ``det`` = +1 (−1) and det Q of the other sign, the first column is negated:
    right multiplication by diag(−1, 1, …, 1) preserves Haar measure, so the result is
    Haar on SO(n) (on O(n) \\ SO(n)).

    Parameters
    ----------
    n : int or SearchStrategy[int], default ``st.integers(1, 8)``
        Size n ≥ 1.
    det : {None, 1, -1}, default None
        Required determinant; None lets both signs occur.
    dtype : float32 or float64, default float64
        Built in float64, then rounded, so ‖QᵀQ − I‖ is O(eps(dtype)).

    Returns
    -------
    SearchStrategy[NDArray]
        Read-only n×n arrays of ``dtype``. Shrinks toward I, or toward
        diag(1, …, 1, −1) when ``det=-1``, of the smallest size.
    """
    name = "orthogonal_matrices"
    sizes = _sizes(name, n)
    dt = _check_dtype(name, dtype, _REAL)
    if det is not None and (isinstance(det, bool) or det not in (1, -1)):
        raise InvalidArgument(f"{name}: det={det!r}; expected None, 1 or -1")

    def build(branch: str, k: int, rng: np.random.Generator) -> NDArray[np.float64]:
        if branch == "simplest":
            q = np.eye(k)
            if det == -1:
                q[-1, -1] = -1.0
            return q
        q = _haar_orthogonal(k, rng)
        if det is not None and np.sign(np.linalg.det(q)) != det:  # |det Q| = 1 ± O(n·eps)
            q[:, 0] = -q[:, 0]
        return q

    return _matrices(name, sizes, _branches(("simplest", 1), ("haar", 7)), build, dt)


def unitary_matrices(
    n: int | st.SearchStrategy[int] = _SIZES,
    *,
    dtype: DTypeLike = "complex128",
) -> st.SearchStrategy[Matrix]:
    """Complex unitary matrices U, UᴴU = I, Haar-distributed on U(n).

    U = Q₀·Λ with Λ = diag(r_jj/|r_jj|), for the QR factorization Q₀R of an n×n matrix
    with iid standard complex Gaussian entries (x + iy)/√2, x, y ~ N(0, 1) [1].

    Parameters
    ----------
    n : int or SearchStrategy[int], default ``st.integers(1, 8)``
        Size n ≥ 1.
    dtype : complex64 or complex128, default complex128
        Built in complex128, then rounded.

    Returns
    -------
    SearchStrategy[NDArray]
        Read-only n×n arrays of ``dtype``; shrinks toward the 1×1 identity.
    """
    name = "unitary_matrices"
    sizes = _sizes(name, n)
    dt = _check_dtype(name, dtype, _COMPLEX)

    def build(branch: str, k: int, rng: np.random.Generator) -> NDArray[np.complex128]:
        if branch == "simplest":
            return np.eye(k, dtype=np.complex128)
        return _haar_unitary(k, rng)

    return _matrices(name, sizes, _branches(("simplest", 1), ("haar", 7)), build, dt)


def skew_matrices(
    n: int | st.SearchStrategy[int] = _SIZES,
    *,
    scale: tuple[float, float] = (1e-3, 1e2),
    dtype: DTypeLike = "float64",
) -> st.SearchStrategy[Matrix]:
    """Real skew-symmetric matrices A, Aᵀ = −A exactly, with zero diagonal.

    Three branches:

    - A = 0 (the shrink target);
    - dense: A = s·K/‖K‖₂ with K = U − Uᵀ, U strictly upper triangular with iid N(0, 1)
      entries, and s drawn log-uniformly in [low, high] = ``scale`` (uniformly if
      low = 0), so ‖A‖₂ = s up to rounding;
    - blocks: A = diag(B₁, …, B_m, [0]) with B_k = [[0, s_k], [−s_k, 0]],
      m = ⌊n/2⌋, |s_1| = 1e6 and |s_k| log-uniform in [1, 1e6], random signs. The Cayley
      map C(A) = (I + A)^{-1}(I − A) has eigenvalues e^{∓2i·arctan s_k}, at distance
      2/sqrt(1 + s_k²) ≥ 2e-6 from −1: the ill-conditioned end of Cayley
      parametrizations (theory/orthogonal.md §1.1, §8). These norms ignore ``scale``.

    Every matrix is assembled as U − Uᵀ from its strict upper triangle U, so
    Aᵀ == −A holds entrywise in floating point, before and after the cast (rounding to
    nearest is symmetric), and diag(A) == 0. For n = 1 the only skew matrix is 0.

    Parameters
    ----------
    n : int or SearchStrategy[int], default ``st.integers(1, 8)``
        Size n ≥ 1.
    scale : (float, float), default (1e-3, 1e2)
        Range [low, high] of the spectral norm s = ‖A‖₂ of the dense branch,
        0 ≤ low ≤ high ≤ finfo(dtype).max, and low = 0 or low ≥ tiny/eps (1e-292 in
        float64, 1e-31 in float32), below which subnormal entries would make the
        rounding error absolute rather than relative to s.
    dtype : float32 or float64, default float64

    Returns
    -------
    SearchStrategy[NDArray]
        Read-only n×n arrays of ``dtype``; shrinks toward the 1×1 zero matrix.
    """
    name = "skew_matrices"
    sizes = _sizes(name, n)
    dt = _check_dtype(name, dtype, _REAL)
    low, high = _check_scale(name, scale, dt)

    def build(branch: str, k: int, rng: np.random.Generator) -> NDArray[np.float64]:
        u = np.zeros((k, k))
        if branch == "dense" and k >= 2:
            s = _log_uniform(rng, low, high)
            u = np.triu(rng.standard_normal((k, k)), 1)
            norm = np.linalg.norm(u - u.T, 2)
            u = (s / norm) * u if norm > 0 else np.zeros((k, k))
        elif branch == "blocks":
            idx = 2 * np.arange(k // 2)
            u[idx, idx + 1] = _huge(rng, k // 2)
        return u - u.T  # diagonal 0 − 0 = +0; (u − uᵀ)ᵀ = uᵀ − u = −(u − uᵀ) exactly

    return _matrices(name, sizes, _branches(("zero", 1), ("dense", 6), ("blocks", 1)), build, dt)


def skew_hermitian_matrices(
    n: int | st.SearchStrategy[int] = _SIZES,
    *,
    scale: tuple[float, float] = (1e-3, 1e2),
    dtype: DTypeLike = "complex128",
) -> st.SearchStrategy[Matrix]:
    """Complex skew-Hermitian matrices A, Aᴴ = −A exactly.

    A = K + iS with K real skew (Kᵀ = −K, zero diagonal) and S real symmetric, so that
    Aᴴ = Kᵀ − iSᵀ = −A; the real part of the diagonal is exactly 0. Three branches:

    - A = 0 (the shrink target);
    - dense: A = s·(U − Uᴴ + i·diag(d))/‖·‖₂, U strictly upper triangular with iid
      standard complex Gaussian entries, d ~ N(0, 1), and s drawn log-uniformly in
      [low, high] = ``scale`` (uniformly if low = 0), so ‖A‖₂ = s up to rounding;
    - huge: A = i·diag(s_k), |s_1| = 1e6 and |s_k| log-uniform in [1, 1e6], random signs;
      the eigenvalues (1 − i s_k)/(1 + i s_k) of the Cayley map C(A) are then within
      2/sqrt(1 + s_k²) of −1 (theory/orthogonal.md §2, §8). These ignore ``scale``.

    Real and imaginary parts are scaled separately and assembled without complex
    arithmetic, so Aᴴ == −A holds entrywise, before and after the cast.

    Parameters
    ----------
    n : int or SearchStrategy[int], default ``st.integers(1, 8)``
        Size n ≥ 1.
    scale : (float, float), default (1e-3, 1e2)
        Range [low, high] of the spectral norm s = ‖A‖₂ of the dense branch,
        0 ≤ low ≤ high ≤ finfo(dtype).max, and low = 0 or low ≥ tiny/eps (1e-292 in
        float64, 1e-31 in float32), below which subnormal entries would make the
        rounding error absolute rather than relative to s.
    dtype : complex64 or complex128, default complex128

    Returns
    -------
    SearchStrategy[NDArray]
        Read-only n×n arrays of ``dtype``; shrinks toward the 1×1 zero matrix.
    """
    name = "skew_hermitian_matrices"
    sizes = _sizes(name, n)
    dt = _check_dtype(name, dtype, _COMPLEX)
    low, high = _check_scale(name, scale, dt)

    def build(branch: str, k: int, rng: np.random.Generator) -> NDArray[np.complex128]:
        re_u = np.zeros((k, k))  # strict upper triangle of the real part
        im_s = np.zeros((k, k))  # imaginary part: upper triangle and diagonal
        if branch == "dense":
            s = _log_uniform(rng, low, high)
            re_u = np.triu(rng.standard_normal((k, k)), 1) / np.sqrt(2.0)
            im_s = np.triu(rng.standard_normal((k, k)), 1) / np.sqrt(2.0)
            im_s += np.diag(rng.standard_normal(k))
            norm = np.linalg.norm(_complex(re_u - re_u.T, im_s + np.triu(im_s, 1).T), 2)
            c = s / norm if norm > 0 else 0.0
            re_u, im_s = c * re_u, c * im_s
        elif branch == "huge":
            im_s = np.diag(_huge(rng, k))
        # real part u − uᵀ: exactly antisymmetric; imaginary part: exactly symmetric
        return _complex(re_u - re_u.T, im_s + np.triu(im_s, 1).T)

    return _matrices(name, sizes, _branches(("zero", 1), ("dense", 6), ("huge", 1)), build, dt)


def spectral_radius_matrices(
    n: int | st.SearchStrategy[int] = _SIZES,
    *,
    radius: float | st.SearchStrategy[float] = 1.0,
    dtype: DTypeLike = "float64",
) -> st.SearchStrategy[Matrix]:
    """Matrices W with spectral radius ρ(W) = max|λ_i(W)| = r, up to rounding.

    W = (r/ρ(M))·M for M with iid N(0, 1) entries (standard complex Gaussian for a
    complex dtype), or W = r·I (the shrink target). A Gaussian M is non-normal, so
    ‖W‖₂ > ρ(W) in general: this is the regime of ENRNN's eigenvalue normalization
    (theory/orthogonal.md §3.2). The computed ρ(W) differs from r by about
    n·eps·κ(λ)·‖W‖, κ(λ) the condition number of the dominant eigenvalue.

    Parameters
    ----------
    n : int or SearchStrategy[int], default ``st.integers(1, 8)``
        Size n ≥ 1.
    radius : float or SearchStrategy[float], default 1.0
        r = 0 or tiny/eps ≤ r ≤ max·eps of ``dtype`` (1e-292 … 4e292 in float64,
        1e-31 … 4e31 in single precision), so that the rounding of W stays relative to
        r. A strategy is drawn once per matrix, before the size, and its values are
        checked as they are drawn.
    dtype : float32, float64, complex64 or complex128, default float64
        Built in float64 / complex128, then rounded.

    Returns
    -------
    SearchStrategy[NDArray]
        Read-only n×n arrays of ``dtype``; shrinks toward r·I of the smallest size.
    """
    name = "spectral_radius_matrices"
    sizes = _sizes(name, n)
    dt = _check_dtype(name, dtype, _REAL + _COMPLEX)
    if isinstance(radius, st.SearchStrategy):
        if radius.is_empty:
            raise InvalidArgument(
                f"{name}: radius={radius!r} can generate no radii; expected finite floats >= 0"
            )
        where = f"{name} (drawn from radius={radius!r})"
        radii = radius.map(lambda r: _check_radius(where, r, dt))
    else:
        radii = st.just(_check_radius(name, radius, dt))
    is_complex = dt.kind == "c"

    @st.composite
    def matrices(draw: st.DrawFn) -> Matrix:
        r = draw(radii)
        k = draw(sizes)
        branch = draw(_branches(("scaled_identity", 1), ("gaussian", 7)))
        seed = draw(_SEEDS)
        note(f"{name}: n={k}, radius={r!r}, branch={branch!r}, seed={seed}")
        if branch == "scaled_identity":
            w = r * np.eye(k)
        else:
            rng = np.random.default_rng(seed)
            m = rng.standard_normal((k, k))
            if is_complex:
                m = _complex(m, rng.standard_normal((k, k))) / np.sqrt(2.0)
            rho = float(np.max(np.abs(np.linalg.eigvals(m))))
            w = (r / rho) * m if rho > 0 else r * np.eye(k)  # ρ(M) = 0 has probability 0
        return _finish(w, dt)

    return matrices()


def spd_matrices(
    n: int | st.SearchStrategy[int] = _SIZES,
    *,
    max_condition: float = 1e3,
    dtype: DTypeLike = "float64",
) -> st.SearchStrategy[Matrix]:
    """Symmetric positive definite matrices S = Q·diag(λ)·Qᵀ with condition ≤ max_condition.

    Q is Haar on O(n) (see :func:`orthogonal_matrices`) and λ_i = κ^{u_i}, u_i ~ U(0, 1)
    (log-uniform in [1, κ]), with u pinned to 0 and 1 at two indices when n ≥ 2, so
    that λ_min = 1, λ_max = κ and cond₂(S) = κ exactly before rounding. κ is drawn
    log-uniformly in [1, max_condition], or equals max_condition (the extreme branch).
    S is symmetrized as (S + Sᵀ)/2, so S == Sᵀ entrywise; it shrinks toward I.

    Parameters
    ----------
    n : int or SearchStrategy[int], default ``st.integers(1, 8)``
        Size n ≥ 1.
    max_condition : float, default 1e3
        Upper bound on κ = cond₂(S), 1 ≤ max_condition ≤ 1/(20·n·eps(dtype)); beyond
        that bound the rounding error of the stored matrix, up to ~10·n·eps·κ, could
        push λ_min below 1/2 and the matrix could stop being positive definite.
    dtype : float32 or float64, default float64
        Built in float64, symmetrized, then rounded.

    Returns
    -------
    SearchStrategy[NDArray]
        Read-only n×n arrays of ``dtype``; shrinks toward the 1×1 identity.
    """
    name = "spd_matrices"
    sizes = _sizes(name, n)
    dt = _check_dtype(name, dtype, _REAL)
    if not (_is_real_number(max_condition) and 1 <= max_condition < math.inf):
        raise InvalidArgument(
            f"{name}: max_condition={max_condition!r}; expected a finite float >= 1"
        )
    kappa_max = float(max_condition)
    # the smallest admissible n is 1; an int n is checked now, a drawn one when drawn
    _check_condition(name, kappa_max, n if isinstance(n, int) and n >= 1 else 1, dt)

    def build(branch: str, k: int, rng: np.random.Generator) -> NDArray[np.float64]:
        _check_condition(name, kappa_max, k, dt)
        if branch == "identity":
            return np.eye(k)
        kappa = kappa_max if branch == "extreme" else _log_uniform(rng, 1.0, kappa_max)
        u = rng.uniform(0.0, 1.0, k)
        if k >= 2:
            u[0], u[-1] = 0.0, 1.0  # λ_min = 1, λ_max = κ
        lam = kappa**u
        q = _haar_orthogonal(k, rng)
        s = (q * lam) @ q.T
        return (s + s.T) / 2  # fl(a + b) = fl(b + a): exactly symmetric

    return _matrices(
        name, sizes, _branches(("identity", 1), ("random", 6), ("extreme", 1)), build, dt
    )
