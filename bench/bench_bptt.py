"""Benchmark: the numpy BPTT oracle against PyTorch CPU autograd on the same model.

Target (from the project's issue): the numpy oracle ``RNNProblem.value_and_grad`` is at
least 5× faster than torch CPU autograd for hidden ≤ 16, T ≤ 20.

What is timed, per configuration (cell, activation, n, T; batch B = 4, inputs m = 4,
outputs p = 2, loss ``last``, float64):

* **numpy** — one ``problem.value_and_grad(problem.params0)`` call: the oracle's forward
  pass and hand-written BPTT, parameters in and a dict of gradients out.
* **torch** — the same model and loss written in PyTorch: the problem's parameters
  copied in once as float64 (complex128) leaf tensors with ``requires_grad``, the forward
  pass a Python loop over ``t`` as in the oracle, then ``loss.backward()``; the grads are
  reset (``p.grad = None``) at each call. Not timed: copying numpy parameters in and the
  gradients out (the tensors are built once), which only flatters torch.

Before timing, each configuration asserts that torch's loss and gradients equal the
oracle's (max-abs relative error ≤ ``GRAD_RTOL``), so both sides compute the same thing.

Both sides run single-threaded (BLAS/OpenMP variables set to 1 before numpy is imported,
``torch.set_num_threads(1)``). Repeats are interleaved and the medians are quoted; no
time is ever asserted. Output: a table on stdout and ``bench/results/bptt.json``.

Run::

    python bench/bench_bptt.py           # full run (~1 minute) -> bench/results/bptt.json
    python bench/bench_bptt.py --quick   # smoke test (a few seconds) -> bptt-quick.json

Exit status: 0 on success, 1 if torch's gradient disagrees with the oracle (a bug in
one of them: the numbers would be meaningless), 2 if torch is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # imports no numpy: threads must be pinned before numpy loads

THREAD_ENV = _common.pin_threads()

import argparse  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

import rnnverify.activations  # noqa: E402
import rnnverify.problems  # noqa: E402
from rnnverify.problems import PARAM_NAMES, ProblemSpec, RNNProblem, make_problem  # noqa: E402

TARGET_RATIO = 5.0
"""The issue's claim: torch time / numpy time ≥ 5 for hidden ≤ 16, T ≤ 20."""

TARGET_HIDDEN, TARGET_STEPS = 16, 20

GRAD_RTOL = 1e-10
"""Max-abs relative disagreement allowed between torch's and the oracle's gradients.

The two compute the same float64 sums in different orders, so they differ by rounding,
about T·n·ε ≈ 20·16·2.2e-16 ≈ 7e-14 here; 1e-10 leaves three orders of magnitude for
cancellation. Any modelling difference (a missed term, a transpose, a conjugate, a
factor 2) is O(1) relative, so the check cannot pass by accident.
"""

RESULTS = _common.RESULTS_DIR / "bptt.json"
RESULTS_QUICK = _common.RESULTS_DIR / "bptt-quick.json"  # a smoke test never overwrites a run
TORCH_MISSING = (
    "bench_bptt: torch is not installed; install it with `pip install torch==2.13.0` "
    "(or run `tox -e bench`)"
)


# -- the configurations ------------------------------------------------------------------


def configurations() -> list[ProblemSpec]:
    """tanh on the grid n ∈ {4, 8, 16} × T ∈ {5, 10, 20}; relu and the complex modReLU
    cell at n = 8, T = 10. B = 4, m = 4, p = 2, loss ``last``, float64."""
    common: dict[str, Any] = dict(inputs=4, outputs=2, batch=4, loss="last", dtype="float64")
    specs = [
        ProblemSpec(cell="elman", activation="tanh", hidden=n, steps=T, **common)
        for n in (4, 8, 16)
        for T in (5, 10, 20)
    ]
    specs.append(ProblemSpec(cell="elman", activation="relu", hidden=8, steps=10, **common))
    specs.append(ProblemSpec(cell="complex", activation="modrelu", hidden=8, steps=10, **common))
    return specs


