"""Plots of verdict series: a registry from series names to plot kinds, and their drawing.

A claim puts what a plot needs into its observation's ``series`` (named lists of floats,
carried to :attr:`rnnverify.verdict.Verdict.series`): the Gram error ‖W_kᴴW_k − I‖_F after
every step, the eigenvalues of W as two lists ``eig_re``/``eig_im``, the ADMM residuals
``r1``, ``r2``, ``r3`` per iteration. The registry maps a series *name* to a
:class:`PlotKind`, so the report never imports a claim module: a claim that records a
series under a registered name is plotted, and a module with a new kind of series adds it
with :func:`register_plot`::

    register_plot(PlotKind("admm.residuals", "ADMM residuals",
                           (Line("r1"), Line("r2", style="--"), Line("r3", style=":")),
                           xlabel="iteration k", ylabel="‖r‖", yscale="log"))

A kind is chosen by its *primary* series (its first line's ``y``); its other lines are
drawn when present. A series no kind mentions gets a generic plot against its index.

Drawing (:func:`draw`) uses matplotlib's object-oriented API on an Agg canvas: no pyplot,
no ``matplotlib.use()``, so the user's backend and open figures are left alone.
matplotlib is imported only there (the ``report`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rnnverify.verdict import Status, Verdict

Style = Literal["-", "--", ":", "o"]
_LINESTYLE: dict[str, Literal["-", "--", ":", ""]] = {"-": "-", "--": "--", ":": ":", "o": ""}
"""Matplotlib's linestyle of a :data:`Style` (``o``: markers, no line)."""
Scale = Literal["linear", "log", "auto"]
"""``auto``: logarithmic when every finite value is positive and they span more than
:data:`AUTO_LOG_DECADES` decades, else linear."""
AUTO_LOG_DECADES = 2.0
MARKER_POINTS = 30
"""Lines with at most this many points also mark each point."""
LEGEND_INSIDE = 5
"""A legend with more rows goes below the axes, where it hides no data."""


@dataclass(frozen=True)
class Line:
    """One series on a plot.

    Attributes
    ----------
    y : str
        The series name of the ordinates.
    x : str or None
        The series name of the abscissae; ``None``: ``start, start + 1, ...``.
    start : int
        First abscissa when ``x`` is ``None`` (a bound that starts at step 1).
    label : str or None
        Legend text (default: ``y``).
    style : str
        ``"-"``, ``"--"``, ``":"`` or ``"o"`` (markers only).
    reference : bool
        A bound or a fit, drawn thin over the data lines (which are then drawn wide and
        pale, so that a reference lying on them stays visible).
    """

    y: str
    x: str | None = None
    start: int = 0
    label: str | None = None
    style: Style = "-"
    reference: bool = False


@dataclass(frozen=True)
class PlotKind:
    """How to plot a family of series.

    Attributes
    ----------
    id : str
        Stable id, used in file names.
    title : str
    lines : tuple of Line
        ``lines[0].y`` is the primary series: a verdict with it gets this plot.
    xlabel, ylabel : str
    xscale, yscale : {"linear", "log", "auto"}
        A ``log`` axis whose data are not all positive becomes ``symlog``.
    unit_circle : bool
        Equal axes and the circle |z| = 1 (eigenvalues in the complex plane).
    """

    id: str
    title: str
    lines: tuple[Line, ...]
    xlabel: str
    ylabel: str
    xscale: Scale = "linear"
    yscale: Scale = "linear"
    unit_circle: bool = False

    @property
    def primary(self) -> str:
        return self.lines[0].y

    @property
    def names(self) -> frozenset[str]:
        """Every series name the kind draws (ordinates and abscissae)."""
        return frozenset(n for line in self.lines for n in (line.y, line.x) if n is not None)


_KINDS: dict[str, PlotKind] = {}


