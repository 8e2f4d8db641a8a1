"""The report (``--report DIR``): files, plots, the CLI flag, its errors, the progress bar."""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from properties.gradient import state_gradients
from rnnverify import cli
from rnnverify.claims import get_claim, verify
from rnnverify.plots import (
    Line,
    PlotKind,
    axis_scale,
    charts,
    kinds_for,
    register_plot,
    row_of,
)
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.registry import ClaimRef, get_case
from rnnverify.report import INSTALL_HINT, write_report
from rnnverify.tolerance import Tolerance
from rnnverify.verdict import Status, Verdict

PNG = b"\x89PNG\r\n\x1a\n"
REPRODUCE = (
    "rnnverify check tests.mutants:sgd_ascent --claim descent.sufficient "
    "--problem 'elman-tanh(n=1,m=1,p=1,T=2,B=1,loss=last,dtype=float64,seed=0)'"
)


def sample_verdicts() -> list[Verdict]:
    """One verdict per plot kind the report knows, a failure and a known failure."""
    k = [float(i) for i in range(6)]
    return [
        Verdict(
            "orthogonal.preserved",
            "rgd(lr=0.05)",
            Status.PASS,
            target="W_hh",
            figure="3.8e-15",
            series={"gram_error": [0.0, 1e-15, 2e-15, 3e-15], "drift_bound": [5e-14, 1e-13, 2e-13]},
        ),
        Verdict(
            "orthogonal.preserved",
            "sgd(lr=0.05)",
            Status.XFAIL,
            target="W_hh",
            reason="negative control",
            reproduce="rnnverify check 'sgd(lr=0.05)' --claim orthogonal.preserved:W_hh",
            series={"gram_error": [0.0, 4.3e-4], "drift_bound": [5e-14]},
        ),
        Verdict(
            "descent.sufficient",
            "tests.mutants:sgd_ascent",
            Status.FAIL,
            summary="step 0 is not a descent direction: ⟨∇f, s⟩ = 0.1 ≥ 0",
            problem="elman-tanh(n=1,m=1,p=1,T=2,B=1,loss=last,dtype=float64,seed=0)",
            inequality="f(x + s) ≤ f(x) + c·⟨∇f, s⟩",
            measured=0.1,
            bound=0.0,
            violation=0.1,
            tolerance=Tolerance(1e-16, "2δ_f", {"delta_f": 5e-17}),
            quantities={"k": 0.0},
            inputs="W_hh = np.array([[0.5]], dtype=float64)",
            reproduce=REPRODUCE,
            examples=1,
            series={"loss": [0.5, 0.6], "armijo_ratio": []},
        ),
        Verdict(
            "en.spectral_radius",
            "enrnn(lr=0.05)",
            Status.PASS,
            target="W_hh",
            series={
                "spectral_radius": [1.0, 1.0],
                "eig_re": [1.0, -0.2, -0.2],
                "eig_im": [0.0, 0.3, -0.3],
            },
        ),
        Verdict(
            "rate.linear",
            "readout_newton(alpha=0.5)",
            Status.PASS,
            series={
                "loss gap": [0.25**i for i in range(6)],
                "fit_k": k[:4],
                "fitted gap": [0.25**i for i in range(4)],
            },
        ),
        Verdict(
            "grad.taylor_slope",
            "sgd(lr=0.05)",
            Status.PASS,
            series={"t": [1e-3, 1e-2, 1e-1], "remainder": [1e-8, 1e-6, 1e-4], "floor": [1e-15] * 3},
        ),
        Verdict(
            "grad.finite_difference",
            "sgd(lr=0.05)",
            Status.PASS,
            series={"time_step": k[:3], "grad_h_norm": [0.01, 0.1, 1.0]},
        ),
        Verdict(
            "admm.descent",
            "admm(rho=1)",
            Status.PASS,
            series={
                "r1": [1.0, 0.1, 0.01],
                "r2": [2.0, 0.2, 0.02],
                "r3": [3.0, 0.3, 0.0],
                "Psi": [10.0, 1.0, 0.1],
                "L": [5.0, -1.0, -2.0],
                "step size": [1.0, 0.5, 0.25],
            },
        ),
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    directory = tmp_path_factory.mktemp("report")
    verdicts = sample_verdicts()
    return verdicts, write_report(verdicts, directory, title="sample", profile="dev", seed=0)


# ---------------------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------------------


def test_json_holds_every_verdict_and_plot(report):
    verdicts, files = report
    data = json.loads(files.json.read_text(encoding="utf-8"))
    assert data["verdicts"] == [json.loads(json.dumps(v.to_json())) for v in verdicts]
    assert data["summary"] == {"held": 6, "failed": 1, "inapplicable": 0, "known_failures": 1}
    assert [files.directory / p["file"] for p in data["plots"]] == list(files.plots)


def test_plots_are_pngs_one_chart_per_claim_row_and_kind(report):
    _, files = report
    plots = json.loads(files.json.read_text(encoding="utf-8"))["plots"]
    kinds = sorted(p["kind"] for p in plots)
    assert kinds == sorted(
        [
            "orthogonality_drift",  # rgd and sgd on one chart
            "loss",
            # no "armijo": an empty series (a failure at the first step) gets no chart
            "eigenvalues",
            "spectral_radius",
            "rate",
            "taylor",
            "state_gradient",
            "admm.residuals",
            "admm.lyapunov",
            "admm.lagrangian",
            "series.step size",  # a series no kind names: a generic plot
        ]
    )
    for path in files.plots:
        assert path.read_bytes().startswith(PNG), path
        with Image.open(path) as image:  # pillow comes with matplotlib
            image.verify()  # every chunk's CRC
            assert image.size[0] == 640 and image.size[1] >= 420  # a long legend adds height


def test_html_is_self_contained_with_one_inline_image_per_plot(report):
    _, files = report
    page = files.html.read_text(encoding="utf-8")
    sources = re.findall(r'<img src="([^"]*)"', page)
    assert len(sources) == len(files.plots)
    for src, path in zip(sources, files.plots, strict=True):
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix) :]) == path.read_bytes()
    for external in ("<script", "<link", "http://", "https://", "url("):
        assert external not in page
    assert '<table id="matrix">' in page


