
import pytest
from hydra import compose, initialize_config_dir

import seglight
from seglight.curate import CurateConfig
from seglight.io import find_triplets
from tests.helpers.cli_utils import run_module


def run_cli(*args, cwd):
    return run_module("seglight.curate", *args, cwd=cwd)


def test_config_composes_and_defaults_to_raw_images():
    with initialize_config_dir(config_dir=str(seglight.CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="curate", overrides=["mode=sorting", "raw=r"])
    config = CurateConfig.from_mapping(cfg)
    assert config.mode == "sorting" and config.raw == "r"
    assert config.normalize is False
    assert config.seg_suffix == "_struct_segmentation"
    assert config.order == "as_listed" and config.uncertainty_ckpt is None


@pytest.mark.slow
def test_cli_takeall_prints_summary_and_exits_nonzero_on_failure(folders):
    (folders["seg"] / "c1_struct_segmentation.tiff").unlink()
    result = run_cli("mode=takeall", f"raw={folders['raw']}", f"seg={folders['seg']}", "out=out",
                     cwd=folders["tmp"])
    assert result.returncode == 1, result.stderr
    assert "2 written, 0 skipped, 1 failed" in result.stdout
    assert "c1.tif: no segmentation" in result.stderr
    assert len(find_triplets(folders["tmp"] / "out")) == 2
    assert not (folders["tmp"] / "outputs").exists()  # no Hydra run folders in the user's cwd


@pytest.mark.slow
def test_cli_config_error_is_one_line(folders):
    result = run_cli("mode=sorting", f"raw={folders['raw']}", f"seg={folders['seg']}", "out=out",
                     cwd=folders["tmp"])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: mode=sorting needs decisions=; usage: python -m seglight.curate mode=sorting "
        "raw=DIR seg=DIR out=DIR decisions=FILE.csv"
    ]
