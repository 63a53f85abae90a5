"""The reference Allen Cell Structure Segmenter as a test oracle: the test that needs it skips
cleanly where it is not installed (``scripts/install_oracles.sh`` installs it).

The loading itself lives in :mod:`seglight.classic.reference`, which the benchmarks use too.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from seglight.classic import reference
from seglight.classic.reference import REFERENCE_VERSION, ensure_aicsimageio

__all__ = ["REFERENCE_VERSION", "ensure_aicsimageio", "reference_module", "reference_workflow"]


def reference_module(dotted: str) -> ModuleType:
    """:func:`seglight.classic.reference.reference_module`, or skip the calling test."""
    try:
        return reference.reference_module(dotted)
    except reference.ReferenceMissing as err:
        pytest.skip(str(err))


def reference_workflow(name: str) -> Callable:
    """:func:`seglight.classic.reference.reference_workflow`, or skip the calling test."""
    try:
        return reference.reference_workflow(name)
    except reference.ReferenceMissing as err:
        pytest.skip(str(err))
