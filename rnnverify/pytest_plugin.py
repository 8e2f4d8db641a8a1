"""The pytest plugin: check optimizers named on the command line as collected test items.

::

    pytest --rnnverify-optimizer=mypkg.opt:my_sgd [--rnnverify-optimizer=...]
           [--rnnverify-claims=descent.sufficient,grad.taylor_slope]
    RNNVERIFY_OPTIMIZER="mypkg.opt:my_sgd mypkg.opt:my_adam" pytest

Each optimizer (``pkg.mod:attr``: a :class:`~rnnverify.registry.Case`, an optimizer, or
a factory called with no arguments; or a built-in case id) contributes one test item per
claim, with the node id ``rnnverify::<optimizer>-<claim>``; the claims are those it
declares, or, if it declares none, the contract's (:mod:`rnnverify.testing`).
``--rnnverify-claims`` narrows a declaring optimizer to the listed claims and names the
claims to check on one that declares none. A failing item's report is the verdict in
full: the minimal problem, every quantity, and the command that reproduces it. The
Hypothesis profile is ``RNNVERIFY_PROFILE``'s (or ``ci`` under CI), the example database
``RNNVERIFY_DATABASE``'s (:mod:`rnnverify.profiles`).

With neither option nor ``RNNVERIFY_OPTIMIZER`` the plugin adds nothing. A bad value is
a one-line usage error naming it and what was expected.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from rnnverify.registry import ClaimRef
from rnnverify.testing import ClaimCheck, ClaimFailed, Plan, checks

ENV_VAR = "RNNVERIFY_OPTIMIZER"
_CHECKS = pytest.StashKey[list[tuple[str, Plan, ClaimCheck]]]()
_OPTION = re.compile(r"^[a-z_][a-z0-9_]*=")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rnnverify", "check optimizers against their claims (rnnverify)")
    group.addoption(
        "--rnnverify-optimizer",
        action="append",
        default=[],
        metavar="PKG.MOD:FACTORY",
        help=f"check this optimizer (repeatable; default: ${ENV_VAR}, comma- or space-separated)",
    )
    group.addoption(
        "--rnnverify-claims",
        metavar="ID[,ID...]",
        help="check only these claims (e.g. descent.sufficient,orthogonal.preserved:W_hh)",
    )


def split_claims(text: str) -> list[str]:
    """``"a.b,c.d:W,drift=x"`` → ``["a.b", "c.d:W,drift=x"]``: a comma separates claims,
    except before an option (``key=value``, no dot before the ``=``)."""
    out: list[str] = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        if out and _OPTION.match(item):
            out[-1] += "," + item
        else:
            out.append(item)
    return out


def pytest_configure(config: pytest.Config) -> None:
    targets: list[str] = config.getoption("rnnverify_optimizer")
    source = "--rnnverify-optimizer"
    if not targets:
        targets = os.environ.get(ENV_VAR, "").replace(",", " ").split()
        source = f"${ENV_VAR}"
    claims_text: str | None = config.getoption("rnnverify_claims")
    if not targets:
        if claims_text is not None:
            raise pytest.UsageError(
                f"--rnnverify-claims={claims_text!r}: expected --rnnverify-optimizer "
                f"PKG.MOD:FACTORY (or ${ENV_VAR}) to check them on"
            )
        return
    claims: list[ClaimRef] | None = None
    if claims_text is not None:
        try:
            claims = [ClaimRef.parse(c) for c in split_claims(claims_text)]
        except ValueError as exc:
            raise pytest.UsageError(f"--rnnverify-claims={claims_text!r}: {exc}") from None
        if not claims:
            raise pytest.UsageError(
                f"--rnnverify-claims={claims_text!r}: expected claim ids, e.g. descent.sufficient"
            )
    found: list[tuple[str, Plan, ClaimCheck]] = []
    for target in targets:
        try:
            found += checks([target], claims)
        except ValueError as exc:
            raise pytest.UsageError(f"{source}: {exc}") from None
    config.stash[_CHECKS] = found


class RnnverifySuite(pytest.Collector):
    """The collector of the plugin's items (node id ``rnnverify``)."""

    def collect(self) -> Iterator[RnnverifyItem]:
        for test_id, plan, check in self.config.stash.get(_CHECKS, []):
            yield RnnverifyItem.from_parent(self, name=test_id, plan=plan, check=check)


class RnnverifyItem(pytest.Item):
    """One claim checked on one optimizer."""

    def __init__(self, *, plan: Plan, check: ClaimCheck, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.check = check

    def runtest(self) -> None:
        self.check(self.plan)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> Any:
        if excinfo.errisinstance(ClaimFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"rnnverify {self.name}"


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselect among the items
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if config.stash.get(_CHECKS, []):
        # collected as pytest collects (reports, counts, xdist's node id lists)
        suite = RnnverifySuite.from_parent(session, name="rnnverify", nodeid="rnnverify")
        items.extend(item for item in session.genitems(suite) if isinstance(item, pytest.Item))
