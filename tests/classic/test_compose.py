"""Composing a workflow: insert, remove, move, the blank start, and composed configs
saved, loaded and run."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.classic import ClassicBinarizer, load_workflow_config, save_workflow_config
from seglight.classic.compose import (
    BLANK,
    ComposeError,
    blank,
    default_params,
    insert_step,
    move_step,
    pipeline_config,
    remove_step,
)
from seglight.classic.registry import get_pipeline, load_params
from seglight.data.structures import dna_nuclei_and_truth
from seglight.errors import ConfigError

SHAPE = (10, 64, 64)


def chain(pipeline) -> list[tuple[str, tuple[str, ...]]]:
    return [(step.name, step.inputs) for step in pipeline.steps]


@pytest.fixture(scope="module")
def nuclei():
    return dna_nuclei_and_truth(SHAPE, seed=2)


def test_a_filter_is_spliced_into_the_chain_and_removed_from_it():
    pipeline, params = get_pipeline("h2b_interphase"), load_params("h2b_interphase")
    added, added_params = insert_step(pipeline, params, "fill_holes_2d", "spots")
    assert chain(added)[2:] == [("spots", ("smoothed",)), ("fill_holes_2d", ("spots",)),
                                ("size_filtered", ("fill_holes_2d",))]
    assert added_params["fill_holes_2d_max_size"] > 0  # the library's default
    assert added.output == "size_filtered"
    removed, removed_params = remove_step(added, added_params, "smoothed")
    assert chain(removed)[1] == ("spots", ("normalized",))
    back, back_params = remove_step(added, added_params, "fill_holes_2d")
    assert back == pipeline and back_params == params  # its parameters dropped


def test_a_step_after_the_mask_becomes_the_mask():
    pipeline, params = get_pipeline("h2b_interphase"), load_params("h2b_interphase")
    added, _ = insert_step(pipeline, params, "size_filter_2d", "size_filtered")
    assert added.output == "size_filter_2d" and added.steps[-1].inputs == ("size_filtered",)
    removed, _ = remove_step(added, _, "size_filter_2d")
    assert removed.output == "size_filtered"


def test_a_split_added_at_the_end_gives_the_labels_and_the_mask(nuclei):
    image, _ = nuclei
    pipeline, params = get_pipeline("nucleus"), load_params("nucleus")
    cut, params = insert_step(pipeline, params, "watershed_cut", "size_filtered")
    assert cut.labels == "watershed_cut" and cut.output == "size_filtered"
    assert cut.steps[-1].inputs == ("size_filtered", "smoothed")  # the newest image
    kept, params = insert_step(cut, params, "remove_small_labels", "watershed_cut")
    assert kept.output == "remove_small_labels"
    binarizer = ClassicBinarizer("nucleus", params, pipeline=kept)
    mask, labels = binarizer.predict_proba_and_labels(image)
    assert labels.max() >= 1 and np.all((labels > 0) == (mask > 0))
    back, _ = remove_step(kept, params, "remove_small_labels")
    assert back.output == "size_filtered"  # the last mask before it


def test_a_block_whose_inputs_are_missing_is_refused_with_the_valid_ones():
    pipeline, params = get_pipeline("h2b_interphase"), load_params("h2b_interphase")
    with pytest.raises(ComposeError, match=r"'size_filter' cannot go after 'smoothed'.*"
                                           r"choose one of \[.*'gaussian_3d'"):
        insert_step(pipeline, params, "size_filter", "smoothed")


def test_removing_a_step_others_need_is_refused_in_one_line():
    pipeline, params = get_pipeline("h2b_interphase"), load_params("h2b_interphase")
    with pytest.raises(ComposeError) as err:
        remove_step(pipeline, params, "spots")
    assert "'size_filtered' reads its output" in str(err.value) and "\n" not in str(err.value)


def test_two_filters_of_a_chain_swap_and_a_reader_cannot_pass_what_it_reads():
    pipeline, params = get_pipeline("h2b_interphase"), load_params("h2b_interphase")
    added, params = insert_step(pipeline, params, "fill_holes_2d", "size_filtered")
    moved, _ = move_step(added, params, "fill_holes_2d", -1)
    assert chain(moved)[3:] == [("fill_holes_2d", ("spots",)),
                                ("size_filtered", ("fill_holes_2d",))]
    assert moved.output == "size_filtered"
    with pytest.raises(ComposeError, match="cannot move 'spots' up: 'spots' reads the output "
                                           "of 'smoothed'"):
        move_step(pipeline, params, "spots", -1)
    with pytest.raises(ComposeError, match="already first"):
        move_step(pipeline, params, "normalized", -1)


def test_blank_gives_a_mask_and_grows_into_a_nucleus_workflow(nuclei):
    image, truth = nuclei
    pipeline, params = blank()
    assert [s.block for s in pipeline.steps] == ["normalize", "auto_threshold"]
    mask = ClassicBinarizer(BLANK, params, pipeline=pipeline).predict_mask(image)
    assert mask.shape == image.shape and 0 < np.mean(mask > 0) < 1
    grown, params = insert_step(pipeline, params, "fill_holes_2d", "auto_threshold")
    filled = ClassicBinarizer(BLANK, params, pipeline=grown).predict_mask(image) > 0
    assert filled.sum() > (mask > 0).sum()  # the nucleoli filled
    assert np.all(filled[mask > 0])


def test_a_composed_config_round_trips_and_runs_the_same(tmp_path, nuclei):
    image, _ = nuclei
    pipeline, params = insert_step(get_pipeline("h2b_interphase"),
                                   load_params("h2b_interphase"), "gaussian_3d", "normalized")
    params["gaussian_3d_sigma"] = 1.5
    path = save_workflow_config(tmp_path / "composed.yaml", "h2b_interphase", params,
                                {"size_filtered": {"enabled": False}}, pipeline)
    text = path.read_text()
    assert text.startswith("# Composed from h2b_interphase: normalize -> gaussian_3d")
    loaded = load_workflow_config(path)
    assert loaded.composed and loaded.pipeline == pipeline and loaded.params == params
    assert "size_filtered" in loaded.steps
    direct = ClassicBinarizer("h2b_interphase", params, {"size_filtered": {"enabled": False}},
                              pipeline=pipeline_config(pipeline))
    np.testing.assert_array_equal(loaded.predict_mask(image), direct.predict_mask(image))
    # Leaving params out: the starting workflow's values and the library's defaults.
    assert ClassicBinarizer("h2b_interphase", pipeline=pipeline).params == default_params(
        pipeline, "h2b_interphase")


@pytest.mark.parametrize("change, message", [
    ({"steps": [{"name": "a", "block": "nope", "inputs": ["image"]}]}, "unknown block 'nope'"),
    ({"steps": [{"name": "a", "block": "size_filter", "inputs": ["image"]}]},
     "does not take \\['image'\\]"),
    ({"steps": [{"name": "a", "block": "threshold", "inputs": ["b"]}]}, "not defined before"),
    ({"steps": [{"name": "a", "block": "normalize", "inputs": ["image"]}]}, "is no mask"),
    ({"stages": []}, "pipeline.stages: unknown key"),
])
def test_a_bad_pipeline_in_a_file_is_one_line(tmp_path, change, message):
    path = tmp_path / "bad.yaml"
    import yaml

    path.write_text(yaml.safe_dump({"workflow": BLANK, "pipeline": change}))
    with pytest.raises(ConfigError, match=message) as err:
        load_workflow_config(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)
