"""Loading the reference Segmenter (seglight.classic.reference) where it is not installed:
a clear refusal, and a stand-in for aicsimageio that says what it is if used."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from seglight.classic import reference
from seglight.errors import SeglightError


def test_a_missing_reference_is_refused_with_the_install_script():
    if importlib.util.find_spec("aicssegmentation") and importlib.util.find_spec("itk"):
        pytest.skip("the reference is installed here (tests/parity runs it)")
    with pytest.raises(reference.ReferenceMissing, match="scripts/install_oracles.sh") as err:
        reference.reference_workflow("tomm20")
    assert isinstance(err.value, SeglightError) and "\n" not in str(err.value)


def test_the_aicsimageio_stand_in_raises_when_used(monkeypatch):
    monkeypatch.setitem(sys.modules, "aicsimageio", None)  # "import aicsimageio" fails
    monkeypatch.setitem(sys.modules, "aicsimageio.writers", None)
    reference.ensure_aicsimageio()
    writers = sys.modules["aicsimageio.writers"]
    assert sys.modules["aicsimageio"].writers is writers
    with pytest.raises(RuntimeError, match="output_type='array'"):
        writers.OmeTiffWriter.save("x.tif")
