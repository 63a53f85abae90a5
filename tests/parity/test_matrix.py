"""Parity of every classic workflow with the reference over a matrix of image properties.

:mod:`tests.parity.test_workflows` checks each workflow on its own kind of structure; here
every workflow also runs on images that vary what real data varies (dtype, dynamic range,
dim and saturated, z extent 3 to 80, anisotropy, empty regions and borders, large bright
nuclei, a dim mitochondria stack; :mod:`tests.parity.matrix`) and on real 3D fluorescence:
the ovule cell-wall stack in ``../shared/data/`` and the nuclei stack that the ``stardist``
package ships (skipped when either is absent).

Where the reference returns a mask, seglight must give it (Dice >= 0.99), with at most one
warning line when the image is outside the workflow's tuned intensity range. Where the
reference raises, seglight must refuse the image with one clear line. Skipped when the
reference is not installed (``scripts/install_oracles.sh``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest

from seglight.classic import list_reference_workflows, run_workflow
from seglight.data.structures import MATRIX_SHAPE, dim_mitochondria, hipsc_nuclei
from seglight.errors import SeglightError
from tests.helpers.oracle import reference_workflow
from tests.parity.matrix import CASES, case_image
from tests.parity.test_workflows import MIN_DICE, dice

#: Where the reference never returns: its LMNB1 interphase watershed re-queues copies from
#: watershed lines, and where the lines form a sheet (next to the background seed plane
#: at z = 0 when the middle frame is 0, or when that plane is brighter than the cells) the
#: copies multiply without bound. seglight caps the replay there and must still return.
REFERENCE_NEVER_RETURNS = {
    ("z3", "lmnb1_interphase"),
    ("border", "lmnb1_interphase"),
    ("ovule", "lmnb1_interphase"),
}


def _reference(name: str, image: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """The reference's mask, or the message of the exception it raised (fed float32, as its
    command line does; its progress prints and library warnings silenced)."""
    workflow = reference_workflow(name)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return np.asarray(workflow(image.astype(np.float32), output_type="array")) > 0, None
    except Exception as err:  # noqa: BLE001 - any failure of the reference is the outcome
        return None, f"{type(err).__name__}: {err}"


def _check_parity(
    name: str, image: np.ndarray, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    if (case, name) in REFERENCE_NEVER_RETURNS:
        mask = run_workflow(name, image)  # no reference to compare with, but an answer
        assert mask.shape == image.shape and mask.dtype == np.uint8
        return
    expected, reference_error = _reference(name, image)
    original = image.copy()
    if reference_error is not None:
        with pytest.raises(SeglightError) as err:
            run_workflow(name, image)
        assert "\n" not in str(err.value) and repr(name) in str(err.value), reference_error
        return
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="seglight.classic"):
        mask = run_workflow(name, image)
    np.testing.assert_array_equal(image, original, err_msg=f"{name} modified its input")
    lines = [r.getMessage() for r in caplog.records if r.name == "seglight.classic"]
    assert len(lines) <= 1 and all("\n" not in line for line in lines), lines
    score = dice(mask, expected)
    assert score >= MIN_DICE, (
        f"{name}: Dice {score:.4f} < {MIN_DICE} (seglight {np.count_nonzero(mask)} voxels, "
        f"reference {np.count_nonzero(expected)})"
    )


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", list_reference_workflows())
def test_matrix_case_matches_reference(name: str, case: str, caplog) -> None:
    _check_parity(name, case_image(name, case), caplog, case)


def _stardist_nuclei() -> np.ndarray:
    """The 3D nuclei stack (31x61x57, uint16) shipped inside the ``stardist`` wheel; read
    from disk without importing the package (which needs TensorFlow's stack)."""
    spec = importlib.util.find_spec("stardist")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("stardist (test data only) is not installed; scripts/install_oracles.sh")
    path = Path(spec.submodule_search_locations[0]) / "data" / "images" / "img3d.tif"
    if not path.exists():
        pytest.skip(f"{path} is absent from this stardist version")
    import tifffile

    return tifffile.imread(path)


@pytest.mark.slow
@pytest.mark.parametrize("name", list_reference_workflows())
def test_ovule_matches_reference(name: str, ovule, caplog) -> None:
    """The team's real confocal cell-wall stack (``../shared/data``; skipped without it)."""
    _check_parity(name, ovule[0], caplog, "ovule")


@pytest.mark.slow
@pytest.mark.parametrize("name", list_reference_workflows())
def test_stardist_nuclei_match_reference(name: str, caplog) -> None:
    _check_parity(name, _stardist_nuclei(), caplog, "stardist_nuclei")


# ------------------------------------------------------------ the matrix images themselves


def test_matrix_images_have_the_properties_they_name() -> None:
    """Each case really varies what it says, or a passing matrix would prove little."""
    shape = MATRIX_SHAPE
    assert case_image("tomm20", "uint8").dtype == np.uint8
    full = case_image("tomm20", "uint16_full")
    assert full.dtype == np.uint16 and full.min() == 0 and full.max() == 65535
    unit = case_image("tomm20", "float32_unit")
    assert unit.dtype == np.float32 and unit.min() == 0 and unit.max() == 1
    assert len(np.unique(case_image("tomm20", "few_levels"))) <= 41
    saturated = case_image("tomm20", "saturated")
    assert 0.01 < np.mean(saturated == 65535) < 0.05
    half = case_image("tomm20", "empty_half")
    assert np.ptp(half[:, :, shape[2] // 2 :]) == 0 and np.ptp(half[:, :, : shape[2] // 2]) > 0
    assert case_image("tomm20", "z3").shape[0] == 3
    assert case_image("tomm20", "z80").shape[0] == 80
    assert case_image("tomm20", "anisotropic").shape == shape
    nuclei = hipsc_nuclei(shape)
    assert nuclei.dtype == np.uint16 and np.mean(nuclei > 4000) > 0.5  # far above N[4000]
    assert np.mean((nuclei > 300) & (nuclei < 2000)) == 0  # misses N4's band entirely
    mito = dim_mitochondria(shape)
    assert mito.dtype == np.uint16 and 50 <= mito.min() and mito.max() <= 260
