"""python -m seglight.predict workflow=FILE: a workflow saved by the napari editor, run on a
folder as model=classic/<name> with the same parameters would; a bad file is one line."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.classic import ClassicBinarizer, save_workflow_config
from seglight.errors import SeglightError
from seglight.io import read_image
from seglight.predict.__main__ import predict
from tests.helpers.cli_utils import REPO, run_module
from tests.helpers.hydra_utils import compose_config

TUNED = {"vesselness_cutoff": 0.05, "min_size": 4}


def _saved_workflow(path, params=TUNED, steps=None):
    """What the editor's Save writes."""
    return save_workflow_config(path, "sec61b", params, steps)


def _cfg(tmp_path, *overrides):
    return compose_config("predict", ["progress=false", "trainer.accelerator=cpu", *overrides],
                          tmp_path / "run")


@pytest.mark.slow
def test_a_saved_workflow_runs_from_the_cli_as_model_classic_with_its_params(raw_folder,
                                                                            tmp_path):
    tuned = _saved_workflow(tmp_path / "my workflows" / "tuned sec61b.yaml")  # spaces: quoted
    result = run_module("seglight.predict", f"workflow={tuned}", f"input={raw_folder}",
                        "input_glob=cell_*", f"output={tmp_path / 'a'}", "labels=true",
                        "progress=false", f"hydra.run.dir={tmp_path / 'run_a'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == "2 written, 0 skipped, 0 failed"
    params = [f"model.params.{k}={v}" for k, v in TUNED.items()]
    predict(_cfg(tmp_path, "model=classic/sec61b", *params, f"input={raw_folder}",
                 "input_glob=cell_*", f"output={tmp_path / 'b'}", "labels=true"))
    import seglight

    for i in range(2):
        for name in ("struct_segmentation", "struct_labels"):
            a = read_image(tmp_path / "a" / f"cell_{i}_{name}.tiff")
            b = read_image(tmp_path / "b" / f"cell_{i}_{name}.tiff").data
            np.testing.assert_array_equal(a.data, b)
        assert a.data.max() > 0  # objects were found
        table = (tmp_path / "a" / f"cell_{i}_objects.csv").read_text()
        assert table == (tmp_path / "b" / f"cell_{i}_objects.csv").read_text()
        # and the saved parameters were applied: the defaults give another mask
        raw = read_image(raw_folder / f"cell_{i}.ome.tif").data
        mask = read_image(tmp_path / "a" / f"cell_{i}_struct_segmentation.tiff").data
        assert (seglight.binarize(raw, "classic/sec61b") != mask).any()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("_target_: [unclosed\n", "not valid YAML"),
        ("- a list\n", "expected a mapping"),
        ("_target_: seglight.training.module.SegmentationModule\nworkflow: sec61b\n", "_target_="),
        ("_target_: seglight.classic.ClassicBinarizer\nworkflow: sec61b\nparms: {}\n",
         "parms: unknown key"),
        ("_target_: seglight.classic.ClassicBinarizer\nworkflow: nope\nparams: {}\n", "nope"),
        ("_target_: seglight.classic.ClassicBinarizer\nworkflow: sec61b\n"
         "params: {vesselness_cutof: 0.1}\n", "vesselness_cutof"),
        ("_target_: seglight.classic.ClassicBinarizer\nworkflow: sec61b\n"
         "steps: {smoothed: {block: no_such_block}}\n", "no_such_block"),
    ],
)
def test_a_bad_workflow_file_is_one_line_naming_it(content, message, raw_folder, tmp_path):
    path = tmp_path / "tuned.yaml"
    if content is not None:
        path.write_text(content)
    cfg = _cfg(tmp_path, f"workflow={path}", f"input={raw_folder}", "output=/tmp/x")
    with pytest.raises(SeglightError) as error:
        predict(cfg)
    text = str(error.value)
    assert len(text.splitlines()) == 1 and f"workflow={path}" in text and message in text


@pytest.mark.slow
def test_a_custom_workflow_with_a_step_swapped_and_one_off_runs_as_saved(raw_folder, tmp_path):
    steps = {"smoothed": {"block": "gaussian_3d", "params": {"sigma": 1.5}},
             "size_filtered_2d": {"enabled": False}}
    tuned = _saved_workflow(tmp_path / "custom.yaml", steps=steps)
    predict(_cfg(tmp_path, f"workflow={tuned}", f"input={raw_folder}", "input_glob=cell_*",
                 f"output={tmp_path / 'seg'}"))
    custom, plain = ClassicBinarizer("sec61b", TUNED, steps), ClassicBinarizer("sec61b", TUNED)
    differs = False
    for i in range(2):
        raw = read_image(raw_folder / f"cell_{i}.ome.tif").data
        mask = read_image(tmp_path / "seg" / f"cell_{i}_struct_segmentation.tiff").data
        np.testing.assert_array_equal(mask > 0, custom.predict_proba(raw) > 0.5)
        differs |= bool(((mask > 0) != (plain.predict_proba(raw) > 0.5)).any())
    assert differs  # the overrides were applied


def test_workflow_and_model_together_are_refused(raw_folder, tmp_path):
    tuned = _saved_workflow(tmp_path / "tuned.yaml")
    cfg = _cfg(tmp_path, f"workflow={tuned}", "model=classic/sec61b", f"input={raw_folder}",
               "output=/tmp/x")
    with pytest.raises(SeglightError, match="a run uses one binarizer"):
        predict(cfg)


@pytest.mark.slow
def test_the_cli_exits_2_with_one_line_for_a_bad_workflow_and_help_names_the_keys(
        raw_folder, tmp_path):
    tuned = _saved_workflow(tmp_path / "tuned.yaml")
    result = run_module("seglight.predict", f"workflow={tuned}", "model=classic/sec61b",
                        f"input={raw_folder}", f"output={tmp_path / 'seg'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: workflow={tuned} and model=/ckpt_path=/model_package= are set; a run uses "
        "one binarizer: drop all but one"]
    assert not (tmp_path / "seg").exists()
    helped = run_module("seglight.predict", "--help", cwd=tmp_path)
    assert "workflow=YAML" in helped.stdout and "labels=true" in helped.stdout
    for key in ("workflow:", "labels:", "labels_name:", "objects_name:"):
        assert key in helped.stdout


def test_the_saved_workflow_shown_in_the_docs_loads(tmp_path):
    from seglight.predict.build import load_workflow

    text = (REPO / "docs" / "predict.md").read_text()
    section = text[text.index("## Saved workflows"):]
    example = section[section.index("```yaml") + len("```yaml"):]
    path = tmp_path / "tuned.yaml"
    path.write_text(example[:example.index("```")])
    binarizer = load_workflow(path)
    assert binarizer.workflow == "sec61b" and binarizer.params["vesselness_cutoff"] == 0.05
    assert set(binarizer.steps) == {"smoothed", "size_filtered_2d"}


def test_predict_files_refuses_params_beside_a_saved_workflow(raw_folder, tmp_path):
    import seglight

    tuned = _saved_workflow(tmp_path / "tuned.yaml")
    with pytest.raises(SeglightError, match="holds its own parameters"):
        seglight.predict_files(raw_folder, tmp_path / "seg", workflow=tuned,
                               params={"min_size": 3}, progress=False)
    assert not (tmp_path / "seg").exists()
