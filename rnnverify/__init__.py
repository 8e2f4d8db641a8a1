"""rnnverify: check recurrent-network optimizers against the theory claimed for them.

The public API, for a user's own code and tests::

    import rnnverify

    report = rnnverify.check("mypkg.opt:my_sgd", claims=["descent.sufficient"])
    report.raise_if_failed()

    @rnnverify.parametrize_with_checks([rnnverify.Case(my_sgd, {"lr": 0.05}, claims=...)])
    def test_my_optimizer(optimizer, check):
        check(optimizer)

The names are imported on first use, so ``import rnnverify`` stays cheap and the command
line can set the BLAS thread count before numpy loads (:mod:`rnnverify.cli`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rnnverify.contract import Optimizer
    from rnnverify.problems import ProblemFamily
    from rnnverify.registry import Case, ClaimRef, refs
    from rnnverify.testing import Report, check, parametrize_with_checks
    from rnnverify.verdict import Status, Verdict

_EXPORTS = {
    "Case": "rnnverify.registry",
    "ClaimRef": "rnnverify.registry",
    "Optimizer": "rnnverify.contract",
    "ProblemFamily": "rnnverify.problems",
    "Report": "rnnverify.testing",
    "Status": "rnnverify.verdict",
    "Verdict": "rnnverify.verdict",
    "check": "rnnverify.testing",
    "parametrize_with_checks": "rnnverify.testing",
    "refs": "rnnverify.registry",
}

__all__ = [
    "Case",
    "ClaimRef",
    "Optimizer",
    "ProblemFamily",
    "Report",
    "Status",
    "Verdict",
    "check",
    "parametrize_with_checks",
    "refs",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rnnverify' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
