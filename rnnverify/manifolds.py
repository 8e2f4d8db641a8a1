"""Shared maps of the orthogonal/unitary group (no scipy): skew parts, the Cayley
transform in scoRNN's convention, the exponential of a skew(-Hermitian) matrix, Haar
samples. Conventions: theory/orthogonal.md §0.2–0.3.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnverify.problems import haar

__all__ = ["cayley", "cayley_torch", "expm_skew", "haar", "skew"]


def skew(M: NDArray[Any]) -> NDArray[Any]:
    """``(M − Mᴴ)/2``: the skew-symmetric (skew-Hermitian) part."""
    return (M - M.conj().T) / 2


def cayley(A: NDArray[Any]) -> NDArray[Any]:
    """``C(A) = (I + A)⁻¹(I − A)`` (scoRNN, scuRNN, ENRNN, expRNN's ``cayley_map``).

    Orthogonal (unitary) for every skew (skew-Hermitian) A, never has eigenvalue −1, and
    is an involution: C(C(A)) = A. Computed by one LU solve.
    """
    eye = np.eye(A.shape[0], dtype=A.dtype)
    return np.linalg.solve(eye + A, eye - A)


def cayley_torch(X: NDArray[Any]) -> NDArray[Any]:
    """``Cay(X) = (I − X/2)⁻¹(I + X/2)`` (PyTorch ``parametrizations.orthogonal``,
    geotorch); ``C(A) = Cay(−2A)`` (orthogonal.md §0.2)."""
    eye = np.eye(X.shape[0], dtype=X.dtype)
    return np.linalg.solve(eye - X / 2, eye + X / 2)


def expm_skew(Omega: NDArray[Any]) -> NDArray[Any]:
    """``expm(Ω)`` for skew-symmetric (real) or skew-Hermitian (complex) ``Ω``, exactly
    from the Hermitian eigenproblem of ``iΩ``: ``Ω = −i·V·Λ·Vᴴ`` ⇒
    ``expm(Ω) = V·exp(−iΛ)·Vᴴ``; unitary to O(n·ε) because V is."""
    lam, V = np.linalg.eigh(1j * Omega)
    E = (V * np.exp(-1j * lam)) @ V.conj().T
    return E.astype(Omega.dtype) if np.iscomplexobj(Omega) else E.real.astype(Omega.dtype)