# -- the PyTorch mirror of the oracle ----------------------------------------------------


def _torch_activation(cell: str, name: str) -> Callable[[Any, Any], Any]:
    """``h = σ(z; b)`` in torch, the formulas of rnnverify/activations.py."""
    import torch

    if name == "tanh":
        return lambda z, b: torch.tanh(z + b)
    if name == "relu":
        return lambda z, b: torch.relu(z + b)
    if name == "identity":
        return lambda z, b: z + b
    if name == "modrelu" and cell == "complex":
        # h = (|z| + b)·z/|z| where |z| + b > 0, else 0 (b real).
        def complex_modrelu(z: Any, b: Any) -> Any:
            r = z.abs()
            active = r + b > 0
            safe_r = torch.where(active, r, torch.ones_like(r))
            return torch.where(active, ((r + b) / safe_r) * z, torch.zeros_like(z))

        return complex_modrelu
    if name == "modrelu":
        # h = sign(z)·max(|z| + b, 0)
        return lambda z, b: torch.sign(z) * torch.clamp(z.abs() + b, min=0)
    raise ValueError(f"activation {cell}-{name}: no torch mirror; expected one of "
                     f"{rnnverify.problems.CELLS}")


@dataclass(frozen=True)
class TorchOracle:
    """The problem's model and loss in PyTorch; ``value_and_grad()`` leaves the gradient
    in ``params[k].grad``."""

    params: dict[str, Any]
    value_and_grad: Callable[[], Any]


def torch_oracle(problem: RNNProblem) -> TorchOracle:
    """Mirror ``problem`` in PyTorch: same parameters (copied), data, model and loss.

    The forward pass loops over ``t`` in Python as the oracle does; ``ŷ_t`` is computed
    only at the steps the loss uses (the oracle computes it at every step), which is the
    natural autograd formulation and, if anything, favours torch.
    """
    import torch

    spec, data = problem.spec, problem.data

    def tensor(a: NDArray[Any], dtype: Any = None) -> Any:
        return torch.tensor(np.array(a, dtype=dtype))  # a copy: the oracle's arrays are frozen

    params = {k: tensor(v).requires_grad_(True) for k, v in problem.params0.items()}
    # x in the hidden dtype: torch's matmul does not promote float64 to complex128.
    x = tensor(data.x, spec.hidden_dtype)
    y = tensor(data.y)
    h0 = tensor(data.h0)
    act = _torch_activation(spec.cell, spec.activation)
    T = spec.steps
    every = spec.loss == "every"
    w = 1.0 / (spec.batch * (T if every else 1))  # RNNProblem._residual_weight

    if spec.is_complex:
        def features(h: Any) -> Any:
            return torch.cat([h.real, h.imag], dim=0)
    else:
        def features(h: Any) -> Any:
            return h

    def value_and_grad() -> Any:
        for p in params.values():
            p.grad = None
        W, U, b, V, c = (params[k] for k in PARAM_NAMES)
        bb, cc = b[:, None], c[:, None]
        h = h0
        loss = None
        for t in range(T):
            z = W @ h + U @ x[t]
            h = act(z, bb)
            if every or t == T - 1:
                r = V @ features(h) + cc - (y[t] if every else y)
                term = (0.5 * w) * (r * r).sum()
                loss = term if loss is None else loss + term
        assert loss is not None  # T >= 1
        loss.backward()
        return loss

    return TorchOracle(params, value_and_grad)


# -- same computation? -------------------------------------------------------------------


