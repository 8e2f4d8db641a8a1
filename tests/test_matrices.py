"""Tests for properties/matrices.py: each strategy yields what its docstring promises.

Tolerances are multiples of eps(dtype) with the factor derived in a comment; the checks
are done in float64 / complex128 after upcasting, so that the only rounding of a
single-precision matrix that is measured is the strategy's own cast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from numpy.typing import NDArray

from properties import matrices
from properties.matrices import (
    orthogonal_matrices,
    skew_hermitian_matrices,
    skew_matrices,
    spd_matrices,
    spectral_radius_matrices,
    unitary_matrices,
)
from rnnverify.tolerance import eps

EXAMPLES = settings(max_examples=40, deadline=None)
HUGE = 1e6  # the largest |s_k| of the skew edge cases (matrices._HUGE)

REAL = ["float64", "float32"]
COMPLEX = ["complex128", "complex64"]


@pytest.fixture(autouse=True, scope="module")
def _strict_numerics() -> Iterator[None]:
    """Overflow, invalid operations and divisions by zero raise, in strategies and checks."""
    with np.errstate(all="raise"):
        yield


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def assert_leq(what: str, value: float, bound: float, derivation: str) -> None:
    """value ≤ bound, or a message with both quantities and how the bound was derived."""
    __tracebackhide__ = True
    assert value <= bound, f"{what} = {value:.6g} > {bound:.6g} = {derivation}"


def assert_matrix(a: Any, dtype: str) -> int:
    """a is a finite, read-only, square ndarray of ``dtype``; returns its size n."""
    __tracebackhide__ = True
    assert isinstance(a, np.ndarray), f"expected an ndarray, got {type(a)}"
    assert a.dtype == np.dtype(dtype), f"dtype {a.dtype}, expected {dtype}"
    assert a.ndim == 2 and a.shape[0] == a.shape[1] >= 1, f"shape {a.shape}, expected (n, n)"
    assert not a.flags.writeable, "the matrix is writeable; strategies return frozen arrays"
    assert np.all(np.isfinite(a)), f"non-finite entries in\n{a}"
    return int(a.shape[0])


def wide(a: NDArray[Any]) -> NDArray[Any]:
    """Upcast to float64 / complex128 without rounding."""
    return a.astype(np.complex128 if np.iscomplexobj(a) else np.float64)


def assert_identity_gram(q: NDArray[Any], dtype: str) -> None:
    """‖QᴴQ − I‖_F ≤ 10·n·eps(dtype)."""
    __tracebackhide__ = True
    n = q.shape[0]
    q64 = wide(q)
    err = float(np.linalg.norm(q64.conj().T @ q64 - np.eye(n)))
    # Householder QR: ‖Q̂ᵀQ̂ − I‖ ≤ c·n·eps (Higham, ASNA 2nd ed., §19.3); forming the Gram
    # matrix adds n·γ_n ≈ n²·eps/2 in Frobenius norm, ≤ 4n·eps for n ≤ 8; the cast to single
    # precision adds ‖ΔQ‖_F ≤ √n·eps/2. Same form, 10·n·eps(dtype), as PyTorch's
    # parametrization tests (theory/orthogonal.md §7). Measured: ≤ 4.0·n·eps.
    assert_leq("‖QᴴQ − I‖_F", err, 10 * n * eps(dtype), f"10·n·eps, n={n}, dtype={dtype}")


# ---------------------------------------------------------------------------
# orthogonal and unitary
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("det", [None, 1, -1])
@pytest.mark.parametrize("dtype", REAL)
@EXAMPLES
@given(data=st.data())
def test_orthogonal_matrices(data: st.DataObject, dtype: str, det: int | None) -> None:
    q = data.draw(orthogonal_matrices(det=det, dtype=dtype))
    assert_matrix(q, dtype)
    assert_identity_gram(q, dtype)
    if det is not None:
        d = float(np.linalg.det(wide(q)))  # |det Q| = 1 ± O(n·eps): its sign is exact
        assert np.sign(d) == det, f"det Q = {d:.17g}, requested det={det}"


def test_orthogonal_matrices_det_none_reaches_both_signs() -> None:
    # det = −1 is reached by the Haar branch itself (the identity branch has det = +1),
    # already at n = 1, where Q = sign(x) relies on the sign fix: LAPACK's 1×1 QR is Q = 1
    q = find(orthogonal_matrices(1), lambda q: np.linalg.det(q) < 0)
    np.testing.assert_array_equal(q, [[-1.0]])
    for n in [2, 3, 8]:
        q = find(orthogonal_matrices(n), lambda q: np.linalg.det(q) < 0)
        assert np.linalg.det(q) < 0, f"n={n}: det Q = {np.linalg.det(q)}"


@pytest.mark.parametrize("dtype", COMPLEX)
@EXAMPLES
@given(data=st.data())
def test_unitary_matrices(data: st.DataObject, dtype: str) -> None:
    u = data.draw(unitary_matrices(dtype=dtype))
    assert_matrix(u, dtype)
    assert_identity_gram(u, dtype)


# Haar measure, checked on the builders with a fixed seed (deterministic, no flakiness).
# Under Haar measure on O(n) every entry has mean 0 and variance 1/n, and P(det = −1) = 1/2;
# on U(n), Re u_ij has mean 0 and variance 1/(2n). A QR without the sign/phase fix fails:
# LAPACK's Householder makes q_11 = −sign(x_11)·|x_11|/‖x_1‖ < 0, mean ≈ −0.6 for n = 3.
# The bounds are 5 standard errors of the sample mean of N independent draws.
HAAR_N, HAAR_SAMPLES = 3, 4000


def test_haar_orthogonal_is_centred_with_both_determinants() -> None:
    rng = np.random.default_rng(20240601)
    qs = np.stack([matrices._haar_orthogonal(HAAR_N, rng) for _ in range(HAAR_SAMPLES)])
    mean = float(qs[:, 0, 0].mean())
    se = math.sqrt(1 / HAAR_N / HAAR_SAMPLES)
    assert_leq("|mean q_11|", abs(mean), 5 * se, f"5·sqrt(1/(n·N)), n={HAAR_N}, N={HAAR_SAMPLES}")
    neg = float(np.mean(np.linalg.det(qs) < 0))
    se = math.sqrt(0.25 / HAAR_SAMPLES)
    assert_leq("|P(det = −1) − 1/2|", abs(neg - 0.5), 5 * se, f"5·sqrt(1/(4N)), N={HAAR_SAMPLES}")


def test_haar_unitary_is_centred() -> None:
    rng = np.random.default_rng(20240602)
    us = np.stack([matrices._haar_unitary(HAAR_N, rng) for _ in range(HAAR_SAMPLES)])
    se = math.sqrt(1 / (2 * HAAR_N) / HAAR_SAMPLES)
    for part, values in [("Re", us[:, 0, 0].real), ("Im", us[:, 0, 0].imag)]:
        assert_leq(f"|mean {part} u_11|", abs(float(values.mean())), 5 * se, "5·sqrt(1/(2nN))")


# ---------------------------------------------------------------------------
# skew and skew-Hermitian
# ---------------------------------------------------------------------------


def norm_bounds(scale: tuple[float, float], n: int, dtype: str) -> tuple[float, float]:
    """[low·(1 − δ), high·(1 + δ)], δ = 10·n·eps(dtype).

    σ_max is perfectly conditioned (|σ̂ − σ| ≤ ‖E‖₂, Weyl) and the SVD is backward stable
    with ‖E‖₂ ≤ p(n)·eps·‖A‖₂, p(n) ~ n: once in the strategy (‖K‖₂) and once here; the
    scaling s/‖K‖₂·K adds 2 roundings and the cast one more. 10·n covers 2·p(n) + 3.
    """
    delta = 10 * n * eps(dtype)
    return scale[0] * (1 - delta), scale[1] * (1 + delta)


SCALES = [(1e-3, 1e2), (2.0, 2.0), (0.0, 5.0)]


def classify_skew(a: NDArray[Any], scale: tuple[float, float], dtype: str) -> str:
    """'zero', 'dense' (‖A‖₂ in the scale range), or 'blocks' (the edge case); else fail."""
    __tracebackhide__ = True
    n = a.shape[0]
    if not a.any():
        return "zero"
    norm = float(np.linalg.norm(wide(a), 2))
    lo, hi = norm_bounds(scale, n, dtype)
    if lo <= norm <= hi:
        return "dense"
    idx = 2 * np.arange(n // 2)
    s = a[idx, idx + 1]
    rest = np.array(a, copy=True)
    rest[idx, idx + 1] = rest[idx + 1, idx] = 0
    assert not rest.any(), f"‖A‖₂ = {norm:.6g} not in [{lo:.6g}, {hi:.6g}] and not 2×2 blocks"
    assert np.all((np.abs(s) >= 1) & (np.abs(s) <= HUGE)), f"block entries {s} not in [1, 1e6]"
    assert np.max(np.abs(s)) == HUGE, f"largest block entry {np.max(np.abs(s))}, expected 1e6"
    return "blocks"


@pytest.mark.parametrize("scale", SCALES, ids=str)
@pytest.mark.parametrize("dtype", REAL)
@EXAMPLES
@given(data=st.data())
def test_skew_matrices(data: st.DataObject, dtype: str, scale: tuple[float, float]) -> None:
    a = data.draw(skew_matrices(scale=scale, dtype=dtype))
    assert_matrix(a, dtype)
    # exact, not approximate: == compares values (+0.0 == −0.0), so a zero diagonal passes
    assert np.array_equal(a.T, -a), f"Aᵀ != −A entrywise; Aᵀ + A =\n{a.T + a}"
    assert np.all(np.diagonal(a) == 0), f"diag(A) = {np.diagonal(a)}"
    classify_skew(a, scale, dtype)


def test_skew_matrices_blocks_put_cayley_eigenvalues_near_minus_one() -> None:
    a = find(skew_matrices(), lambda a: np.max(np.abs(a)) == HUGE)
    assert a.shape == (2, 2), f"expected the minimal block example to be 2×2, got\n{a}"
    n, i = 2, np.eye(2)
    c = np.linalg.solve(i + a, i - a)  # C(A) = (I + A)^{-1}(I − A), theory/orthogonal.md §0.2
    dist = float(np.min(np.abs(np.linalg.eigvals(c) + 1)))
    expected = 2 / math.sqrt(1 + HUGE**2)  # |1 + e^{−2i·arctan s}| = 2/sqrt(1 + s²)
    # I + A is normal with cond₂ = 1, so C(A) is computed to O(eps) and its eigenvalues
    # (normal matrix, κ(λ) = 1) to an absolute O(n·eps)
    assert_leq(
        "| |λ + 1| − 2/sqrt(1 + s²) |",
        abs(dist - expected),
        10 * n * eps("float64"),
        f"10·n·eps; |λ + 1| = {dist:.6g}, expected {expected:.6g}",
    )


@pytest.mark.parametrize("scale", SCALES, ids=str)
@pytest.mark.parametrize("dtype", COMPLEX)
@EXAMPLES
@given(data=st.data())
def test_skew_hermitian_matrices(
    data: st.DataObject, dtype: str, scale: tuple[float, float]
) -> None:
    a = data.draw(skew_hermitian_matrices(scale=scale, dtype=dtype))
    n = assert_matrix(a, dtype)
    assert np.array_equal(a.conj().T, -a), f"Aᴴ != −A entrywise; Aᴴ + A =\n{a.conj().T + a}"
    assert np.all(np.diagonal(a).real == 0), f"Re diag(A) = {np.diagonal(a).real}"
    if not a.any():
        return
    norm = float(np.linalg.norm(wide(a), 2))
    lo, hi = norm_bounds(scale, n, dtype)
    if lo <= norm <= hi:
        return
    # otherwise the edge case A = i·diag(s), 1 ≤ |s_k| ≤ 1e6 = max_k |s_k|
    s = np.diagonal(a).imag
    assert np.array_equal(a, np.diag(1j * s).astype(dtype)), (
        f"‖A‖₂ = {norm:.6g} not in [{lo:.6g}, {hi:.6g}] and A is not i·diag(s):\n{a}"
    )
    assert np.all((np.abs(s) >= 1) & (np.abs(s) <= HUGE)) and np.max(np.abs(s)) == HUGE, s


# ---------------------------------------------------------------------------
# spectral radius
# ---------------------------------------------------------------------------


def spectral_radius_bound(w: NDArray[Any], dtype: str) -> tuple[float, float, str]:
    """ρ̂(W) and the bound on |ρ̂(W) − r|: 10·n·eps·κ·‖W‖_F.

    The computed eigenvalues of M are exact for M + E, ‖E‖₂ ≤ p(n)·eps·‖M‖_F (backward
    stable QR algorithm), and an eigenvalue moves by at most κ(λ)·‖E‖₂ to first order,
    κ(λ) = ‖x‖·‖y‖/|yᴴx| its condition number (Wilkinson). ρ̂(M) in the strategy and ρ̂(W)
    here each contribute such an error, the scaling r/ρ̂·M and the cast a few eps·‖W‖_F:
    10·n covers 2·p(n) + 3. κ is the largest eigenvalue condition number, read off the
    computed eigenvectors (rows of V⁻¹ are left eigenvectors with yᴴx = 1), which bounds
    the first-order move of every eigenvalue. Gaussian matrices are non-normal (κ up to
    ~1e2 measured for n ≤ 8), so a bound without κ would be unfounded; with it, the
    measured |ρ̂ − r| is ≤ 3.4·n·eps·κ·‖W‖_F. A wrong scaling (‖M‖₂ for ρ(M)) errs by O(r).
    """
    n = w.shape[0]
    lam, v = np.linalg.eig(wide(w))
    kappa = float(np.max(np.linalg.norm(np.linalg.inv(v), axis=1) * np.linalg.norm(v, axis=0)))
    fro = float(np.linalg.norm(wide(w)))
    tol = 10 * n * eps(dtype) * kappa * fro
    return (
        float(np.max(np.abs(lam))),
        tol,
        f"10·n·eps·κ·‖W‖_F, n={n}, κ={kappa:.3g}, ‖W‖_F={fro:.3g}, dtype={dtype}",
    )


RADII = st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-3, 1e3))


@pytest.mark.parametrize("dtype", REAL + COMPLEX)
@EXAMPLES
@given(data=st.data())
def test_spectral_radius_matrices(data: st.DataObject, dtype: str) -> None:
    r = data.draw(RADII, label="radius")
    w = data.draw(spectral_radius_matrices(radius=r, dtype=dtype))
    assert_matrix(w, dtype)
    rho, tol, derivation = spectral_radius_bound(w, dtype)
    assert_leq(f"|ρ(W) − r| (ρ(W) = {rho:.17g}, r = {r!r})", abs(rho - r), tol, derivation)


@EXAMPLES
@given(spectral_radius_matrices(radius=st.floats(0.5, 2.0)))
def test_spectral_radius_matrices_radius_strategy(w: NDArray[Any]) -> None:
    assert_matrix(w, "float64")
    rho, tol, derivation = spectral_radius_bound(w, "float64")
    assert_leq(
        f"distance of ρ(W) = {rho:.17g} from [0.5, 2]",
        max(0.5 - rho, rho - 2.0, 0.0),
        tol,
        derivation,
    )


# ---------------------------------------------------------------------------
# symmetric positive definite
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "max_condition"),
    [("float64", 1.0), ("float64", 1e3), ("float64", 1e8), ("float32", 1e3)],
)
@EXAMPLES
@given(data=st.data())
def test_spd_matrices(data: st.DataObject, dtype: str, max_condition: float) -> None:
    s = data.draw(spd_matrices(max_condition=max_condition, dtype=dtype))
    n = assert_matrix(s, dtype)
    assert np.array_equal(s, s.T), f"S != Sᵀ entrywise; S − Sᵀ =\n{s - s.T}"
    lam = np.linalg.eigvalsh(wide(s))
    # Weyl: every computed eigenvalue is within ‖E‖₂ of the exact λ ∈ [1, κ], where E
    # gathers the construction (n-term sums, γ_n per entry; Q̂ orthogonal to O(n·eps)),
    # the cast (eps/2 per entry) and eigvalsh's backward error, each O(n·eps·‖S‖₂):
    # δ = 10·n·eps·λ̂_max. Measured: ≤ 1.9·n·eps·κ. The strategy rejects
    # max_condition > 1/(20·n·eps), so δ ≤ 1/2 here.
    delta = 10 * n * eps(dtype) * float(lam[-1])
    d = f"δ = 10·n·eps·λ_max = {delta:.3g}, n={n}, dtype={dtype}"
    assert_leq("1 − λ_min", 1 - float(lam[0]), delta, d)
    assert lam[0] > 0, f"λ_min = {lam[0]:.6g}: not positive definite"
    assert_leq("λ_max", float(lam[-1]), max_condition + delta, f"max_condition + δ; {d}")
    # then cond = λ_max/λ_min ≤ (κ + δ)/(1 − δ): the relative error of the condition
    # number is ~n·eps·κ, not n·eps, because λ_min = 1 absorbs an absolute error ~eps·κ
    cond = float(lam[-1] / lam[0])
    assert_leq(
        "cond₂(S)", cond, (max_condition + delta) / (1 - delta), f"(max_condition + δ)/(1 − δ); {d}"
    )


def test_spd_matrices_reach_max_condition() -> None:
    kappa, n, dtype = 100.0, 2, "float64"
    delta = 10 * n * eps(dtype) * kappa  # as in test_spd_matrices
    s = find(spd_matrices(max_condition=kappa), lambda s: np.linalg.cond(s) >= kappa * (1 - delta))
    assert s.shape == (n, n), f"expected the minimal extreme example to be {n}×{n}, got\n{s}"


# ---------------------------------------------------------------------------
# argument validation
# ---------------------------------------------------------------------------

INVALID: list[Any] = [
    # (call, text the message must contain)
    pytest.param(lambda: orthogonal_matrices(0), "n=0", id="orthogonal_matrices(0)"),
    pytest.param(lambda: orthogonal_matrices(-3), "n=-3", id="orthogonal_matrices(-3)"),
    pytest.param(
        lambda: orthogonal_matrices(2.0),  # type: ignore[arg-type]
        "n=2.0",
        id="orthogonal_matrices(2.0)",
    ),
    pytest.param(lambda: orthogonal_matrices(True), "n=True", id="orthogonal_matrices(True)"),
    pytest.param(
        lambda: orthogonal_matrices(st.nothing()),
        "n=nothing()",
        id="orthogonal_matrices(st.nothing())",
    ),
    pytest.param(lambda: orthogonal_matrices(det=0), "det=0", id="orthogonal_matrices(det=0)"),
    pytest.param(lambda: orthogonal_matrices(det=2), "det=2", id="orthogonal_matrices(det=2)"),
    pytest.param(
        lambda: orthogonal_matrices(det=True), "det=True", id="orthogonal_matrices(det=True)"
    ),
    pytest.param(
        lambda: orthogonal_matrices(dtype="complex128"),
        "dtype='complex128'",
        id="orthogonal_matrices(dtype='complex128')",
    ),
    pytest.param(
        lambda: orthogonal_matrices(dtype="float16"),
        "dtype='float16'",
        id="orthogonal_matrices(dtype='float16')",
    ),
    pytest.param(
        lambda: orthogonal_matrices(dtype="no-such-dtype"),
        "dtype='no-such-dtype'",
        id="orthogonal_matrices(dtype='no-such-dtype')",
    ),
    pytest.param(lambda: unitary_matrices(0), "n=0", id="unitary_matrices(0)"),
    pytest.param(
        lambda: unitary_matrices(dtype="float64"),
        "dtype='float64'",
        id="unitary_matrices(dtype='float64')",
    ),
    pytest.param(
        lambda: skew_matrices(scale=(2.0, 1.0)),
        "scale=(2.0, 1.0)",
        id="skew_matrices(scale=(2.0, 1.0))",
    ),
    pytest.param(
        lambda: skew_matrices(scale=(-1.0, 1.0)),
        "scale=(-1.0, 1.0)",
        id="skew_matrices(scale=(-1.0, 1.0))",
    ),
    pytest.param(
        lambda: skew_matrices(scale=(0.0, math.inf)),
        "scale=(0.0, inf)",
        id="skew_matrices(scale=(0.0, inf))",
    ),
    pytest.param(
        lambda: skew_matrices(scale=(math.nan, 1.0)),
        "scale=(nan, 1.0)",
        id="skew_matrices(scale=(nan, 1.0))",
    ),
    pytest.param(
        lambda: skew_matrices(scale=(1e-300, 1.0)),
        "scale=(1e-300, 1.0)",
        id="skew_matrices(scale=(1e-300, 1.0))",
    ),
    pytest.param(
        lambda: skew_matrices(scale=1.0),  # type: ignore[arg-type]
        "scale=1.0",
        id="skew_matrices(scale=1.0)",
    ),
    pytest.param(
        lambda: skew_matrices(dtype="complex64"),
        "dtype='complex64'",
        id="skew_matrices(dtype='complex64')",
    ),
    pytest.param(
        lambda: skew_hermitian_matrices(scale=(3.0, 1.0)),
        "scale=(3.0, 1.0)",
        id="skew_hermitian_matrices(scale=(3.0, 1.0))",
    ),
    pytest.param(
        lambda: skew_hermitian_matrices(dtype="float32"),
        "dtype='float32'",
        id="skew_hermitian_matrices(dtype='float32')",
    ),
    pytest.param(
        lambda: spectral_radius_matrices(radius=-1.0),
        "radius=-1.0",
        id="spectral_radius_matrices(radius=-1.0)",
    ),
    pytest.param(
        lambda: spectral_radius_matrices(radius=math.inf),
        "radius=inf",
        id="spectral_radius_matrices(radius=inf)",
    ),
    pytest.param(
        lambda: spectral_radius_matrices(radius=math.nan),
        "radius=nan",
        id="spectral_radius_matrices(radius=nan)",
    ),
    pytest.param(
        lambda: spectral_radius_matrices(radius=1e-40, dtype="float32"),
        "radius=1e-40",
        id="spectral_radius_matrices(radius=1e-40, dtype='float32')",
    ),
    pytest.param(
        lambda: spectral_radius_matrices(radius=st.nothing()),
        "radius=nothing()",
        id="spectral_radius_matrices(radius=st.nothing())",
    ),
    pytest.param(
        lambda: spectral_radius_matrices(dtype="int64"),
        "dtype='int64'",
        id="spectral_radius_matrices(dtype='int64')",
    ),
    pytest.param(
        lambda: spd_matrices(max_condition=0.5),
        "max_condition=0.5",
        id="spd_matrices(max_condition=0.5)",
    ),
    pytest.param(
        lambda: spd_matrices(max_condition=math.inf),
        "max_condition=inf",
        id="spd_matrices(max_condition=inf)",
    ),
    pytest.param(
        lambda: spd_matrices(max_condition=math.nan),
        "max_condition=nan",
        id="spd_matrices(max_condition=nan)",
    ),
    # 1/(20·n·eps₃₂) = 5.2e4 for n = 8 and 4.2e5 for n = 1
    pytest.param(
        lambda: spd_matrices(8, max_condition=1e5, dtype="float32"),
        "max_condition=100000.0",
        id="spd_matrices(8, max_condition=1e5, float32)",
    ),
    pytest.param(
        lambda: spd_matrices(max_condition=1e6, dtype="float32"),
        "max_condition=1000000.0",
        id="spd_matrices(max_condition=1e6, float32)",
    ),
    pytest.param(
        lambda: spd_matrices(dtype="complex128"),
        "dtype='complex128'",
        id="spd_matrices(dtype='complex128')",
    ),
]


@pytest.mark.parametrize(("make", "shown"), INVALID)
def test_invalid_arguments_raise_eagerly(make: Callable[[], object], shown: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(shown)):
        make()


DRAWN_INVALID: list[Any] = [
    pytest.param(
        lambda: orthogonal_matrices(st.just(0)), "n=0", id="orthogonal_matrices(st.just(0))"
    ),
    pytest.param(
        lambda: skew_matrices(st.sampled_from([-1])),
        "n=-1",
        id="skew_matrices(st.sampled_from([-1]))",
    ),
    pytest.param(
        lambda: spectral_radius_matrices(radius=st.just(-1.0)),
        "radius=-1.0",
        id="spectral_radius_matrices(radius=st.just(-1.0))",
    ),
    pytest.param(
        lambda: spd_matrices(st.just(8), max_condition=1e5, dtype="float32"),
        "max_condition=100000.0",
        id="spd_matrices(st.just(8), max_condition=1e5, float32)",
    ),
]


@pytest.mark.parametrize(("make", "shown"), DRAWN_INVALID)
def test_invalid_drawn_arguments_raise_when_drawn(
    make: Callable[[], st.SearchStrategy[Any]], shown: str
) -> None:
    strategy = make()  # a strategy argument can only be checked value by value
    with pytest.raises(InvalidArgument, match=re.escape(shown)):
        find(strategy, lambda a: True)


# ---------------------------------------------------------------------------
# shrinking
# ---------------------------------------------------------------------------

SHRINKS: list[Any] = [
    pytest.param(orthogonal_matrices(), np.eye(1), id="orthogonal_matrices()"),
    pytest.param(orthogonal_matrices(det=1), np.eye(1), id="orthogonal_matrices(det=1)"),
    pytest.param(orthogonal_matrices(det=-1), -np.eye(1), id="orthogonal_matrices(det=-1)"),
    pytest.param(
        orthogonal_matrices(st.integers(3, 5), det=-1),
        np.diag([1.0, 1.0, -1.0]),
        id="orthogonal_matrices(st.integers(3, 5), det=-1)",
    ),
    pytest.param(
        orthogonal_matrices(dtype="float32"),
        np.eye(1, dtype=np.float32),
        id="orthogonal_matrices(dtype='float32')",
    ),
    pytest.param(unitary_matrices(), np.eye(1, dtype=complex), id="unitary_matrices()"),
    pytest.param(
        unitary_matrices(4, dtype="complex64"),
        np.eye(4, dtype=np.complex64),
        id="unitary_matrices(4, dtype='complex64')",
    ),
    pytest.param(skew_matrices(), np.zeros((1, 1)), id="skew_matrices()"),
    pytest.param(
        skew_matrices(st.integers(2, 6)), np.zeros((2, 2)), id="skew_matrices(st.integers(2, 6))"
    ),
    pytest.param(
        skew_hermitian_matrices(), np.zeros((1, 1), dtype=complex), id="skew_hermitian_matrices()"
    ),
    pytest.param(spectral_radius_matrices(), np.eye(1), id="spectral_radius_matrices()"),
    pytest.param(
        spectral_radius_matrices(3, radius=2.5),
        2.5 * np.eye(3),
        id="spectral_radius_matrices(3, radius=2.5)",
    ),
    pytest.param(
        spectral_radius_matrices(radius=st.floats(0.5, 2.0), dtype="complex128"),
        1.0 * np.eye(1, dtype=complex),  # Hypothesis shrinks floats toward integers: 1.0
        id="spectral_radius_matrices(radius=st.floats(0.5, 2.0), dtype='complex128')",
    ),
    pytest.param(spd_matrices(), np.eye(1), id="spd_matrices()"),
    pytest.param(
        spd_matrices(3, max_condition=1e6), np.eye(3), id="spd_matrices(3, max_condition=1e6)"
    ),
]


@pytest.mark.parametrize(("strategy", "simplest"), SHRINKS)
def test_shrinks_to_simplest(strategy: st.SearchStrategy[Any], simplest: NDArray[Any]) -> None:
    a = find(strategy, lambda a: True)
    assert a.dtype == simplest.dtype, f"dtype {a.dtype}, expected {simplest.dtype}"
    np.testing.assert_array_equal(a, simplest, err_msg=f"minimal example of {strategy!r}")