def test_matrix_comes_first_with_one_row_per_claim(report):
    verdicts, files = report
    md = files.markdown.read_text(encoding="utf-8")
    assert md.index("## Verdict matrix") < md.index("## Failures") < md.index("## Plots")
    header = next(line for line in md.splitlines() if line.startswith("| claim |"))
    assert header.count("|") == 1 + len({v.optimizer for v in verdicts}) + 1
    assert "| orthogonal.preserved:W_hh | pass 3.8e-15 | xfail |" in md


def test_markdown_links_every_plot(report):
    _, files = report
    md = files.markdown.read_text(encoding="utf-8")
    linked = re.findall(r"\]\((plots/[^)]+\.png)\)", md)
    assert {files.directory / p for p in linked} == set(files.plots)


def test_failure_shows_counterexample_and_reproduce_command_verbatim(report):
    verdicts, files = report
    (failure,) = [v for v in verdicts if v.status.failed]
    for path in (files.markdown, files.html):
        text = path.read_text(encoding="utf-8")
        assert REPRODUCE in text
        assert failure.problem in text
        assert failure.inputs in text
    # the known failure's command too, and nothing for verdicts that passed
    md = files.markdown.read_text(encoding="utf-8")
    assert "rnnverify check 'sgd(lr=0.05)' --claim orthogonal.preserved:W_hh" in md
    assert md.count("rnnverify check ") == 2 + 1  # two in the failure, one known failure


def test_a_second_report_replaces_the_plots_of_the_first(tmp_path):
    write_report(sample_verdicts(), tmp_path)
    files = write_report(sample_verdicts()[:1], tmp_path)
    assert sorted((tmp_path / "plots").iterdir()) == list(files.plots)


# ---------------------------------------------------------------------------------------
# The plot registry
# ---------------------------------------------------------------------------------------


