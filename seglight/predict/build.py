"""From a predict config to a binarizer and a runner, with every check done before any work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seglight.binarizer import Binarizer
from seglight.config import to_plain
from seglight.errors import ConfigError, SeglightError
from seglight.predict.runner import OutputOptions, PredictRunner, find_inputs, options_from

#: ``inference`` keys that configure the sliding window (the rest: device, resize).
INFERER_KEYS = ("window_zyx", "overlap", "batch_size", "flip_tta", "precision", "memory_gib",
                "stitch_on_device")


def load_workflow(path: str | Path) -> Binarizer:
    """The classic binarizer of a workflow saved by the napari workflow editor
    (``workflow=FILE``; :func:`seglight.classic.load_workflow_config`).

    Raises:
        ConfigError: one line starting ``workflow=<file>:``: no such file, not a workflow
            config, or a workflow, parameter, step or block the classic workflows lack.
    """
    from seglight.classic import load_workflow_config

    try:
        return load_workflow_config(path)
    except SeglightError as err:
        message = str(err).removeprefix(f"{Path(path)}: ")
        raise ConfigError(f"workflow={path}: {message}") from None


def build_binarizer(
    model: Any = None, ckpt_path: str | Path | None = None, inference: dict | None = None,
    threshold: float | None = None, progress: bool = False, device: str | None = None,
    model_package: str | Path | None = None, workflow: str | Path | None = None,
) -> Binarizer:
    """The binarizer a predict config names.

    Args:
        model: a binarizer config (``_target_`` + arguments, e.g. ``conf/model/classic/*.yaml``).
        ckpt_path: a checkpoint of a trained network (exclusive with ``model``).
        inference: the ``inference`` options (networks only).
        threshold: overrides the checkpoint's threshold (negative values are left to the runner).
        progress: progress bar of windows (networks).
        device: overrides ``inference.device``.
        model_package: a bioimage.io model package (.zip or folder; exclusive with the others).
        workflow: a saved workflow-editor config (exclusive with the others), see
            :func:`load_workflow`.

    Raises:
        ConfigError: no binarizer or several, a model config that is not a binarizer, or a
            bad workflow file.
    """
    inference = dict(to_plain(inference) or {})
    if workflow:
        if model is not None or ckpt_path or model_package:
            raise ConfigError(f"workflow={workflow} and model=/ckpt_path=/model_package= are "
                              "set; a run uses one binarizer: drop all but one")
        return load_workflow(workflow)
    if model is not None and ckpt_path:
        raise ConfigError(
            f"both ckpt_path={ckpt_path} and model= are set; a run uses one binarizer: "
            "drop one of them"
        )
    if model_package:
        if model is not None or ckpt_path:
            raise ConfigError(f"model_package={model_package} and model=/ckpt_path= are set; "
                              "a run uses one binarizer: drop all but one")
        from seglight.bioimageio.binarizer import PackageBinarizer

        return PackageBinarizer(
            model_package, threshold=threshold if threshold is not None and threshold >= 0
            else None, device=device or inference.get("device") or "auto",
            window_zyx=inference.get("window_zyx"))
    if ckpt_path:
        from seglight.predict.network import NetworkBinarizer

        kwargs = {k: inference[k] for k in INFERER_KEYS if inference.get(k) is not None}
        return NetworkBinarizer.from_checkpoint(
            ckpt_path,
            threshold=threshold if threshold is not None and threshold >= 0 else None,
            device=device or inference.get("device") or "auto",
            resize_zyx=inference.get("resize_zyx"),
            progress=progress,
            **kwargs,
        )
    if model is None:
        raise ConfigError(
            "no binarizer: pass ckpt_path=<trained .ckpt>, model=classic/<workflow>, "
            "workflow=<saved editor .yaml> or model_package=<bioimage.io .zip>"
        )
    target = str(model.get("_target_", "")) if hasattr(model, "get") else ""
    if target.endswith("SegmentationModule"):
        raise ConfigError(
            "model= names a network to train; to predict with a network pass "
            "ckpt_path=<its trained .ckpt>, or model=classic/<workflow> for a classic one"
        )
    try:
        binarizer = instantiate(model)
    except InstantiationException as err:
        # Hydra wraps the binarizer's own one-line error (an unknown parameter, step or
        # block) in a multi-line block: give the user that line.
        if isinstance(err.__cause__, SeglightError):
            raise err.__cause__ from None
        raise
    if not isinstance(binarizer, Binarizer):
        raise ConfigError(f"model {target or model}: not a binarizer (no predict_proba/threshold)")
    return binarizer


def build_runner(cfg: DictConfig, device: str | None = None) -> tuple[PredictRunner, list[Path]]:
    """Check a predict config and return its runner and input files, before any work.

    Raises:
        ConfigError: a missing input, a bad option, or no/two binarizers.
    """
    for key in ("input", "output"):
        if OmegaConf.is_missing(cfg, key) or cfg.get(key) in (None, ""):
            raise ConfigError(f"{key}= is required, e.g. input=/data/raw output=/data/seg")
    options: OutputOptions = options_from(cfg)
    files = find_inputs(str(cfg.input), str(cfg.get("input_glob", "*")))
    binarizer = build_binarizer(
        cfg.get("model"), cfg.get("ckpt_path"), cfg.get("inference"), options.threshold,
        progress=bool(cfg.get("progress", True)), device=device,
        model_package=cfg.get("model_package"), workflow=cfg.get("workflow"),
    )
    return PredictRunner(binarizer, options), files