def register_plot(kind: PlotKind) -> PlotKind:
    """Plot every verdict that has the series ``kind.primary`` as ``kind``.

    ``ValueError`` if a different kind already claims that primary series or id."""
    if not kind.lines:
        raise ValueError(f"plot kind {kind.id!r}: expected at least one Line, got none")
    for other in _KINDS.values():
        if other != kind and kind.id == other.id:
            raise ValueError(f"plot kind {kind.id!r} is already registered")
    old = _KINDS.get(kind.primary)
    if old is not None and old != kind:
        raise ValueError(
            f"series {kind.primary!r} is already plotted by {old.id!r}; choose another name"
        )
    _KINDS[kind.primary] = kind
    return kind


def registered_plots() -> dict[str, PlotKind]:
    """The registry: primary series name -> kind."""
    return dict(_KINDS)


def kinds_for(series: Mapping[str, Sequence[float]]) -> list[PlotKind]:
    """The plots of one verdict's series: registered kinds whose primary series it has,
    then a generic plot (against the index, ``auto`` scale) per series none of them
    draws. Empty series are not plotted (e.g. a trajectory claim that failed at its first
    step)."""
    series = {name: v for name, v in series.items() if len(v)}
    found = [k for name, k in _KINDS.items() if name in series]
    drawn = set().union(*(k.names for k in found))
    generic = [
        PlotKind(
            id=f"series.{name}",
            title=name,
            lines=(Line(name),),
            xlabel="index",
            ylabel=name,
            yscale="auto",
        )
        for name in series
        if name not in drawn
    ]
    return found + generic


# ---------------------------------------------------------------------------------------
# The built-in kinds (by the series names the built-in claims record)
# ---------------------------------------------------------------------------------------

register_plot(
    PlotKind(
        "orthogonality_drift",
        "orthogonality drift",
        (
            Line("gram_error", label="‖W_kᴴW_k − I‖_F"),
            Line("drift_bound", start=1, label="drift bound", style="--", reference=True),
        ),
        xlabel="step k",
        ylabel="‖W_kᴴW_k − I‖_F",
        yscale="log",
    )
)
register_plot(
    PlotKind(
        "eigenvalues",
        "eigenvalues against the unit circle",
        (Line("eig_im", x="eig_re", label="λ", style="o"),),
        xlabel="Re λ",
        ylabel="Im λ",
        unit_circle=True,
    )
)
register_plot(
    PlotKind(
        "spectral_radius",
        "spectral radius",
        (Line("spectral_radius", start=1, label="ρ(W_k)"),),
        xlabel="step k",
        ylabel="ρ",
    )
)
register_plot(
    PlotKind(
        "state_gradient",
        "gradient norm against time step",
        (Line("grad_h_norm", x="time_step", label="‖∂L/∂h_t‖", style="-"),),
        xlabel="time step t",
        ylabel="‖∂L/∂h_t‖_F",
        yscale="log",
    )
)
register_plot(
    PlotKind(
        "rate",
        "optimality gap and fitted rate",
        (
            Line("loss gap", label="f_k − f̂*"),
            Line("fitted gap", x="fit_k", label="fitted rate", style="--", reference=True),
        ),
        xlabel="step k",
        ylabel="f_k − f̂*",
        yscale="log",
    )
)
register_plot(
    PlotKind(
        "taylor",
        "first-order Taylor remainder",
        (
            Line("remainder", x="t", label="|r(t)|", style="o"),
            Line("floor", x="t", label="rounding floor", style="--", reference=True),
        ),
        xlabel="step length t",
        ylabel="|f(x + td) − f(x) − t⟨g, d⟩|",
        xscale="log",
        yscale="log",
    )
)
register_plot(
    PlotKind("loss", "loss", (Line("loss"),), xlabel="step k", ylabel="f_k", yscale="log")
)
register_plot(
    PlotKind(
        "armijo",
        "Armijo ratio",
        (Line("armijo_ratio", label="(f_k − f_{k+1}) / |⟨∇f_k, s_k⟩|"),),
        xlabel="judged step",
        ylabel="(f_k − f_{k+1}) / |⟨∇f_k, s_k⟩|",
    )
)
# ADMM: residual norms, Lyapunov value Ψ and augmented Lagrangian L per iteration
register_plot(
    PlotKind(
        "admm.residuals",
        "ADMM residuals",
        (Line("r1"), Line("r2", style="--"), Line("r3", style=":")),
        xlabel="iteration k",
        ylabel="‖r‖",
        yscale="log",
    )
)
register_plot(
    PlotKind(
        "admm.lyapunov",
        "Lyapunov value",
        (Line("Psi", label="Ψ"),),
        xlabel="iteration k",
        ylabel="Ψ_k",
        yscale="log",
    )
)
register_plot(
    PlotKind(
        "admm.lagrangian",
        "augmented Lagrangian",
        (Line("L"),),
        xlabel="iteration k",
        ylabel="L_ρ",
        yscale="log",
    )
)


