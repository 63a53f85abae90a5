"""Export a checkpoint as a bioimage.io package (seglight.export.package): ``bioimageio
test`` passes, the description is right, the package's mask is the checkpoint's on real
images, and a recipe that does not travel is refused or exported with its agreement."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch

from seglight.errors import ConfigError
from seglight.evaluation.scores import dice
from seglight.io import write_ome_tiff
from tests.bioimageio.conftest import SPACING, export_with_config


@pytest.mark.slow
def test_exported_package_passes_bioimageio_test_and_describes_the_network(package):
    from bioimageio.core import test_model
    from bioimageio.spec import load_model_description

    path, _ = package
    summary = test_model(path)
    assert summary.status == "passed", [d.name for d in summary.details if d.status != "passed"]
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        readme = zf.read("README.md").decode()
    assert {"weights.pt", "weights.onnx", "test_input.npy", "test_output.npy", "cover.png",
            "README.md", "rdf.yaml"} <= names
    assert "## Validation" in readme
    descr = load_model_description(path, perform_io_checks=False)
    assert [a.name for a in descr.authors] == ["Ada Lovelace", "Alan Turing"]
    assert descr.license == "MIT" and descr.name == "tiny lamin"
    z, y, x = descr.inputs[0].axes[2:]
    assert (y.size.min, y.size.step) == (8, 8) and z.unit == "micrometer"
    assert abs(z.scale - SPACING[0]) < 1e-5 and abs(x.scale - SPACING[2]) < 1e-5
    assert [p.id for p in descr.inputs[0].preprocessing if p.id != "ensure_dtype"] == [
        "zero_mean_unit_variance", "clip", "scale_linear"]
    seglight_cfg = descr.config.model_dump()["seglight"]
    assert seglight_cfg["threshold"] == 0.5
    assert seglight_cfg["normalization"][0]["op"] == "clipped_zscore"  # the default recipe
    assert seglight_cfg["exact_preprocessing"] and seglight_cfg["agreement_dice"] == 1.0


def test_default_test_image_is_the_first_curated_image_of_the_checkpoints_run(tmp_path):
    from seglight.data.demo import ensure_demo_dataset
    from seglight.export.package import default_test_image

    data = ensure_demo_dataset(tmp_path / "curated", n_images=1, shape_zyx=(4, 16, 16))
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(f"data:\n  path: {data}\n")
    ckpt = run / "checkpoints" / "best.ckpt"
    with pytest.raises(ConfigError, match="pass test_image="):
        default_test_image(tmp_path / "elsewhere" / "checkpoints" / "best.ckpt")
    image = default_test_image(ckpt)
    assert image.parent == data and "_GT" not in image.name and "_CM" not in image.name


def _with_recipe(ckpt, recipe, out):
    """A copy of a checkpoint whose recorded normalization recipe is ``recipe``."""
    data = torch.load(ckpt, map_location="cpu", weights_only=False)
    data["hyper_parameters"]["normalization"] = recipe
    torch.save(data, out)
    return out


@pytest.mark.slow
def test_a_package_gives_the_checkpoints_mask_on_a_real_crop(tiny_ckpt, ovule, tmp_path):
    """The real confocal ovule (its own test crop): bioimageio.core's preprocessing and the
    package's weights give the checkpoint's mask, for the default recipe."""
    from seglight.bioimageio.binarizer import PackageBinarizer
    from seglight.predict.network import NetworkBinarizer

    raw, _, spacing = ovule
    write_ome_tiff(tmp_path / "ovule.ome.tif", raw, spacing)
    out = export_with_config([f"ckpt_path={tiny_ckpt}", "format=bioimageio",
                              f"out={tmp_path / 'ovule.zip'}",
                              f"test_image={tmp_path / 'ovule.ome.tif'}"])
    package = PackageBinarizer(out)
    checkpoint = NetworkBinarizer.from_checkpoint(tiny_ckpt, precision="32",
                                                  window_zyx=raw.shape)
    expected = checkpoint.predict_proba(raw) > checkpoint.threshold
    got = package.predict_proba(raw) > package.threshold
    assert 0.01 < expected.mean() < 0.99  # a real mask, not an empty or full one
    assert int((got != expected).sum()) <= 2 and dice(got, expected) >= 0.999


@pytest.mark.slow
def test_auto_contrast_is_refused_unless_allowed_then_exported_with_its_agreement(
        tiny_ckpt, tmp_path):
    from bioimageio.core import test_model
    from bioimageio.spec import load_model_description

    old = _with_recipe(tiny_ckpt, [{"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}],
                       tmp_path / "old.ckpt")
    image = (np.random.default_rng(5).random((16, 64, 64)) * 200 + 900).astype(np.uint16)
    write_ome_tiff(tmp_path / "flat.ome.tif", image, SPACING)
    args = [f"ckpt_path={old}", "format=bioimageio", f"test_image={tmp_path / 'flat.ome.tif'}"]
    with pytest.raises(ConfigError, match="clipped_zscore.*allow_inexact=true"):
        export_with_config([*args, f"out={tmp_path / 'refused.zip'}"])
    assert not (tmp_path / "refused.zip").exists()
    out = export_with_config([*args, f"out={tmp_path / 'approx.zip'}", "allow_inexact=true"])
    seglight_cfg = load_model_description(out, perform_io_checks=False).config.model_dump()[
        "seglight"]
    assert seglight_cfg["exact_preprocessing"] is False
    assert 0 <= seglight_cfg["agreement_dice"] <= 1
    with zipfile.ZipFile(out) as zf:
        readme = zf.read("README.md").decode()
    assert "**approximation**" in readme and f"{seglight_cfg['agreement_dice']:.4f}" in readme
    assert test_model(out).status == "passed"  # tested against what it computes
