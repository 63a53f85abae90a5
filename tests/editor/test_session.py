"""The editor's Qt-free session: which steps a change re-runs, scopes, cancel, sweep, save."""

from pathlib import Path

import numpy as np
import pytest

from seglight.classic import Cancelled, ClassicBinarizer, load_workflow_config
from seglight.editor.session import EditorSession
from seglight.editor.sweep import GAP, parse_values, suggest_values
from seglight.errors import ConfigError, SeglightError


def downstream(session: EditorSession, key: str) -> list[str]:
    """The steps that read parameter ``key`` and every step after them in the data flow."""
    hit: set[str] = set()
    for info in session.steps:
        if any(p.key == key for p in info.params) or hit & set(info.inputs):
            hit.add(info.name)
    return [info.name for info in session.steps if info.name in hit]


# min_size is read by two steps (before and after the 2D size filter): both re-run.
@pytest.mark.parametrize("key, value", [("vesselness_cutoff", 0.2), ("min_size", 20),
                                        ("min_size_2d", 5)])
def test_a_change_reruns_only_the_steps_downstream_of_it(er_image, key, value):
    session = EditorSession(er_image, "sec61b")
    first = session.run()
    assert first.ran() == [info.name for info in session.steps]
    session.set_param(key, value)
    second = session.run()
    assert second.ran() == downstream(session, key)
    assert 0 < len(second.ran()) < len(second.events)
    cached = [e.step for e in second.events if e.cached]
    assert cached == [s for s in (e.step for e in second.events) if s not in second.ran()]


def test_z_range_scope_and_whole_stack(er_image):
    session = EditorSession(er_image, "sec61b")
    session.set_scope(2, center_z=0)
    assert session.z_range() == (0, 5)
    near_top = session.run()
    assert near_top.z0 == 0 and near_top.mask.shape == (5, 64, 64)
    assert session.run().ran() == []  # the same slices again: all from the cache
    session.set_scope(2, center_z=6)
    assert session.run().z0 == 4
    session.set_scope(None)
    whole = session.run()
    assert whole.z0 == 0 and whole.mask.shape == er_image.shape
    np.testing.assert_array_equal(whole.mask, ClassicBinarizer("sec61b").predict_mask(er_image))


def test_a_z_range_is_normalized_as_the_whole_stack(er_image):
    """The preview's intensities are the whole run's: a cutoff tuned on a few slices means
    on the whole stack what it meant on the preview."""
    image = er_image.copy()
    image[:3] *= 4  # bright top slices: their own statistics would normalize differently
    session = EditorSession(image, "sec61b")
    session.set_scope(1, center_z=1)
    z0, z1 = session.z_range()
    preview = session.run()
    session.set_scope(None)
    whole = session.run()
    np.testing.assert_array_equal(preview.outputs["normalized"],
                                  whole.outputs["normalized"][z0:z1])
    own = ClassicBinarizer("sec61b").run_steps(image[z0:z1], targets=["normalized"])
    assert not np.allclose(own["normalized"], preview.outputs["normalized"], atol=0.05)
    assert [e.step for e in whole.events if not e.cached][0] != "normalized"  # cached


def test_a_cancelled_run_keeps_the_steps_it_finished(er_image):
    session = EditorSession(er_image, "sec61b")
    done = []
    with pytest.raises(Cancelled):
        session.run(on_step=lambda e: done.append(e.step), should_stop=lambda: len(done) >= 2)
    assert len(done) == 2
    assert session.run().ran() == [info.name for info in session.steps][2:]


def test_custom_workflow_saves_and_loads_to_the_same_mask(er_image, tmp_path):
    session = EditorSession(er_image, "sec61b")
    session.set_scope(None)
    session.swap_block("smoothed", "gaussian_3d")
    session.set_block_param("smoothed", "sigma", 1.5)
    session.set_enabled("size_filtered_2d", False)
    session.set_param("vesselness_cutoff", 0.12)
    result = session.run()
    assert [e.step for e in result.events if e.disabled] == ["size_filtered_2d"]
    path = session.save(tmp_path / "tuned.yaml")
    text = path.read_text()
    assert "block: gaussian_3d" in text and "enabled: false" in text
    loaded = load_workflow_config(path)
    np.testing.assert_array_equal(loaded.predict_mask(er_image), result.mask)