# ---------------------------------------------------------------------------------------
# Charts: one plot kind, one claim row, every optimizer that has the series
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """One verdict's series on a chart."""

    optimizer: str
    status: Status
    series: Mapping[str, Sequence[float]]


@dataclass(frozen=True)
class Chart:
    """A plot kind for one claim row (``claim:target``), one curve per optimizer."""

    kind: PlotKind
    row: str
    curves: tuple[Curve, ...]

    @property
    def stem(self) -> str:
        """A file-name stem: the row and the kind, with only ``[A-Za-z0-9._-]``."""
        text = f"{self.row}--{self.kind.id}"
        return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in text)


def row_of(v: Verdict) -> str:
    """The matrix row of a verdict: ``claim:target`` (options differ per optimizer)."""
    return f"{v.claim}:{v.target}" if v.target else v.claim


def charts(verdicts: Iterable[Verdict]) -> list[Chart]:
    """The charts of ``verdicts``, in order of first appearance."""
    grouped: dict[tuple[str, str], tuple[PlotKind, list[Curve]]] = {}
    for v in verdicts:
        for kind in kinds_for(v.series):
            key = (row_of(v), kind.id)
            grouped.setdefault(key, (kind, []))[1].append(Curve(v.optimizer, v.status, v.series))
    return [Chart(kind, row, tuple(curves)) for (row, _), (kind, curves) in grouped.items()]


def _values(series: Mapping[str, Sequence[float]], line: Line) -> tuple[np.ndarray, np.ndarray]:
    """Abscissae and ordinates of ``line`` as float arrays of one length; non-finite
    values become NaN (a gap in the line)."""
    y = np.array([_finite(v) for v in series[line.y]], dtype=np.float64)
    if line.x is None:
        x = np.arange(line.start, line.start + y.size, dtype=np.float64)
    else:
        x = np.array([_finite(v) for v in series.get(line.x, [])], dtype=np.float64)
    n = min(x.size, y.size)
    return x[:n], y[:n]


def _finite(v: float) -> float:
    v = float(v)
    return v if math.isfinite(v) else math.nan


def axis_scale(scale: Scale, values: np.ndarray) -> tuple[str, dict[str, Any]]:
    """The matplotlib scale (and its arguments) for ``values`` on an axis of ``scale``."""
    finite = values[np.isfinite(values)]
    positive = finite[finite > 0]
    if finite.size == 0:
        return "linear", {}  # nothing to draw: no scale to choose
    if scale == "auto":
        spans = (
            positive.size == finite.size
            and math.log10(positive.max() / positive.min()) > AUTO_LOG_DECADES
        )
        scale = "log" if spans else "linear"
    if scale == "log" and np.any(finite < 0):
        # negative values (a Lagrangian): linear within the smallest nonzero magnitude,
        # logarithmic outside
        nonzero = np.abs(finite[finite != 0])
        return "symlog", {"linthresh": float(nonzero.min())}
    if scale == "log" and positive.size == 0:
        return "linear", {}  # all zeros: nothing to show on a log axis
    if scale == "log":
        # a zero (an exactly orthogonal start, a gap at f*) is left out, not drawn at −∞
        return "log", {"nonpositive": "mask"}
    return scale, {}


