"""``contract.pure``: the optimizer honours the contract at every step.

Every case makes this claim implicitly. The runner (:func:`rnnverify.contract.run`)
enforces it on every trajectory any claim runs; this claim runs it on its own, with every
step repeated to check determinism, so the verdict matrix shows it as a column.
"""

from __future__ import annotations

from rnnverify.claims import Claim, Observation, Subject, register_claim
from rnnverify.problems import ProblemSpec, make_problem
from rnnverify.verdict import Status


def evaluate_contract(subject: Subject, spec: ProblemSpec) -> Observation:
    problem = make_problem(spec)
    traj = subject.trajectory(problem, check_determinism=subject.steps)
    if isinstance(traj, Observation):
        return traj
    diverged = (
        ""
        if traj.diverged_at is None
        else (f" (then diverged: the loss or gradient overflowed before step {traj.diverged_at})")
    )
    return Observation(
        Status.PASS,
        summary=f"{traj.steps} pure, deterministic steps{diverged}",
        measured=float(traj.steps),
    )


CONTRACT = register_claim(
    Claim(
        id="contract.pure",
        summary=(
            "init/step are pure: frozen inputs untouched, fresh outputs of the same names, "
            "shapes and dtypes, finite, deterministic, within the time limit"
        ),
        source="../DESIGN.md §The contract",
        evaluate=evaluate_contract,
        figure="{:.0f} steps",
    )
)
