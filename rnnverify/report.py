"""The report: verdicts as Markdown, a self-contained HTML page and JSON, with plots.

:func:`write_report` writes into one directory::

    report.md      the verdict matrix (claim × optimizer), every failure with its
                   counterexample and reproduce command, the known failures, the plots
    report.html    the same page, self-contained: inline CSS, plots inlined as base64
                   ``data:`` URIs, no script, no external resource
    report.json    {"title", "profile", "seed", "summary", "verdicts": [Verdict.to_json()],
                    "plots": [{"file", "kind", "row", "optimizers"}]}
    plots/*.png    one chart per (claim row, plot kind), see :mod:`rnnverify.plots`

The plots need matplotlib (the ``report`` extra): :func:`require_matplotlib` says so in one
line, and :func:`prepare_directory` rejects an unusable directory, both before any work.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnverify.api import summarize
from rnnverify.plots import Chart, charts, draw, row_of
from rnnverify.verdict import Status, Verdict

INSTALL_HINT = "pip install 'rnnverify[report]'"
NAMED_COLUMNS = 6
"""Up to this many optimizers head their matrix columns by name; more get ``[1]``, ...."""


class ReportError(Exception):
    """The report cannot be written; the one-line message says why and what to do."""


def require_matplotlib() -> None:
    """``ReportError`` naming the extra to install when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ReportError(f"--report needs matplotlib: {INSTALL_HINT}") from None