def check_same_gradient(problem: RNNProblem, oracle: TorchOracle) -> dict[str, Any]:
    """Assert that torch's loss and gradients equal the numpy oracle's (``GRAD_RTOL``).

    Complex convention: torch's complex autograd leaves in ``.grad`` the conjugate
    Wirtinger derivative scaled so that, for a real loss, ``.grad = 2·∂L/∂z̄ =
    ∂L/∂Re z + i·∂L/∂Im z`` — exactly the oracle's ``G`` (problems.py docstring,
    theory/orthogonal.md §0.4), not ``conj(G)`` and not ``∂L/∂z̄ = G/2``. Verified here
    at every run: the complex parameters are compared with each candidate convention and
    the one that matches is recorded; anything but ``G`` fails the check.

    Returns the measured errors (recorded in the JSON).
    """
    loss_t = float(oracle.value_and_grad().detach())
    loss_np, g_np = problem.value_and_grad(problem.params0)
    loss_err = abs(loss_t - loss_np) / max(abs(loss_np), np.finfo(float).tiny)
    errors: dict[str, float] = {}
    convention: dict[str, str] = {}
    failures: list[str] = []
    for k in PARAM_NAMES:
        g_ref = g_np[k]
        g_t = oracle.params[k].grad.detach().numpy()
        scale = max(float(np.max(np.abs(g_ref))), np.finfo(float).tiny)

        def rel(a: NDArray[Any], g_t: NDArray[Any] = g_t, scale: float = scale) -> float:
            return float(np.max(np.abs(g_t - a))) / scale

        if g_t.shape != g_ref.shape or g_t.dtype != g_ref.dtype:
            failures.append(f"{k}: torch shape/dtype {g_t.shape}/{g_t.dtype}, "
                            f"oracle {g_ref.shape}/{g_ref.dtype}")
            continue
        errors[k] = rel(g_ref)
        if np.iscomplexobj(g_ref):
            candidates = {"G": g_ref, "conj(G)": np.conj(g_ref),
                          "G/2": g_ref / 2, "conj(G)/2": np.conj(g_ref) / 2}
            found = [name for name, a in candidates.items() if rel(a) <= GRAD_RTOL]
            convention[k] = found[0] if found else "none"
        if errors[k] > GRAD_RTOL:
            where = np.unravel_index(int(np.argmax(np.abs(g_t - g_ref))), g_ref.shape)
            failures.append(
                f"{k}: max|g_torch − g_oracle| / max|g_oracle| = {errors[k]!r} > {GRAD_RTOL!r}"
                f" (worst entry {tuple(int(i) for i in where)}: torch {g_t[where]!r}, "
                f"oracle {g_ref[where]!r}"
                + (f"; torch matches the oracle's {convention[k]}" if k in convention else "")
                + ")"
            )
    if loss_err > GRAD_RTOL:
        failures.append(f"loss: torch {loss_t!r}, oracle {loss_np!r}, relative error "
                        f"{loss_err!r} > {GRAD_RTOL!r}")
    if failures:
        raise AssertionError(
            f"{problem.spec}: torch and the numpy oracle disagree, so timing them would "
            "compare different computations:\n  " + "\n  ".join(failures)
        )
    return {"rtol": GRAD_RTOL, "loss_rel_err": loss_err, "grad_rel_err": errors,
            "complex_convention": convention}


# -- the run -----------------------------------------------------------------------------


def label(spec: ProblemSpec) -> str:
    return f"{spec.cell}-{spec.activation}"


def in_target(spec: ProblemSpec) -> bool:
    return spec.hidden <= TARGET_HIDDEN and spec.steps <= TARGET_STEPS


def bench_one(spec: ProblemSpec, *, repeats: int, min_time: float) -> dict[str, Any]:
    problem = make_problem(spec)
    oracle = torch_oracle(problem)
    check = check_same_gradient(problem, oracle)
    params0: Mapping[str, NDArray[Any]] = problem.params0
    timings = _common.measure(
        {"numpy": lambda: problem.value_and_grad(params0), "torch": oracle.value_and_grad},
        repeats=repeats,
        min_time=min_time,
    )
    ratio = timings["torch"].median / timings["numpy"].median
    return {
        "problem": str(spec),
        "cell": label(spec),
        "hidden": spec.hidden,
        "steps": spec.steps,
        "numpy": timings["numpy"].as_dict(),
        "torch": timings["torch"].as_dict(),
        "ratio_torch_over_numpy": ratio,
        # the same ratio from the fastest repeats: a noise check, not the quoted figure
        "ratio_best_torch_over_numpy": timings["torch"].best / timings["numpy"].best,
        "in_target_range": in_target(spec),
        "meets_target": ratio >= TARGET_RATIO if in_target(spec) else None,
        "gradient_check": check,
    }


