"""Predict with a bioimage.io package (seglight.bioimageio.binarizer): the package gives the
checkpoint's probability, tiles by its halo, and runs in the predict runner."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seglight.errors import ConfigError
from seglight.evaluation.scores import dice
from seglight.io import write_ome_tiff
from seglight.networks import UNetXY
from tests.bioimageio.conftest import SPACING, camera_image


@pytest.mark.slow
def test_package_predicts_the_checkpoints_mask(package, tiny_ckpt):
    import seglight
    from seglight.io import read_image
    from seglight.predict.network import NetworkBinarizer

    path, camera = package
    image = read_image(camera).data
    checkpoint = NetworkBinarizer.from_checkpoint(tiny_ckpt, precision="32")
    expected = checkpoint.predict_proba(image)
    from seglight.bioimageio.binarizer import PackageBinarizer

    got = PackageBinarizer(path).predict_proba(image)
    assert np.abs(got - expected).max() < 1e-3
    mask = seglight.binarize(image, model_package=path)
    assert dice(mask > 0, expected > checkpoint.threshold) >= 0.99


@pytest.mark.slow
def test_runner_with_a_package_skips_resumes_and_reports_broken_files(package, raw_folder,
                                                                      tmp_path, caplog):
    """``python -m seglight.predict model_package=...`` (its config, in this process)."""
    from seglight.predict.__main__ import predict
    from tests.helpers.hydra_utils import compose_config

    path, _ = package
    out = tmp_path / "seg"
    args = ["progress=false", "trainer.accelerator=cpu", f"model_package={path}",
            f"input={raw_folder}", f"output={out}"]
    summary = predict(compose_config("predict", args, tmp_path / "run"))
    assert summary.line() == "2 written, 0 skipped, 2 failed"
    failures = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(str(raw_folder / "broken.tif") in m and "\n" not in m for m in failures)
    assert sorted(p.name for p in out.glob("*.tiff")) == [
        "cell_0_struct_segmentation.tiff", "cell_1_struct_segmentation.tiff"]
    again = predict(compose_config("predict", args, tmp_path / "run"))
    assert again.line() == "0 written, 2 skipped, 2 failed"


def test_a_missing_or_foreign_package_is_one_line(tmp_path):
    pytest.importorskip("bioimageio.core")
    import seglight

    with pytest.raises(ConfigError, match="no such file"):
        seglight.binarize(np.zeros((4, 8, 8)), model_package=tmp_path / "none.zip")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="bad.zip: not a bioimage.io model package"):
        seglight.binarize(np.zeros((4, 8, 8)), model_package=tmp_path / "bad.zip")
    from seglight.predict.build import build_binarizer

    with pytest.raises(ConfigError, match="one binarizer"):
        build_binarizer(None, "x.ckpt", model_package=tmp_path / "bad.zip")


@pytest.mark.slow
def test_unpadded_package_tiles_by_its_halo_to_the_checkpoints_probability(tiny_ckpt, tmp_path):
    """An unpadded (batch norm) unet_xy: many windows, each cropped by the declared offset,
    give what one pass of the checkpoint gives."""
    from seglight.bioimageio.binarizer import PackageBinarizer
    from seglight.export.package import export_package
    from seglight.predict.network import NetworkBinarizer

    ckpt = torch.load(tiny_ckpt, map_location="cpu", weights_only=False)
    net_cfg = {**ckpt["hyper_parameters"]["net"], "padded": False, "norm": "batch"}
    net = UNetXY(**{k: v for k, v in net_cfg.items() if k != "_target_"})
    ckpt["hyper_parameters"]["net"] = net_cfg
    ckpt["hyper_parameters"]["patch_zyx"] = [29, 92, 92]
    ckpt["state_dict"] = {f"net.{k}": v for k, v in net.state_dict().items()}
    unpadded = tmp_path / "unpadded.ckpt"
    torch.save(ckpt, unpadded)
    image = camera_image(np.random.default_rng(4))
    write_ome_tiff(tmp_path / "camera.ome.tif", image, SPACING)
    path = export_package(unpadded, tmp_path / "unpadded", tmp_path / "camera.ome.tif")
    binarizer = PackageBinarizer(path, window_zyx=(30, 100, 100))
    assert [(a.min, a.step, a.offset) for a in binarizer.axes] == [
        (29, 1, -28), (92, 8, -88), (92, 8, -88)]
    got = binarizer.predict_proba(image)  # 4 x 3 x 4 windows of 30 x 100 x 100
    expected = NetworkBinarizer.from_checkpoint(unpadded, precision="32").predict_proba(image)
    assert np.abs(got - expected).max() < 1e-4