def draw(chart: Chart, path: Path) -> Path:
    """Draw ``chart`` as a PNG at ``path`` (headless, Agg canvas).

    Colour tells the optimizers apart, line style the series of the kind; the legend
    lists each once (below the axes when it has more than :data:`LEGEND_INSIDE` rows)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    kind = chart.kind
    styles = [line for line in kind.lines if any(line.y in c.series for c in chart.curves)]
    entries = len(chart.curves) + (len(styles) if len(styles) > 1 else 0) + kind.unit_circle
    below = entries > LEGEND_INSIDE
    height = 4.2 + (0.17 * math.ceil(entries / 2) + 0.1 if below else 0.0)
    fig = Figure(figsize=(6.4, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pale = any(line.reference for line in kind.lines)
    marker_only = bool(styles) and styles[0].style == "o"
    handles: list[Line2D] = []
    xs, ys = [], []
    for i, curve in enumerate(chart.curves):
        color = f"C{i % 10}"
        tag = "" if curve.status is Status.PASS else f" [{curve.status.value}]"
        for line in kind.lines:
            if line.y not in curve.series:
                continue
            x, y = _values(curve.series, line)
            xs.append(x)
            ys.append(y)
            if line.style == "o":
                ax.plot(x, y, "o", color=color, markersize=4, alpha=0.8)
            elif line.reference:
                ax.plot(x, y, line.style, color=color, linewidth=1.3, zorder=3)
            else:
                # markers on short runs: a run that fails at its first step is one point
                marker = "o" if x.size <= MARKER_POINTS else None
                ax.plot(
                    x,
                    y,
                    line.style,
                    color=color,
                    linewidth=2.4 if pale else 1.6,
                    alpha=0.55 if pale else 1.0,
                    marker=marker,
                    markersize=4 if pale else 3,
                )
        handles.append(
            Line2D(
                [],
                [],
                color=color,
                linewidth=2,
                label=curve.optimizer + tag,
                marker="o" if marker_only else None,
                linestyle="" if marker_only else "-",
            )
        )
    if len(styles) > 1:
        for line in styles:
            handles.append(
                Line2D(
                    [],
                    [],
                    color="0.3",
                    label=line.label or line.y,
                    linestyle=_LINESTYLE[line.style],
                    marker="o" if line.style == "o" else None,
                )
            )
    all_x = np.concatenate(xs) if xs else np.zeros(0)
    all_y = np.concatenate(ys) if ys else np.zeros(0)
    if kind.unit_circle:
        theta = np.linspace(0.0, 2 * math.pi, 361)
        (circle,) = ax.plot(np.cos(theta), np.sin(theta), color="0.5", linewidth=0.8)
        circle.set_label("|z| = 1")
        handles.append(circle)
        ax.set_aspect("equal", adjustable="datalim")
        ax.axhline(0.0, color="0.85", linewidth=0.6)
        ax.axvline(0.0, color="0.85", linewidth=0.6)
    for axis, scale, values in (("x", kind.xscale, all_x), ("y", kind.yscale, all_y)):
        name, kwargs = axis_scale(scale, values)
        (ax.set_xscale if axis == "x" else ax.set_yscale)(name, **kwargs)
    if all(line.x is None for line in kind.lines):  # steps and iterations are integers
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(kind.xlabel)
    ax.set_ylabel(kind.ylabel)
    ax.set_title(f"{kind.title}: {chart.row}", fontsize=10)
    ax.grid(True, which="major", color="0.9", linewidth=0.6)
    if below:
        fig.legend(handles=handles, fontsize=7, loc="outside lower center", ncols=2)
    else:
        ax.legend(handles=handles, fontsize=7, loc="best")
    fig.savefig(path, format="png")
    return path


__all__ = [
    "Chart",
    "Curve",
    "Line",
    "PlotKind",
    "axis_scale",
    "charts",
    "draw",
    "kinds_for",
    "register_plot",
    "registered_plots",
    "row_of",
]
