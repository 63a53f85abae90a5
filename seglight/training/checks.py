"""Checks that a training config can work, run before any work starts."""

from __future__ import annotations

import difflib
import inspect
from pathlib import Path

import torch
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf

from seglight.errors import ConfigError
from seglight.io.curated import find_triplets
from seglight.networks.contract import build_network, probe_patch
from seglight.normalization import Normalizer
from seglight.training.budget import parse_budget


def _model_name(cfg: DictConfig) -> str:
    try:
        from hydra.core.hydra_config import HydraConfig

        return HydraConfig.get().runtime.choices.get("model", "?")
    except ValueError:  # outside a Hydra app (tests, notebooks)
        return cfg.model.net.get("_target_", "?").rsplit(".", 1)[-1]


#: Arguments seglight passes itself: the optimizer gets the parameters; a scheduler gets the
#: optimizer. (``total_steps`` is passed where the config does not give it, and a config may:
#: ``OneCycleLR(total_steps=16)`` stepped per epoch, as the iterative experiment does.)
_GIVEN = {"model.optimizer": ("params",), "model.scheduler": ("optimizer",)}


def check_call_arguments(key: str, node: DictConfig | None) -> None:
    """Raise :class:`ConfigError` if the config ``node`` at ``key`` names a ``_target_`` that
    cannot be imported, or an argument its callable does not take (naming the nearest)."""
    if not node or "_target_" not in node:
        return
    target = str(node["_target_"])
    try:
        func = get_object(target)
    except Exception:  # ImportError, AttributeError, Hydra's wrappers of them
        raise ConfigError(f"{key}._target_={target}: cannot be imported (a typo?)") from None
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # a builtin without a signature: nothing to check
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [n for n in params if n != "self" and n not in _GIVEN.get(key, ())]
    for name in node:
        if str(name).startswith("_") or name in valid:
            continue
        near = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(near)}?" if near else f"its arguments: {', '.join(valid)}"
        raise ConfigError(f"{key}.{name}: {target} has no argument {name!r}; {hint}")


def validate_train_config(cfg: DictConfig) -> None:
    """Raise :class:`ConfigError` with a readable message if ``cfg`` cannot train.

    Checks the data folder (unless the demo will fill it), the normalization recipe, that
    the patch size is a valid input of the network, the loss head weights, the optimizer's
    and scheduler's arguments, the split, the accelerator and the resume checkpoint.
    """
    parse_budget(cfg.get("budget"))  # a budget that is not a duration is a one-line error
    data = cfg.data
    path = Path(str(data.path))
    if data.get("demo") is None:
        if not path.is_dir():
            raise ConfigError(
                f"data.path={path}: no such folder; pass data.path=/my/curated/folder, or make "
                "one with python -m seglight.curate"
            )
        # find_triplets names the file when an image lacks its _GT file (or the reverse).
        if not find_triplets(path):
            raise ConfigError(
                f"data.path={path}: no curated triplets there (<name>.tif + <name>_GT.tif "
                "[+ <name>_CM.tif]); pass data.path=/my/curated/folder, or make one with "
                "python -m seglight.curate"
            )
    Normalizer(OmegaConf.to_container(data.normalization, resolve=True))
    if not 0 <= float(data.val_fraction) < 1:
        raise ConfigError(f"data.val_fraction={data.val_fraction} must be in [0, 1)")
    if not 0 <= float(data.get("test_fraction") or 0) < 1:
        raise ConfigError(f"data.test_fraction={data.test_fraction} must be in [0, 1)")
    if int(data.batch_size) < 1 or int(data.samples_per_epoch) < int(data.batch_size):
        raise ConfigError(
            f"data.batch_size={data.batch_size} and data.samples_per_epoch="
            f"{data.samples_per_epoch}: need 1 <= batch_size <= samples_per_epoch"
        )
    for key in _GIVEN:
        check_call_arguments(key, OmegaConf.select(cfg, key))
    net = build_network(cfg.model.net)  # an unimportable class: one line
    patch = [int(p) for p in data.patch_zyx]
    try:
        net.output_shape(patch)
    except ConfigError as err:
        raise ConfigError(f"data.patch_zyx={patch} with model {_model_name(cfg)}: {err}") from None
    probe_patch(net, patch, _model_name(cfg))  # a network without _axis_out: one forward
    n_weights = len(cfg.model.loss.head_weights)
    if net.n_heads > n_weights:
        raise ConfigError(
            f"model.loss.head_weights has {n_weights} weight(s) but the network has "
            f"{net.n_heads} heads; give one weight per head, main head first"
        )
    accelerator = str(cfg.trainer.get("accelerator", "auto"))
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={accelerator} but no CUDA GPU is visible; use trainer=cpu "
            "(or trainer.accelerator=auto)"
        )
    ckpt = cfg.get("ckpt_path")
    if ckpt and not Path(str(ckpt)).is_file():
        raise ConfigError(f"ckpt_path={ckpt}: no such checkpoint file")
