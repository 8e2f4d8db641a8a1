"""Optimizers as a user would write them for PyTorch and optax, checked through
:mod:`rnnverify.adapters` (tests/test_adapters_*.py, docs/adapters.md)."""
