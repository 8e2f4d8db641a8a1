"""Small helpers on parameter dicts and optimizer states.

Parameters are ``dict[str, ndarray]``; a state is any nesting of tuples, lists, dicts,
named tuples, frozen dataclasses and arrays/scalars. The inner product on parameters is
the real one of theory/orthogonal.md §0.5: ``⟨X, Y⟩ = Σ_k Re tr(X_kᴴ Y_k)``, so that the
directional derivative of a real loss is ``⟨grad, d⟩`` for real and complex parameters
alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

Params = dict[str, NDArray[Any]]


def freeze_array(a: NDArray[Any]) -> NDArray[Any]:
    """A read-only copy of ``a`` that owns its memory."""
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


def freeze(tree: Any) -> Any:
    """Deep copy of ``tree`` in which every array is read-only."""
    return map_arrays(freeze_array, tree)


def map_arrays(fn: Callable[[NDArray[Any]], Any], tree: Any) -> Any:
    """Apply ``fn`` to every ndarray leaf of ``tree``; other leaves are kept."""
    if isinstance(tree, np.ndarray):
        return fn(tree)
    if isinstance(tree, Mapping):
        return {k: map_arrays(fn, v) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(map_arrays(fn, v) for v in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(map_arrays(fn, v) for v in tree)
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        changes = {f.name: map_arrays(fn, getattr(tree, f.name)) for f in dataclasses.fields(tree)}
        return dataclasses.replace(tree, **changes)
    return tree


def iter_arrays(tree: Any, path: str = "") -> Iterator[tuple[str, NDArray[Any]]]:
    """Yield ``(path, array)`` for every ndarray leaf, with a readable path."""
    if isinstance(tree, np.ndarray):
        yield path or "<root>", tree
    elif isinstance(tree, Mapping):
        for k, v in tree.items():
            yield from iter_arrays(v, f"{path}[{k!r}]")
    elif isinstance(tree, tuple) and hasattr(tree, "_fields"):
        for name, v in zip(tree._fields, tree, strict=True):
            yield from iter_arrays(v, f"{path}.{name}")
    elif isinstance(tree, (tuple, list)):
        for i, v in enumerate(tree):
            yield from iter_arrays(v, f"{path}[{i}]")
    elif dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        for f in dataclasses.fields(tree):
            yield from iter_arrays(getattr(tree, f.name), f"{path}.{f.name}")


def inner(x: Mapping[str, NDArray[Any]], y: Mapping[str, NDArray[Any]]) -> float:
    """Real inner product ``Σ_k Re vdot(x_k, y_k)``."""
    return float(sum(np.real(np.vdot(x[k], y[k])) for k in x))


def norm(x: Mapping[str, NDArray[Any]]) -> float:
    """Frobenius norm over all entries."""
    return float(np.sqrt(sum(float(np.sum(np.abs(v) ** 2)) for v in x.values())))


def axpy(alpha: float, x: Mapping[str, NDArray[Any]], y: Mapping[str, NDArray[Any]]) -> Params:
    """``y + alpha·x`` as a new dict, keeping each entry's dtype."""
    return {k: (y[k] + alpha * x[k]).astype(y[k].dtype, copy=False) for k in y}


def sub(x: Mapping[str, NDArray[Any]], y: Mapping[str, NDArray[Any]]) -> Params:
    """``x − y`` entrywise."""
    return {k: x[k] - y[k] for k in x}


def random_like(params: Mapping[str, NDArray[Any]], rng: np.random.Generator) -> Params:
    """A standard Gaussian direction shaped like ``params`` (complex where they are)."""
    out: Params = {}
    for k, v in params.items():
        d = rng.standard_normal(v.shape)
        if np.iscomplexobj(v):
            d = d + 1j * rng.standard_normal(v.shape)
        out[k] = d.astype(v.dtype)
    return out


def unit_direction(params: Mapping[str, NDArray[Any]], rng: np.random.Generator) -> Params:
    """A random direction of unit norm shaped like ``params``."""
    d = random_like(params, rng)
    n = norm(d)
    return {k: (v / n).astype(v.dtype) for k, v in d.items()}