def table(rows: list[dict[str, Any]]) -> str:
    body = [
        (r["cell"], r["hidden"], r["steps"],
         f"{r['numpy']['median_s'] * 1e6:.1f}", f"{r['torch']['median_s'] * 1e6:.1f}",
         f"{r['ratio_torch_over_numpy']:.2f}",
         "-" if r["meets_target"] is None else ("yes" if r["meets_target"] else "NO"),
         f"{max(r['numpy']['spread'], r['torch']['spread']) * 100:.0f}%")
        for r in rows
    ]
    return _common.format_table(
        ("cell", "n", "T", "numpy µs", "torch µs", "torch/numpy", f"≥{TARGET_RATIO:g}×",
         "spread"),
        body,
        align="lrrrrrrr",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats of ≥ 0.02 s instead of 7 of ≥ 0.2 s: a smoke test "
                             "of the script, not a measurement to quote")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"JSON output (default: {RESULTS}, or {RESULTS_QUICK.name} "
                             "beside it with --quick)")
    args = parser.parse_args(argv)
    output = args.output or (RESULTS_QUICK if args.quick else RESULTS)

    try:
        import torch
    except ImportError:
        print(TORCH_MISSING, file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)

    repeats, min_time = (3, 0.02) if args.quick else (7, 0.2)
    load_start = _common.load_average()
    rows = []
    for spec in configurations():
        print(f"  {spec} ...", file=sys.stderr, flush=True)
        try:
            rows.append(bench_one(spec, repeats=repeats, min_time=min_time))
        except AssertionError as e:
            print(f"bench_bptt: {e}", file=sys.stderr)
            return 1

    print(table(rows))
    judged = [r for r in rows if r["meets_target"] is not None]
    held = sum(r["meets_target"] for r in judged)
    worst = min(judged, key=lambda r: r["ratio_torch_over_numpy"])
    print(
        f"\nmedian of {repeats} interleaved repeats (each ≥ {min_time} s), 1 thread each; "
        f"batch 4, inputs 4, outputs 2, loss=last, float64.\n"
        f"target torch/numpy ≥ {TARGET_RATIO:g}× (n ≤ {TARGET_HIDDEN}, T ≤ {TARGET_STEPS}): "
        f"holds in {held}/{len(judged)} configurations; lowest ratio "
        f"{worst['ratio_torch_over_numpy']:.2f} at {worst['cell']} n={worst['hidden']} "
        f"T={worst['steps']}."
        + ("  [--quick: smoke test, do not quote]" if args.quick else "")
    )
    load_end = _common.load_average()
    note = _common.busy_note(
        max((x for x in (load_start, load_end) if x), default=None, key=lambda x: x[0]),
        (r[k]["spread"] for r in rows for k in ("numpy", "torch")),
    )
    if note:
        print(note)

    payload = {
        "benchmark": "bptt",
        "description": "one loss+gradient evaluation: numpy BPTT oracle "
                       "(RNNProblem.value_and_grad) vs the same model in torch CPU autograd",
        "target": {"ratio_torch_over_numpy_at_least": TARGET_RATIO,
                   "hidden_at_most": TARGET_HIDDEN, "steps_at_most": TARGET_STEPS},
        "settings": {"quick": args.quick, "repeats": repeats, "min_time_s": min_time,
                     "interleaved": True, "statistic": "median"},
        "environment": _common.environment(
            torch=torch.__version__,
            torch_threads=torch.get_num_threads(),
            load_average_start=load_start,
            code=_common.file_digest(Path(rnnverify.problems.__file__),
                                     Path(rnnverify.activations.__file__)),
        ),
        "summary": {"held": held, "judged": len(judged),
                    "min_ratio": worst["ratio_torch_over_numpy"],
                    "min_ratio_at": worst["problem"], "note": note},
        "results": rows,
    }
    path = _common.write_json(output, payload)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