def prepare_directory(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` (and its parents) and make sure files can be written in it;
    ``ReportError`` naming the path otherwise (an existing file, an unwritable place)."""
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise ReportError(f"--report {str(path)!r}: is a file, expected a directory")
    try:
        (path / "plots").mkdir(parents=True, exist_ok=True)
        probe = path / ".rnnverify-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReportError(f"--report {str(path)!r}: cannot write there ({reason})") from None
    return path


@dataclass(frozen=True)
class ReportFiles:
    """The files :func:`write_report` wrote."""

    directory: Path
    markdown: Path
    html: Path
    json: Path
    plots: tuple[Path, ...]


def write_report(
    verdicts: Sequence[Verdict],
    directory: str | os.PathLike[str],
    *,
    title: str = "rnnverify report",
    profile: str | None = None,
    seed: int | None = None,
    elapsed: float | None = None,
    command: str | None = None,
) -> ReportFiles:
    """Write the report of ``verdicts`` into ``directory`` (created if needed).

    Parameters
    ----------
    verdicts : sequence of Verdict
    directory : path
    title : str
        The page title.
    profile : str or None
        The Hypothesis profile the verdicts were searched with.
    seed : int or None
        The seed of the search.
    elapsed : float or None
        Seconds the verification took.
    command : str or None
        The command line that produced the verdicts.

    Returns
    -------
    ReportFiles
        The paths of ``report.md``, ``report.html``, ``report.json`` and the PNG plots.

    Raises
    ------
    ReportError
        matplotlib is missing, or the directory cannot be written.
    """
    require_matplotlib()
    root = prepare_directory(directory)
    for old in (root / "plots").glob("[0-9][0-9]-*.png"):  # a previous report's plots
        old.unlink()
    verdicts = list(verdicts)
    chart_list = charts(verdicts)
    files = [
        draw(chart, root / "plots" / f"{i:02d}-{chart.stem}.png")
        for i, chart in enumerate(chart_list, start=1)
    ]
    doc = _Document(verdicts, chart_list, files, root, title, profile, seed, elapsed, command)
    md, page, js = root / "report.md", root / "report.html", root / "report.json"
    md.write_text(doc.markdown(), encoding="utf-8")
    page.write_text(doc.html(), encoding="utf-8")
    text = json.dumps(doc.json(), indent=2, ensure_ascii=False, default=_json_value)
    js.write_text(text + "\n", encoding="utf-8")
    return ReportFiles(root, md, page, js, tuple(files))


# ---------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------


def _anchor(v: Verdict) -> str:
    text = f"v-{v.claim_label}-{v.optimizer}"
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in text).lower()


@dataclass(frozen=True)
class _Document:
    verdicts: list[Verdict]
    charts: list[Chart]
    files: list[Path]
    root: Path
    title: str
    profile: str | None
    seed: int | None
    elapsed: float | None
    command: str | None

    # -- content shared by the formats ---------------------------------------------------
    def meta(self) -> str:
        s = summarize(self.verdicts)
        parts = [
            f"{s.passed} held, {s.failed} failed, {s.inapplicable} n.a., "
            f"{s.expected} known failures"
        ]
        if self.profile is not None:
            parts.append(f"profile {self.profile}")
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        if self.elapsed is not None:
            parts.append(f"{self.elapsed:.1f} s")
        return " · ".join(parts)

    def matrix(self) -> tuple[list[str], list[str], dict[tuple[str, str], Verdict]]:
        """Optimizers (columns), claim rows, and the verdict of each cell."""
        optimizers: list[str] = []
        rows: list[str] = []
        cells: dict[tuple[str, str], Verdict] = {}
        for v in self.verdicts:
            if v.optimizer not in optimizers:
                optimizers.append(v.optimizer)
            if row_of(v) not in rows:
                rows.append(row_of(v))
            cells[(row_of(v), v.optimizer)] = v
        return optimizers, rows, cells

    def headers(self, optimizers: list[str]) -> list[str]:
        """Column headers: the optimizers, or ``[1]``, ``[2]``, ... (named in a legend
        under the table) when there are more than :data:`NAMED_COLUMNS`."""
        if len(optimizers) <= NAMED_COLUMNS:
            return optimizers
        return [f"[{i}]" for i in range(1, len(optimizers) + 1)]

    def failures(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status.failed]

    def known(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status is Status.XFAIL]

    def plots_of(self, row: str) -> list[tuple[Chart, Path]]:
        return [(c, f) for c, f in zip(self.charts, self.files, strict=True) if c.row == row]

    @staticmethod
    def cell(v: Verdict | None) -> str:
        if v is None:
            return "—"
        return v.status.value + (f" {v.figure}" if v.figure else "")

    # -- Markdown ----------------------------------------------------------------------
    def markdown(self) -> str:
        optimizers, rows, cells = self.matrix()
        out = [f"# {self.title}", "", self.meta(), ""]
        if self.command:
            out += ["```", self.command, "```", ""]
        out += ["## Verdict matrix", ""]
        headers = self.headers(optimizers)
        out.append("| claim | " + " | ".join(_md(h) for h in headers) + " |")
        out.append("|---" * (len(optimizers) + 1) + "|")
        for r in rows:
            out.append(
                f"| {_md(r)} | "
                + " | ".join(_md(self.cell(cells.get((r, o)))) for o in optimizers)
                + " |"
            )
        if headers != optimizers:
            out.append("")
            out += [f"- {h} {_md(o)}" for h, o in zip(headers, optimizers, strict=True)]
        out += ["", "## Failures", ""]
        if not self.failures():
            out += ["No claim failed.", ""]
        for v in self.failures():
            out += [f'<a id="{_anchor(v)}"></a>', "", f"### {_md(v.one_line())}", ""]
            out += [f"Claim page: `{v.doc}`", "", "```", v.render(), "```", ""]
            if v.reproduce:
                out += ["Reproduce:", "", "```sh", v.reproduce, "```", ""]
            out += [f"![{_md(c.kind.title)}](plots/{f.name})" for c, f in self.plots_of(row_of(v))]
            out.append("")
        if self.known():
            out += ["## Known failures", ""]
            for v in self.known():
                out.append(f"- `{v.claim_label}` [{_md(v.optimizer)}]: {_md(v.reason or '')}")
                if v.reproduce:
                    out.append(f"  reproduce: `{v.reproduce}`")
            out.append("")
        out += ["## Plots", ""]
        if not self.charts:
            out += ["No verdict carries a series to plot.", ""]
        for chart, f in zip(self.charts, self.files, strict=True):
            out += [f"### {_md(chart.kind.title)}: {_md(chart.row)}", ""]
            out += [f"![{_md(chart.kind.title)}: {_md(chart.row)}](plots/{f.name})", ""]
        return "\n".join(out)

    # -- HTML --------------------------------------------------------------------------
    def html(self) -> str:
        def e(text: str) -> str:  # text and attribute values (all double-quoted)
            return html.escape(text, quote=False).replace('"', "&quot;")

        optimizers, rows, cells = self.matrix()
        body = [f"<h1>{e(self.title)}</h1>", f"<p class=meta>{e(self.meta())}</p>"]
        if self.command:
            body.append(f"<pre>{e(self.command)}</pre>")
        body.append("<h2>Verdict matrix</h2>")
        body.append('<div class=scroll><table id="matrix">')
        headers = self.headers(optimizers)
        body.append(
            "<thead><tr><th>claim</th>"
            + "".join(
                f'<th title="{e(o)}">{e(h)}</th>' for h, o in zip(headers, optimizers, strict=True)
            )
            + "</tr></thead><tbody>"
        )
        for r in rows:
            tds = []
            for o in optimizers:
                v = cells.get((r, o))
                if v is None:
                    tds.append("<td class=none>—</td>")
                    continue
                text = e(v.status.value) + (f"<br><small>{e(v.figure)}</small>" if v.figure else "")
                if v.status.failed:
                    text = f'<a href="#{_anchor(v)}">{text}</a>'
                tip = e(f"{v.optimizer}: {v.summary}")
                tds.append(f'<td class={_status_class(v.status)} title="{tip}">{text}</td>')
            body.append(f"<tr><th>{e(r)}</th>{''.join(tds)}</tr>")
        body.append("</tbody></table></div>")
        if headers != optimizers:
            body.append("<ol class=legend>")
            body += [f"<li>{e(o)}</li>" for o in optimizers]
            body.append("</ol>")
        body.append("<h2>Failures</h2>")
        if not self.failures():
            body.append("<p>No claim failed.</p>")
        for v in self.failures():
            body.append(f'<section class=failure id="{_anchor(v)}">')
            body.append(f"<h3>{e(v.one_line())}</h3>")
            body.append(f"<p>Claim page: <code>{e(v.doc)}</code></p>")
            body.append(f"<pre>{e(v.render())}</pre>")
            if v.reproduce:
                body.append(f"<p>Reproduce:</p><pre class=cmd>{e(v.reproduce)}</pre>")
            links = [
                f'<a href="#plot-{f.stem}">{e(c.kind.title)}</a>'
                for c, f in self.plots_of(row_of(v))
            ]
            if links:
                body.append("<p>Plots: " + ", ".join(links) + "</p>")
            body.append("</section>")
        if self.known():
            body.append("<h2>Known failures</h2><ul>")
            for v in self.known():
                repro = f"<br><code>{e(v.reproduce)}</code>" if v.reproduce else ""
                body.append(
                    f"<li><code>{e(v.claim_label)}</code> [{e(v.optimizer)}]: "
                    f"{e(v.reason or '')}{repro}</li>"
                )
            body.append("</ul>")
        body.append("<h2>Plots</h2>")
        if not self.charts:
            body.append("<p>No verdict carries a series to plot.</p>")
        for chart, f in zip(self.charts, self.files, strict=True):
            data = base64.b64encode(f.read_bytes()).decode("ascii")
            alt = e(f"{chart.kind.title}: {chart.row}")
            body.append(
                f'<figure id="plot-{f.stem}"><img src="data:image/png;base64,{data}" '
                f'alt="{alt}"><figcaption>{alt}</figcaption></figure>'
            )
        return (
            "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{e(self.title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )

    # -- JSON --------------------------------------------------------------------------
    def json(self) -> dict[str, Any]:
        s = summarize(self.verdicts)
        return {
            "title": self.title,
            "profile": self.profile,
            "seed": self.seed,
            "elapsed": self.elapsed,
            "command": self.command,
            "summary": {
                "held": s.passed,
                "failed": s.failed,
                "inapplicable": s.inapplicable,
                "known_failures": s.expected,
            },
            "verdicts": [v.to_json() for v in self.verdicts],
            "plots": [
                {
                    "file": f"plots/{f.name}",
                    "kind": c.kind.id,
                    "row": c.row,
                    "optimizers": [curve.optimizer for curve in c.curves],
                }
                for c, f in zip(self.charts, self.files, strict=True)
            ],
        }


def _json_value(x: object) -> object:
    """What ``Verdict.to_json`` leaves that JSON has no type for: a complex quantity (a
    determinant of a unitary W) as ``{"re", "im"}``, a numpy scalar as its Python value,
    anything else as its ``repr``."""
    if isinstance(x, complex | np.complexfloating):
        return {"re": float(x.real), "im": float(x.imag)}
    if isinstance(x, np.generic):
        return x.item()
    return repr(x)


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell or heading."""
    return text.replace("|", "\\|").replace("\n", " ")


def _status_class(status: Status) -> str:
    return {
        Status.PASS: "pass",
        Status.FAIL: "fail",
        Status.ERROR: "fail",
        Status.XPASS: "fail",
        Status.NA: "na",
        Status.XFAIL: "xfail",
    }[status]


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 100em;
       padding: 0 1em; color: #222; }
.meta { color: #555; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.4em; white-space: nowrap; }
td { text-align: center; }
td small { font-size: 0.8em; color: #444; }
ol.legend { font-size: 0.85em; columns: 2; }
thead th { background: #f3f3f3; position: sticky; top: 0; }
tbody th { text-align: left; font-family: monospace; font-weight: normal; }
td.pass { background: #e6f4e6; }
td.fail { background: #f9d6d5; font-weight: bold; }
td.xfail { background: #fdf0d5; }
td.na, td.none { color: #888; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
pre.cmd { background: #eef; }
section.failure { border-left: 4px solid #c33; padding-left: 1em; margin: 1em 0; }
figure { display: inline-block; margin: 0.5em; }
figure img { max-width: 100%; }
figcaption { font-size: 0.8em; color: #555; }
"""

__all__ = [
    "INSTALL_HINT",
    "ReportError",
    "ReportFiles",
    "prepare_directory",
    "require_matplotlib",
    "write_report",
]
