"""Invariants that hold at every step, and the Hypothesis strategies that feed them.

Importing this package registers its claims with :mod:`rnnverify.claims`.
"""

import importlib as _importlib
import pkgutil as _pkgutil

# every module registers its claims on import; new claim modules need no edit here
for _info in _pkgutil.iter_modules(__path__):
    _importlib.import_module(f"{__name__}.{_info.name}")