def test_admm_series_are_plotted_on_a_log_scale_by_name():
    series = {"r1": [1.0], "r2": [1.0], "r3": [1.0], "Psi": [1.0], "L": [1.0]}
    kinds = {k.id: k for k in kinds_for(series)}
    assert set(kinds) == {"admm.residuals", "admm.lyapunov", "admm.lagrangian"}
    assert all(k.yscale == "log" for k in kinds.values())
    assert [line.y for line in kinds["admm.residuals"].lines] == ["r1", "r2", "r3"]


def test_axis_scale():
    assert axis_scale("log", np.array([1e-3, 1.0])) == ("log", {"nonpositive": "mask"})
    # a negative value (a Lagrangian below zero): symlog, linear below the smallest |value|
    assert axis_scale("log", np.array([5.0, -0.5, 0.0])) == ("symlog", {"linthresh": 0.5})
    assert axis_scale("log", np.array([0.0, math.nan])) == ("linear", {})
    assert axis_scale("auto", np.array([1e-9, 1.0])) == ("log", {"nonpositive": "mask"})
    assert axis_scale("auto", np.array([0.5, 1.0])) == ("linear", {})


def test_register_plot_rejects_a_series_name_already_taken():
    with pytest.raises(ValueError, match=r"'r1' is already plotted by 'admm\.residuals'"):
        register_plot(PlotKind("mine", "mine", (Line("r1"),), "k", "r"))


def test_a_chart_gathers_the_optimizers_of_one_claim_row():
    (chart,) = [c for c in charts(sample_verdicts()) if c.kind.id == "orthogonality_drift"]
    assert chart.row == "orthogonal.preserved:W_hh"
    assert [c.optimizer for c in chart.curves] == ["rgd(lr=0.05)", "sgd(lr=0.05)"]


# ---------------------------------------------------------------------------------------
# The series the built-in claims record
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "elman-tanh(n=3,m=2,p=2,T=4,B=2,loss=every,dtype=float64,seed=1)",
        "elman-relu(n=3,m=2,p=1,T=3,B=2,loss=last,dtype=float64,seed=4)",
        "complex-modrelu(n=2,m=2,p=2,T=3,B=2,loss=every,dtype=float64,seed=2)",
    ],
)
def test_state_gradients_match_central_differences_in_h0(text):
    """∂L/∂h_0 (the end of the recurrence) against central differences of L in h_0."""
    problem = make_problem(ProblemSpec.parse(text))
    x = dict(problem.params0)
    g0 = state_gradients(problem, x)[0]
    h0 = np.array(problem.data.h0)
    h = 1e-6
    for idx in np.ndindex(h0.shape):
        for unit in (1.0, 1j) if np.iscomplexobj(h0) else (1.0,):

            def f(t: float, idx=idx, unit=unit) -> float:
                moved = h0.copy()
                moved[idx] += t * unit
                data = dataclasses.replace(problem.data, h0=moved)
                return dataclasses.replace(problem, data=data).loss(x)

            fd = (f(h) - f(-h)) / (2 * h)
            an = g0[idx].imag if unit == 1j else g0[idx].real
            # central difference: truncation ≈ h²·|f'''| ≲ 1e-12, rounding ≈ ε·|f|/h ≈ 1e-10
            assert abs(fd - an) <= 1e-8 * max(1.0, abs(an)), (idx, unit, fd, an)


