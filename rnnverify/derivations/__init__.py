"""Symbolic derivations: independent oracles for the hand-written numerics.

This subpackage is the **only** place in the project that imports sympy. Each module
derives one rule symbolically (e.g. :mod:`rnnverify.derivations.bptt` differentiates the
unrolled loss of a tiny RNN with ``sympy.diff``) and exports the result as lambdified numpy
functions, so that the numbers the checks compare against come from a derivation that
shares no code with the implementation under test.

Numeric code (``rnnverify``, ``properties``, ``convergence``) imports these modules
lazily, inside the function that needs the oracle::

    def evaluate(...):
        from rnnverify.derivations.bptt import sympy_value_and_grad

so that importing the harness never imports sympy. This ``__init__`` therefore imports
nothing.
"""
