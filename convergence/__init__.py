"""Claims about whole trajectories: descent, (later) rates, ADMM and quasi-Newton.

Importing this package registers its claims with :mod:`rnnverify.claims`.
"""

from convergence import descent  # noqa: F401  (registers the claims)