@pytest.mark.parametrize(
    "case_id, ref, names",
    [
        ("rgd(lr=0.05)", "orthogonal.preserved:W_hh,drift=multiplicative", ("drift_bound",)),
        ("enrnn(lr=0.05)", "en.spectral_radius:W_hh", ("eig_re", "eig_im", "spectral_radius")),
        ("sgd(lr=0.05)", "grad.finite_difference", ("time_step", "grad_h_norm")),
        ("readout_newton(alpha=0.5)", "rate.linear,factor=0.5", ("fit_k", "fitted gap")),
    ],
)
def test_builtin_claims_record_what_their_plots_need(case_id, ref, names):
    case = get_case(case_id)
    ref_ = ClaimRef.parse(ref)
    v = verify(get_claim(ref_.claim), case.subject(ref_), seed=0, max_examples=3)
    assert v.status is Status.PASS, v.render()
    assert set(names) <= set(v.series)
    s = v.series
    if "drift_bound" in names:  # bound after steps 1..K, errors from step 0
        assert len(s["drift_bound"]) == len(s["gram_error"]) - 1
        assert all(e <= b for e, b in zip(s["gram_error"][1:], s["drift_bound"], strict=True))
    if "eig_re" in names:
        rho = max(math.hypot(a, b) for a, b in zip(s["eig_re"], s["eig_im"], strict=True))
        assert rho == pytest.approx(1.0, abs=1e-12)  # W̄ is normalized (active from step 1)
    if "grad_h_norm" in names:
        assert len(s["grad_h_norm"]) == len(s["time_step"])
    if "fitted gap" in names:  # a line of slope ln q̂ through the fitted ln-gaps
        slope = np.polyfit(s["fit_k"], np.log(s["fitted gap"]), 1)[0]
        assert math.exp(slope) == pytest.approx(v.measured, rel=1e-9)


# ---------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------


