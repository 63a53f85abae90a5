"""The Train widget's fields and the command line they give, offscreen, without training."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("napari")
pytest.importorskip("pytestqt")

from napari.components import ViewerModel  # noqa: E402

from seglight.widgets import recent  # noqa: E402
from seglight.widgets.train import TrainWidget  # noqa: E402
from seglight.widgets.training_run import model_options, train_keys  # noqa: E402


def test_it_opens_on_the_curators_last_folder_and_shows_the_command(qtbot, tmp_path):
    curated = tmp_path / "curated lamin"
    curated.mkdir()
    recent.remember("curated", curated)  # what the Curator widget records on Start
    widget = TrainWidget(ViewerModel())
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.warm_up.loaded, timeout=300_000)  # background imports
    assert widget.data_field.value() == str(curated)
    assert [widget.model_combo.itemText(i) for i in range(widget.model_combo.count())] == \
        model_options()
    widget.model_combo.setCurrentText("unet_xy")
    widget.limit_combo.setCurrentIndex(widget.limit_combo.findData("minutes"))
    widget.amount.setValue(90)
    line = widget.command_line.text()
    assert "-m seglight.train model=unet_xy data=lamin" in line
    assert f"'data.path={curated}'" in line  # quoted for a shell: the folder has a space
    assert "trainer.max_time=00:01:30:00 trainer.max_epochs=-1" in line
    if "init_from" in train_keys():  # offered only where the trainer has it
        widget.init_field.edit.setText(str(tmp_path / "old.ckpt"))
        assert f"init_from={tmp_path / 'old.ckpt'}" in widget.command_line.text()
    widget.data_field.edit.setText("")
    assert "data=demo" in widget.command_line.text()
    assert not widget.cancel_button.isEnabled() and not widget.apply_button.isEnabled()
