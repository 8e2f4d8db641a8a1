"""Invariants that hold at every step, and the Hypothesis strategies that feed them.

Importing this package registers its claims with :mod:`rnnverify.claims`.
"""

from properties import contract, gradient  # noqa: F401  (registers the claims)