def test_cli_report_end_to_end(tmp_path, capsys):
    directory = tmp_path / "out"
    code = cli.main(
        [
            "--case",
            "sgd(lr=0.05)",
            "--claim",
            "orthogonal.preserved:W_hh",
            "--claim",
            "grad.finite_difference",
            "--profile",
            "dev",
            "--report",
            str(directory),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "report written to" in err
    data = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    assert [(v["claim"], v["status"]) for v in data["verdicts"]] == [
        ("grad.finite_difference", "pass"),
        ("orthogonal.preserved", "xfail"),
    ]
    assert data["seed"] == 0 and data["profile"] == "dev"
    assert {p["kind"] for p in data["plots"]} == {"state_gradient", "orthogonality_drift"}
    md = (directory / "report.md").read_text(encoding="utf-8")
    xfail = data["verdicts"][1]
    assert xfail["reproduce"] in md
    for plot in data["plots"]:
        assert (directory / plot["file"]).read_bytes().startswith(PNG)


def test_check_report_shows_the_failure(tmp_path, capsys):
    code = cli.main(
        [
            "check",
            "tests.mutants:sgd_ascent",
            "--claim",
            "descent.sufficient",
            "--profile",
            "dev",
            "--report",
            str(tmp_path),
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 1
    (verdict,) = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["verdicts"]
    assert verdict["status"] == "FAIL" and verdict["reproduce"] in out
    for name in ("report.md", "report.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert verdict["reproduce"] in text and verdict["problem"] in text


def _no_work(*args, **kwargs):
    raise AssertionError("the run started before the --report check")


def test_missing_matplotlib_is_a_one_line_error_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # import fails
    monkeypatch.setattr(cli, "verify_case", _no_work)
    directory = tmp_path / "never"
    code = cli.main(["--case", "sgd(lr=0.05)", "--report", str(directory)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip() == f"rnnverify: error: --report needs matplotlib: {INSTALL_HINT}"
    assert not directory.exists()


@pytest.mark.parametrize(
    "where, message",
    [
        ("file", "is a file, expected a directory"),
        ("file/sub", "cannot write there"),
    ],
)
def test_bad_report_path_is_a_one_line_error_naming_it(
    tmp_path, capsys, monkeypatch, where, message
):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(cli, "verify_case", _no_work)
    path = str(tmp_path / where)
    code = cli.main(["check", "sgd(lr=0.05)", "--report", path])
    _, err = capsys.readouterr()
    assert code == 2
    assert f"--report {path!r}: {message}" in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------
# The progress bar
# ---------------------------------------------------------------------------------------


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_shows_done_total_and_the_current_claim():
    stream, clock = FakeTTY(), Clock()
    bar = cli.ProgressBar(["a [x]", "b [x]", "c [y]", "d [y]"], stream, delay=2.0, clock=clock)
    bar.done()
    assert stream.getvalue() == ""  # a short run shows nothing
    clock.now = 2.5
    bar.done()
    assert stream.getvalue() == "\r[##########----------] 2/4 c [y]"
    bar.done()
    bar.done()
    lines = stream.getvalue().split("\r")
    assert lines[-2] == "[###############-----] 3/4 d [y]"
    # a shorter line is padded over the longer one before it
    assert lines[-1] == "[####################] 4/4 done".ljust(len(lines[-2]))
    bar.close()
    width = len("[####################] 4/4 done")
    assert stream.getvalue().endswith("\r" + " " * width + "\r")


def test_progress_bar_only_on_a_tty():
    clock = Clock()
    for stream, enabled in ((io.StringIO(), True), (FakeTTY(), False)):
        bar = cli.ProgressBar(["a"], stream, enabled=enabled, delay=0.0, clock=clock)
        bar.done()
        bar.close()
        assert stream.getvalue() == ""


@pytest.mark.parametrize("json_flag", [False, True])
def test_cli_progress_bar_on_stderr_never_with_json(capsys, monkeypatch, json_flag):
    monkeypatch.setattr(cli, "ProgressBar", functools.partial(cli.ProgressBar, delay=0.0))
    stderr = FakeTTY()
    monkeypatch.setattr("sys.stderr", stderr)
    args = ["--case", "sgd(lr=0.05)", "--claim", "contract.pure", "--claim", "grad.taylor_slope"]
    code = cli.main([*args, "--profile", "dev", *(["--json"] if json_flag else [])])
    out = capsys.readouterr().out
    assert code == 0
    if json_flag:
        assert stderr.getvalue() == ""
        assert [v["claim"] for v in json.loads(out)] == ["contract.pure", "grad.taylor_slope"]
    else:
        assert "1/2 grad.taylor_slope [sgd(lr=0.05)]" in stderr.getvalue()
        assert "2/2 done" in stderr.getvalue()
        assert "\r" not in out


# ---------------------------------------------------------------------------------------
# The page in a browser
# ---------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter((i) => i.complete && i.naturalWidth > 0).length;
  document.body.setAttribute("data-images", ok + "/" + imgs.length);
});
</script>"""


def render(page: str, tmp_path: Path) -> str:
    """The DOM of ``page`` after headless Chromium loaded it, with the image probe."""
    assert CHROMIUM is not None
    probe = tmp_path / "probe.html"  # the report itself has no script: a copy gets one
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_html_renders_in_headless_chromium(report, tmp_path):
    """The page as a browser sees it: the matrix table, every image decoded."""
    verdicts, files = report
    page = files.html.read_text(encoding="utf-8")
    dom = render(page, tmp_path)
    n = len(files.plots)
    assert f'data-images="{n}/{n}"' in dom, re.findall(r'data-images="[^"]*"', dom)
    assert '<table id="matrix">' in dom
    assert dom.count("<tr>") == 1 + len({row_of(v) for v in verdicts})
    # the probe sees a broken image: one PNG without its signature
    first = re.search(r'base64,([^"]*)"', page)
    assert first is not None
    broken = page.replace(first.group(1), "A" * 12 + first.group(1)[12:], 1)
    assert f'data-images="{n - 1}/{n}"' in render(broken, tmp_path)


def test_many_optimizers_get_numbered_columns_and_a_legend(tmp_path):
    verdicts = [Verdict("contract.pure", f"opt{i}(lr=0.{i})", Status.PASS) for i in range(1, 9)]
    files = write_report(verdicts, tmp_path)
    md = files.markdown.read_text(encoding="utf-8")
    assert "| claim | [1] | [2] | [3] | [4] | [5] | [6] | [7] | [8] |" in md
    assert "- [8] opt8(lr=0.8)" in md
    page = files.html.read_text(encoding="utf-8")
    assert '<th title="opt8(lr=0.8)">[8]</th>' in page and "<li>opt8(lr=0.8)</li>" in page


@pytest.mark.parametrize(
    "argv",
    [
        ["--report", "out", "--profile", "ci", "check", "sgd(lr=0.05)"],
        ["check", "sgd(lr=0.05)", "--report", "out", "--profile", "ci"],
    ],
)
def test_report_option_before_or_after_the_subcommand(argv):
    args = cli.build_parser().parse_args(argv)
    assert (args.report, args.profile, args.claim, args.json) == ("out", "ci", [], False)
