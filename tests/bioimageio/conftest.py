"""Fixtures for bioimage.io tests: a camera-like image, and the tiny checkpoint exported as a
package by the command's own code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seglight.io import write_ome_tiff
from tests.predict.conftest import SPACING, raw_folder  # noqa: F401  (a fixture, used here too)


def camera_image(rng: np.random.Generator) -> np.ndarray:
    """Background 1000 ± 100, a brighter block, a dead and a hot pixel (uint16)."""
    image = rng.normal(1000, 100, (8, 32, 40))
    image[2:6, 8:20, 10:26] += 1000
    image[0, 0, 0], image[-1, -1, -1] = 0, 6000
    return np.clip(image, 0, 65535).astype(np.uint16)


def compose_export(args: list[str]):
    """``conf/export.yaml`` composed from a command line as ``python -m seglight.export``
    composes it (free-text settings quoted)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from seglight import CONF_DIR
    from seglight.cli import prepare_overrides
    from seglight.export.__main__ import TEXT_KEYS

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("export", overrides=prepare_overrides(args, TEXT_KEYS))


def export_with_config(args: list[str]) -> Path:
    """``python -m seglight.export <args>``'s work, in this process."""
    from seglight.export.__main__ import export

    return export(compose_export(args))


@pytest.fixture(scope="session")
def package(tiny_ckpt, tmp_path_factory) -> tuple[Path, Path]:
    """The tiny checkpoint (default recipe) exported with a camera image as its test crop:
    (package zip, the image file)."""
    pytest.importorskip("bioimageio.core")
    folder = tmp_path_factory.mktemp("package")
    camera = folder / "camera.ome.tif"
    write_ome_tiff(camera, camera_image(np.random.default_rng(3)), SPACING)
    out = export_with_config([f"ckpt_path={tiny_ckpt}", "format=bioimageio",
                              f"out={folder / 'lamin.zip'}", f"test_image={camera}",
                              "authors=Ada Lovelace,Alan Turing", "license=MIT",
                              "name=tiny lamin"])
    return out, camera
