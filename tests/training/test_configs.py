"""Every model x data config, and every experiment, composes and runs one fast_dev_run step."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import open_dict

from seglight.errors import ConfigError, SeglightError
from seglight.io import write_triplet
from seglight.training import train
from tests.hydra_utils import compose_config, options

MODELS = options("model")
DATA = options("data")
EXPERIMENTS = options("experiment")


@pytest.fixture
def curated(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "curated"
    for i in range(2):
        image = rng.integers(300, 3000, (8, 48, 48)).astype(np.uint16)
        gt = (image > 2500).astype(np.uint8)
        write_triplet(folder, f"cell_{i}", image, gt, np.ones(image.shape, np.float32))
    return folder


def _shrink(cfg, curated):
    """Tiny network and the smallest valid patch, so each config runs in seconds on CPU."""
    with open_dict(cfg):
        if "width" in cfg.model.net:
            cfg.model.net.width = 2
        net = instantiate(cfg.model.net)
        cfg.data.patch_zyx = list(net.valid_input_shape((8, 32, 32)))
        cfg.data.batch_size = 1
        cfg.data.samples_per_epoch = 1
        cfg.data.val_patches_per_image = 1
        cfg.data.num_workers = 0
        if cfg.data.demo is None:
            cfg.data.path = str(curated)
        else:
            cfg.data.demo.n_images = 2
            cfg.data.demo.shape_zyx = [16, 64, 64]
        cfg.trainer.accelerator = "cpu"
        cfg.trainer.precision = "32-true"
        cfg.trainer.devices = 1
    return cfg


def _fast_dev_run(overrides, tmp_path, curated):
    cfg = compose_config("train", [*overrides, "debug=fast_dev_run"], tmp_path)
    train(_shrink(cfg, curated))


@pytest.mark.slow
@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_and_data_config_runs(model, data, tmp_path, curated):
    _fast_dev_run([f"model={model}", f"data={data}"], tmp_path, curated)


@pytest.mark.slow
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_runs(experiment, tmp_path, curated):
    _fast_dev_run([f"experiment={experiment}"], tmp_path, curated)


@pytest.mark.slow
def test_bf16_mixed_precision_runs_on_cpu(tmp_path, curated):
    cfg = _shrink(compose_config("train", ["debug=fast_dev_run"], tmp_path), curated)
    with open_dict(cfg):
        cfg.trainer.precision = "bf16-mixed"
    train(cfg)


def test_lamin_without_data_says_what_to_do_in_one_line(tmp_path):
    cfg = compose_config("train", ["data=lamin"], tmp_path)
    with pytest.raises(ConfigError) as error:
        train(cfg)
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert "data.path=" in message and "lamin" in message and "no such folder" in message


def test_an_image_without_ground_truth_is_named(tmp_path, curated):
    """find_triplets' precise line must reach the user, not a vague 'no triplets there'."""
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(curated, folder)
    orphan = sorted(folder.glob("*_GT.ome.tif"))[0]
    orphan.unlink()
    cfg = compose_config("train", ["data=lamin", f"data.path={folder}"], tmp_path)
    with open_dict(cfg):
        cfg.data.path = str(folder)
    with pytest.raises(SeglightError, match=r"image without ground truth; add .*_GT\.tif"):
        train(cfg)


def test_invalid_patch_names_nearest_valid_size(tmp_path, curated):
    cfg = compose_config("train", ["model=unet_xy", f"data.path={curated}", "data=lamin",
                                   "data.patch_zyx=[40,100,101]"], tmp_path)
    with open_dict(cfg):
        cfg.data.path = str(curated)
    from seglight.training.checks import validate_train_config

    with pytest.raises(ConfigError, match=r"data.patch_zyx=\[40, 100, 101\].*\[40, 100, 108\]"):
        validate_train_config(cfg)


def test_optuna_search_and_launchers_compose(tmp_path):
    cfg = compose_config("train", ["hparams_search=optuna"], tmp_path)
    assert cfg.hydra.sweeper.direction == "maximize"
    assert "model.optimizer.lr" in cfg.hydra.sweeper.params
    for launcher in ("slurm", "local"):
        cfg = compose_config("train", [f"hydra/launcher={launcher}"], tmp_path)
        assert "submitit" in cfg.hydra.launcher._target_


@pytest.mark.parametrize(("override", "message"), [
    ("model.optimizer.momentun=0.9", r"model.optimizer.momentun: torch.optim.SGD has no "
                                     r"argument 'momentun'; did you mean momentum\?"),
    ("model.optimizer._target_=torch.optim.SDG", r"model.optimizer._target_=torch.optim.SDG: "
                                                 r"cannot be imported"),
    ("model.scheduler={_target_:torch.optim.lr_scheduler.StepLR,_partial_:true,step_sise:2}",
     r"model.scheduler.step_sise: .*StepLR has no argument 'step_sise'; did you mean step_size"),
])
def test_a_misspelt_optimizer_or_scheduler_argument_is_one_line_before_data(
        tmp_path, override, message):
    from seglight.cli import prepare_overrides
    from seglight.training.checks import validate_train_config

    overrides = ["model.optimizer._target_=torch.optim.SGD", override]
    cfg = compose_config("train", prepare_overrides(overrides), tmp_path)
    with pytest.raises(ConfigError, match=message) as err:
        validate_train_config(cfg)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "data" / "demo").exists()  # nothing read or generated


def test_valid_optimizer_and_scheduler_arguments_pass(tmp_path):
    from seglight.training.checks import validate_train_config

    cfg = compose_config("train", ["experiment=nnunet_recipe"], tmp_path)
    validate_train_config(cfg)
