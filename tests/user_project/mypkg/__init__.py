"""A user's package of optimizers, checked by rnnverify from the project's tox run
(tests/test_user_project.py builds the project around it)."""