def test_switching_off_a_step_that_changes_kind_is_one_line(er_image):
    session = EditorSession(er_image, "sec61b")
    with pytest.raises(ConfigError, match="cannot be switched off"):
        session.set_enabled("filament", False)
    with pytest.raises(SeglightError, match="no parameter 'cutof'"):
        session.set_param("cutof", 0.1)
    assert session.overrides == {}


def test_sweep_tiles_are_the_runs_with_those_values(er_image):
    session = EditorSession(er_image, "sec61b")
    session.set_scope(2, center_z=5)
    mosaic = session.sweep(("vesselness_cutoff", [0.1, 0.2]), ("min_size", [5, 30, 60]))
    assert [c for _, _, c in mosaic.captions][:2] == [
        "vesselness_cutoff=0.1, min_size=5", "vesselness_cutoff=0.1, min_size=30"]
    z0, z1 = session.z_range()
    for (y, x, _), (cutoff, size) in zip(mosaic.captions, [(c, s) for c in (0.1, 0.2)
                                                           for s in (5, 30, 60)], strict=True):
        params = {**session.params, "vesselness_cutoff": cutoff, "min_size": size}
        binarizer = ClassicBinarizer("sec61b", params)
        normalized = binarizer.run_steps(er_image, targets=["normalized"])["normalized"]
        out = binarizer.run_steps(er_image[z0:z1], given={"normalized": normalized[z0:z1]})
        expected = out[binarizer.pipeline.output][5 - z0]
        np.testing.assert_array_equal(mosaic.mask[y:y + 64, x:x + 64], expected)
    assert mosaic.mask.shape == (2 * 64 + GAP, 3 * 64 + 2 * GAP)
    assert mosaic.mask[0:64, 0:64].sum() > mosaic.mask[64 + GAP:, 0:64].sum() > 0


def test_sweep_values_are_parsed_and_suggested():
    assert parse_values("0.1, 0.15,0.2", "vesselness_cutoff", "float") == [0.1, 0.15, 0.2]
    assert parse_values("5, 10", "min_size", "int") == [5, 10]
    with pytest.raises(ConfigError, match="min_size: '2.5' is not an integer"):
        parse_values("2.5", "min_size", "int")
    assert suggest_values(0.15, "float", 0, 0.5) == [0.075, 0.1125, 0.15, 0.225, 0.3]
    assert suggest_values(15, "int", 0, 200) == [7, 11, 15, 19, 23]
    assert suggest_values(1.0, "float", 0, 5, n=3) == [0.5, 1.0, 2.0]  # the value is offered
    assert 1.0 in suggest_values(1.0, "float", 0.9, 1.2, n=3)


def test_objects_of_a_run(er_image):
    session = EditorSession(er_image, "sec61b", spacing_um=(0.29, 0.108, 0.108))
    session.set_scope(None)
    result = session.run()
    labels = session.labels(result)
    assert labels.max() >= 1 and ((labels > 0) == (result.mask > 0)).all()
    table = session.objects(result, labels)
    assert list(table["label"]) == list(range(1, labels.max() + 1))
    assert table["volume_um3"].sum() == pytest.approx((labels > 0).sum() * 0.29 * 0.108**2)


def test_the_python_example_of_the_docs_runs(er_image, tmp_path, monkeypatch):
    text = (Path(__file__).resolve().parents[2] / "docs" / "editor.md").read_text()
    code = text.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    scope = {"image_zyx": er_image}
    exec(code, scope)
    assert scope["again"].ran()[:2] == ["filament", "size_filtered"]
    assert scope["table"]["volume_um3"].sum() > 0
    assert (tmp_path / "sec61b_tuned.yaml").exists()


def test_a_workflow_with_its_own_labels_numbers_as_the_cli_does():
    from seglight.data.structures import structure_image
    from seglight.predict.runner import object_labels

    image = structure_image("cetn2", (10, 64, 64), seed=2)
    session = EditorSession(image, "cetn2")
    session.set_scope(None)
    result = session.run()
    binarizer = ClassicBinarizer("cetn2")
    proba, own = binarizer.predict_proba_and_labels(image)
    np.testing.assert_array_equal(result.mask > 0, proba > 0.5)
    np.testing.assert_array_equal(session.labels(result), object_labels(proba > 0.5, own))
    assert session.labels(result).max() >= 2
