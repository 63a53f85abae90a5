"""Kept only for the training and export tests that the other branches of issue 26 move:
the helpers live in :mod:`tests.helpers.hydra_utils`. Remove once no test imports this."""

from tests.helpers.hydra_utils import compose_config, options  # noqa: F401
