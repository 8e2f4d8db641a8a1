"""Reference implementations of the seed algorithms, one module each."""

from rnnverify.optimizers.sgd import sgd

__all__ = ["sgd"]
