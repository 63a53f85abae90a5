"""bioimage.io model packages: the size rule, the preprocessing mapping, export, ``bioimageio
test`` and the runner predicting with a package (seglight.bioimageio)."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch

from seglight.bioimageio.network import (
    AxisRule,
    ProbabilityModule,
    size_rule,
    trace_probability,
)
from seglight.bioimageio.preprocessing import package_normalize, unmapped_step
from seglight.errors import ConfigError
from seglight.io import write_ome_tiff
from seglight.networks import UNetXY
from seglight.normalization import Normalizer
from tests.predict.conftest import SPACING


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


# -- size rule and trace (no bioimageio needed) ---------------------------------------------

def test_size_rule_states_unet_xy_valid_sizes_and_its_halo_as_an_offset():
    unpadded = size_rule(UNetXY(width=2, padded=False))
    assert unpadded == (AxisRule(29, 1, -28), AxisRule(92, 8, -88), AxisRule(92, 8, -88))
    padded = size_rule(UNetXY(width=2, padded=True))
    assert padded == (AxisRule(1, 1, 0), AxisRule(8, 8, 0), AxisRule(8, 8, 0))
    assert unpadded[1].size(100) == 100 and unpadded[1].size(101) == 108


@pytest.mark.parametrize("padded, window, other", [
    (False, (29, 92, 92), (30, 92, 100)), (True, (8, 32, 32), (5, 48, 40)),
])
def test_one_trace_of_unet_xy_serves_every_valid_size(padded, window, other):
    net = UNetXY(width=2, padded=padded, norm="instance").eval()
    traced, general = trace_probability(net, window, size_rule(net))
    assert general
    x = torch.rand(1, 1, *other, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = ProbabilityModule(net)(x)
        got = traced(x)
    assert got.shape == expected.shape == (1, 1, *net.output_shape(other))
    assert torch.allclose(got, expected, atol=1e-5)


# -- the normalization mapping --------------------------------------------------------------

def test_recipes_with_one_leading_data_dependent_step_map_the_rest_do_not():
    assert unmapped_step([]) is None
    assert unmapped_step([{"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}]) is None
    assert unmapped_step([{"op": "min_max", "upper": None}]) is None
    assert unmapped_step([{"op": "min_max", "upper": 4000}])["op"] == "min_max"
    two = [{"op": "background_subtract", "sigma": 5},
           {"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}]
    assert unmapped_step(two)["op"] == "background_subtract"


def _camera_image(rng) -> np.ndarray:
    """Background 1000 ± 100, a brighter block, a dead and a hot pixel: its range covers
    mean - 2.5 std .. mean + 10 std, as a camera image's does."""
    image = rng.normal(1000, 100, (8, 32, 40))
    image[2:6, 8:20, 10:26] += 1000
    image[0, 0, 0], image[-1, -1, -1] = 0, 6000
    return np.clip(image, 0, 65535).astype(np.uint16)


def test_package_auto_contrast_is_seglights_where_the_image_range_covers_the_bounds(rng):
    recipe = [{"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}]
    image = _camera_image(rng)
    np.testing.assert_allclose(package_normalize(image, recipe), Normalizer(recipe)(image),
                               atol=1e-5)
    # Where the minimum lies above mean - 2.5 std, seglight stretches a narrower range.
    flat = rng.integers(900, 1100, (8, 32, 40)).astype(np.uint16)
    assert package_normalize(flat, recipe).min() > 0.05
    assert Normalizer(recipe)(flat).min() == 0


# -- export, bioimageio test, the runner (end to end) ---------------------------------------

@pytest.fixture(scope="module")
def package(tiny_ckpt, tmp_path_factory):
    """The tiny checkpoint exported by the command-line entry, with a real crop."""
    pytest.importorskip("bioimageio.core")
    from seglight.predict.export import main

    folder = tmp_path_factory.mktemp("package")
    write_ome_tiff(folder / "camera.ome.tif", _camera_image(np.random.default_rng(3)), SPACING)
    out = folder / "lamin.zip"
    main([f"ckpt_path={tiny_ckpt}", "format=bioimageio", f"out={out}",
          f"test_image={folder / 'camera.ome.tif'}", "authors=Ada Lovelace,Alan Turing",
          "license=MIT", "name=tiny lamin"])
    return out, folder / "camera.ome.tif"


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
    assert descr.config.model_dump()["seglight"]["threshold"] == 0.5


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
    assert _dice(mask > 0, expected > checkpoint.threshold) >= 0.99


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
    from seglight.bioimageio.export import export_package
    from seglight.predict.network import NetworkBinarizer

    ckpt = torch.load(tiny_ckpt, map_location="cpu", weights_only=False)
    net_cfg = {**ckpt["hyper_parameters"]["net"], "padded": False, "norm": "batch"}
    net = UNetXY(**{k: v for k, v in net_cfg.items() if k != "_target_"})
    ckpt["hyper_parameters"]["net"] = net_cfg
    ckpt["hyper_parameters"]["patch_zyx"] = [29, 92, 92]
    ckpt["state_dict"] = {f"net.{k}": v for k, v in net.state_dict().items()}
    unpadded = tmp_path / "unpadded.ckpt"
    torch.save(ckpt, unpadded)
    image = _camera_image(np.random.default_rng(4))
    write_ome_tiff(tmp_path / "camera.ome.tif", image, SPACING)
    path = export_package(unpadded, tmp_path / "unpadded", tmp_path / "camera.ome.tif")
    binarizer = PackageBinarizer(path, window_zyx=(30, 100, 100))
    assert [(a.min, a.step, a.offset) for a in binarizer.axes] == [
        (29, 1, -28), (92, 8, -88), (92, 8, -88)]
    got = binarizer.predict_proba(image)  # 4 x 3 x 4 windows of 30 x 100 x 100
    expected = NetworkBinarizer.from_checkpoint(unpadded, precision="32").predict_proba(image)
    assert np.abs(got - expected).max() < 1e-4


def test_default_test_image_is_the_first_curated_image_of_the_checkpoints_run(tmp_path):
    from seglight.bioimageio.export import default_test_image
    from seglight.data.demo import ensure_demo_dataset

    data = ensure_demo_dataset(tmp_path / "curated", n_images=1, shape_zyx=(4, 16, 16))
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(f"data:\n  path: {data}\n")
    ckpt = run / "checkpoints" / "best.ckpt"
    with pytest.raises(ConfigError, match="pass test_image="):
        default_test_image(tmp_path / "elsewhere" / "checkpoints" / "best.ckpt")
    image = default_test_image(ckpt)
    assert image.parent == data and "_GT" not in image.name and "_CM" not in image.name
