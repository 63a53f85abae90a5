"""The public classic-workflow API: parameters, bad input, the Binarizer interface, inspection."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from seglight.binarizer import Binarizer
from seglight.classic import (
    ClassicBinarizer,
    config_path,
    list_reference_workflows,
    list_workflows,
    load_params,
    run_workflow,
)
from seglight.classic.registry import get_pipeline
from seglight.classic.validation import MIN_SHAPE_ZYX, STRICT_KEY
from seglight.data.structures import STRUCTURE_OF, structure_image
from seglight.errors import ConfigError, SeglightError
from seglight.io import ImageZYX

STRUCTURES = [
    "actb", "actn1", "atp2a2", "cetn2", "ctnnb1", "dsp", "fbl", "gja1", "h2b_interphase",
    "lamp1", "lmnb1_interphase", "lmnb1_mitotic", "myh10", "npm1", "nup153", "pxn", "rab5a",
    "sec61b", "slc25a17", "smc1a", "son", "st6gal1", "tjp1", "tomm20", "tuba1b",
]
#: The reference's 25 and seglight's own (``nucleus``).
ALL = sorted([*STRUCTURES, "nucleus"])
SMALL = (12, 64, 64)


@pytest.fixture(scope="module")
def tomm20_image() -> np.ndarray:
    return structure_image("tomm20", (16, 96, 96))


def test_all_26_structures_are_registered_and_have_an_image():
    assert list_reference_workflows() == STRUCTURES
    assert list_workflows() == ALL
    assert sorted(STRUCTURE_OF) == ALL


@pytest.mark.parametrize("name", ALL)
def test_config_matches_the_workflow_steps(name):
    cfg = OmegaConf.load(config_path(name))
    assert cfg._target_ == "seglight.classic.ClassicBinarizer"
    assert cfg.workflow == name
    params = load_params(name)
    # Every parameter feeds a step (none is dead), and every step's parameter is set;
    # strict is read by the facade, not by a step.
    assert set(params) == set(get_pipeline(name).parameter_kinds()) | {STRICT_KEY}
    # load_params hands out copies: changing one must not change the next.
    params.clear()
    assert load_params(name)


@pytest.mark.parametrize("name", STRUCTURES)
def test_config_instantiates_a_binarizer(name):
    binarizer = instantiate(OmegaConf.load(config_path(name)))
    assert isinstance(binarizer, ClassicBinarizer)
    assert isinstance(binarizer, Binarizer)
    assert binarizer.threshold == 0.5
    assert binarizer.params == load_params(name)


def test_override_changes_the_result(tomm20_image):
    default = run_workflow("tomm20", tomm20_image) > 0
    stricter = run_workflow("tomm20", tomm20_image, vesselness_cutoff=0.4) > 0
    bigger = run_workflow("tomm20", tomm20_image, min_size=400) > 0
    assert 0 < stricter.sum() < default.sum()
    assert not np.any(stricter & ~default)
    assert bigger.sum() < default.sum()
    assert not np.any(bigger & ~default)


def test_hydra_override_reaches_the_workflow(tomm20_image):
    cfg = OmegaConf.load(config_path("tomm20"))
    cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(["params.vesselness_cutoff=0.4"]))
    proba = instantiate(cfg).predict_proba(tomm20_image)
    expected = run_workflow("tomm20", tomm20_image, vesselness_cutoff=0.4)
    np.testing.assert_array_equal(proba, expected / np.float32(255))


def test_binarizer_returns_float32_zero_one(tomm20_image):
    binarizer = ClassicBinarizer("tomm20", {"min_size": 20})
    proba = binarizer.predict_proba(tomm20_image)
    assert proba.dtype == np.float32 and proba.shape == tomm20_image.shape
    assert set(np.unique(proba)) == {0.0, 1.0}
    np.testing.assert_array_equal(proba > binarizer.threshold,
                                  run_workflow("tomm20", tomm20_image, min_size=20) > 0)


def test_image_with_its_voxel_size_is_accepted(tomm20_image):
    image = ImageZYX(tomm20_image, spacing_um=(0.29, 0.108, 0.108))
    expected = run_workflow("tomm20", tomm20_image)
    np.testing.assert_array_equal(run_workflow("tomm20", image), expected)


def test_unknown_parameter_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown parameter.*vesselnes_cutoff") as err:
        run_workflow("tomm20", np.zeros(SMALL), vesselnes_cutoff=0.2)
    for valid in load_params("tomm20"):
        assert valid in str(err.value)
    with pytest.raises(ConfigError, match="unknown parameter"):
        ClassicBinarizer("tomm20", {"sigma": 1})


def test_parameter_of_the_wrong_kind_is_refused():
    with pytest.raises(ConfigError, match="vesselness_cutoff"):
        ClassicBinarizer("tomm20", {"vesselness_cutoff": [0.1, 0.2]})
    with pytest.raises(ConfigError, match="intensity_norm"):
        ClassicBinarizer("tomm20", {"intensity_norm": 3.5})


def test_unknown_workflow_lists_the_valid_ones():
    with pytest.raises(SeglightError, match=r"unknown classic workflow 'tom20'.*tomm20"):
        run_workflow("tom20", np.zeros(SMALL))
    with pytest.raises(SeglightError, match="unknown classic workflow"):
        ClassicBinarizer("tom20")


def _with(value: float) -> np.ndarray:
    img = np.full(SMALL, 450.0, np.float32)
    img[5, 30, 30] = value
    return img


BAD_IMAGES = {
    "2d": (np.full((64, 64), 450, np.uint16), "2D"),
    "4d": (np.full((2, 8, 64, 64), 450, np.uint16), "single channel"),
    "empty": (np.zeros((0, 64, 64), np.uint16), "empty"),
    "too_thin": (np.full((2, 64, 64), 450, np.uint16), "at least 3 z-slices"),
    "nan": (_with(np.nan), "NaN"),
    "inf": (_with(np.inf), "NaN or infinite"),
    "mask": (np.zeros(SMALL, bool), "not a mask"),
    "text": (np.full(SMALL, "a"), "raw intensities"),
}


@pytest.mark.parametrize("name", STRUCTURES)
@pytest.mark.parametrize("case", sorted(BAD_IMAGES))
def test_bad_image_is_one_clear_line(name, case):
    image, says = BAD_IMAGES[case]
    with pytest.raises(SeglightError, match=says) as err:
        run_workflow(name, image)
    assert "\n" not in str(err.value)
    assert repr(name) in str(err.value)


@pytest.mark.parametrize("name", STRUCTURES)
def test_constant_image_gives_an_empty_mask(name):
    mask = run_workflow(name, np.full(SMALL, 450, np.uint16))
    assert mask.dtype == np.uint8 and mask.shape == SMALL and not mask.any()


@pytest.mark.parametrize("name", STRUCTURES)
@pytest.mark.parametrize("case", ["noise", "one_bright_voxel", "smallest_accepted"])
def test_image_without_structure_runs_through(name, case):
    """Any accepted image gives a mask, never an error from inside a filter. (How much of a
    structure-less image is foreground depends on the workflow, as in the reference: hole
    filling and LoG thresholds on normalized noise can cover most of a tiny image.)"""
    rng = np.random.default_rng(0)
    shape = MIN_SHAPE_ZYX if case == "smallest_accepted" else SMALL
    image = rng.poisson(450, shape).astype(np.uint16)
    if case == "one_bright_voxel":
        image = np.full(shape, 450, np.uint16)
        image[6, 32, 32] = 900
    mask = run_workflow(name, image)
    assert mask.shape == shape and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 255}


def _one_warning_line(caplog, name: str) -> str:
    records = [r for r in caplog.records if r.name == "seglight.classic"]
    assert len(records) == 1 and records[0].levelname == "WARNING"
    line = records[0].getMessage()
    assert "\n" not in line and repr(name) in line
    return line


def test_far_too_bright_for_an_upper_bound_warns_once(caplog):
    # DSP treats voxels above 8000 as saturated (N[8000]); a whole image above it is far
    # brighter than DSP data, yet the reference still returns a mask: so does seglight.
    image = structure_image("dsp", SMALL).astype(np.float32) + 9000
    with caplog.at_level("WARNING", logger="seglight.classic"):
        run_workflow("dsp", image)
    line = _one_warning_line(caplog, "dsp")
    assert "100% of the voxels are above 8000" in line
    assert "model.params.intensity_norm=[...]" in line and "strict=true" in line


def test_strict_refuses_what_otherwise_warns(caplog):
    image = structure_image("dsp", SMALL).astype(np.float32) + 9000
    with pytest.raises(SeglightError, match=r"above 8000.*intensity_norm") as err:
        run_workflow("dsp", image, strict=True)
    assert "\n" not in str(err.value)
    # The same workflow with the bound raised to fit the data runs, and says nothing.
    with caplog.at_level("WARNING", logger="seglight.classic"):
        assert run_workflow("dsp", image, intensity_norm=[20000], strict=True).any()
    assert not caplog.records


def test_strict_from_the_config(caplog):
    cfg = OmegaConf.merge(OmegaConf.load(config_path("rab5a")),
                          OmegaConf.from_dotlist(["params.strict=true"]))
    binarizer = instantiate(cfg)
    image = structure_image("rab5a", SMALL).astype(np.float32) + 2000
    with pytest.raises(SeglightError, match=r"above 1000.*strict=true"):
        binarizer.predict_proba(image)
    with pytest.raises(ConfigError, match="strict"):
        ClassicBinarizer("rab5a", {"strict": "yes"})


def _cetn2_warning(caplog, offset: float) -> str:
    """The warning line of CETN2 on its image shifted by ``offset``, with 20 voxels left in
    its N4 noise band (300..2000): too few, but enough for the reference to run."""
    image = structure_image("cetn2", SMALL).astype(np.float32) + offset
    image[0, 0, :20] = 1000
    with caplog.at_level("WARNING", logger="seglight.classic"):
        assert run_workflow("cetn2", image).shape == SMALL
    return _one_warning_line(caplog, "cetn2")


def test_sparse_background_band_warns(caplog):
    line = _cetn2_warning(caplog, 3000)
    assert "0.0% of the voxels lie in the band 300..2000" in line
    assert "above 5000" not in line  # its peak normalization N[5000] is fine


def test_two_normalizations_out_of_range_still_warn_in_one_line(caplog):
    # Shifted above 5000, CETN2's peak image N[5000] misses too: both in one line.
    line = _cetn2_warning(caplog, 6000)
    assert "band 300..2000" in line and "above 5000" in line
    assert "intensity_norm=[...] and model.params.intensity_norm_peak=[...]" in line


def test_no_voxel_in_the_background_band_is_refused():
    # With no voxel in the band there is no noise level: the reference raises, so does seglight.
    image = (structure_image("cetn2", SMALL) // 16).astype(np.uint8)
    with pytest.raises(SeglightError, match=r"no voxel lies in the intensity band 300\.\.2000"):
        run_workflow("cetn2", image)


def test_mean_std_normalization_accepts_any_intensity_range(tomm20_image):
    # N[a, b] is invariant to gain and offset, so a pre-scaled float image gives the same mask.
    original = run_workflow("tomm20", tomm20_image) > 0
    rescaled = run_workflow("tomm20", tomm20_image.astype(np.float32) / 1000.0) > 0
    overlap = 2 * np.count_nonzero(original & rescaled) / (original.sum() + rescaled.sum())
    assert original.any() and overlap > 0.99
