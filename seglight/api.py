"""The Python entry points: ``seglight.binarize`` (one array), ``seglight.predict_files``,
``seglight.train`` and ``seglight.evaluate``.

They use the same configs, binarizers, runner and training as the ``python -m seglight.*``
commands, in this process, so a notebook or napari plugin can call them::

    import seglight
    mask = seglight.binarize(image_zyx, "classic/lmnb1_interphase", hole_min=300)
    mask = seglight.binarize(image_zyx, ckpt_path="runs/train/.../best.ckpt")
    mask = seglight.binarize(image_zyx, model_package="lamin.zip")   # a bioimage.io package
    summary = seglight.predict_files("/data/raw", "/data/seg", ckpt_path="best.ckpt")
    summary = seglight.predict_files("/data/raw", "/data/seg", workflow="tuned.yaml", labels=True)
    best = seglight.train(data_path="/data/curated", model="unet_xy", trainer__max_epochs=50)
    report = seglight.evaluate("/data/seg", "/data/truth", spacing_zyx=(0.29, 0.108, 0.108))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from seglight.errors import ConfigError
from seglight.evaluation import evaluate  # noqa: F401  (seglight.evaluate; light: no torch)


def _classic_config(model: str) -> dict:
    from omegaconf import OmegaConf

    from seglight import CONF_DIR

    name = model.removesuffix(".yaml")
    path = CONF_DIR / "model" / f"{name}.yaml"
    if not name.startswith("classic/") or not path.is_file():
        from seglight.classic import list_workflows

        raise ConfigError(
            f"model={model!r}: not a classic workflow; use 'classic/<name>' with a name among "
            f"{list_workflows()}, or ckpt_path= for a trained network"
        )
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def _binarizer(model: str | None, ckpt_path: str | Path | None, overrides: dict,
               threshold: float | None = None, model_package: str | Path | None = None):
    from seglight.predict.build import build_binarizer

    if model_package is not None:  # a bioimage.io package (the checks are in build_binarizer)
        inference = dict(overrides)
        return build_binarizer(model, ckpt_path, inference, threshold,
                               device=inference.pop("device", None), model_package=model_package)

    if model is not None and ckpt_path is not None:
        raise ConfigError("pass either model='classic/<name>' or ckpt_path=, not both")
    if model is not None:
        config = _classic_config(model)
        config["params"] = {**(config.get("params") or {}), **overrides}
        return build_binarizer(config)
    inference = dict(overrides)
    device = inference.pop("device", None)
    return build_binarizer(None, ckpt_path, inference, threshold, device=device)


def binarize(
    image_zyx: np.ndarray, model: str | None = None, *, ckpt_path: str | Path | None = None,
    threshold: float | None = None, model_package: str | Path | None = None, **overrides: Any,
) -> np.ndarray:
    """Binarize one ZYX image with a classic workflow or a trained network.

    Args:
        image_zyx: the raw single-channel image, shape ``(Z, Y, X)``.
        model: ``"classic/<workflow>"`` (e.g. ``"classic/lmnb1_interphase"``).
        ckpt_path: a trained network's checkpoint (instead of ``model``).
        threshold: the mask threshold; default: the binarizer's.
        model_package: a bioimage.io model package, ``.zip`` or folder (instead of ``model``;
            needs ``seglight[bioimageio]``; ``window_zyx`` and ``device`` apply).
        **overrides: a classic workflow's parameters (e.g. ``hole_min=300``), or a network's
            ``inference`` options (``window_zyx``, ``overlap``, ``batch_size``, ``flip_tta``,
            ``precision``, ``device``, ``resize_zyx``, ``memory_gib``).

    Returns:
        The mask, uint8 0/255, shape of the image.

    Raises:
        ConfigError: neither or both of ``model`` and ``ckpt_path``, an unknown workflow or
            parameter.
    """
    binarizer = _binarizer(model, ckpt_path, overrides, threshold, model_package)
    proba = binarizer.predict_proba(np.asarray(image_zyx))
    cut = binarizer.threshold if threshold is None else threshold
    return (proba > cut).astype(np.uint8) * np.uint8(255)


def predict_files(
    input: str | Path, output: str | Path, model: str | None = None, *,
    ckpt_path: str | Path | None = None, input_glob: str = "*", progress: bool = True,
    inference: dict | None = None, model_package: str | Path | None = None,
    workflow: str | Path | None = None,
    on_progress: Callable[[int, int, Path], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    **options: Any,
):
    """Binarize files and write their outputs, as ``python -m seglight.predict`` does.

    Args:
        input: an image file, a folder of images, or a CSV listing files.
        output: the output folder.
        model: ``"classic/<workflow>"``; or give ``ckpt_path``.
        ckpt_path: a trained network's checkpoint.
        model_package: a bioimage.io model package (instead of ``model``/``ckpt_path``).
        workflow: a workflow saved by the napari workflow editor (a ``.yaml``; instead of
            the others).
        input_glob: which files of an input folder.
        progress: progress bars of files (and windows).
        inference: a network's inference options (see ``conf/predict.yaml``).
        on_progress: ``on_progress(done, total, path)`` after each file (a GUI's progress
            bar), see :meth:`~seglight.predict.runner.PredictRunner.run`.
        should_stop: ``should_stop() -> bool``, checked between files and images (a GUI's
            Cancel); a stopped run returns its summary and a rerun resumes.
        **options: the runner's options as in ``conf/predict.yaml``: ``threshold``,
            ``write_proba``, ``proba_dtype``, ``min_size``, ``mask_name``, ``qc``,
            ``save_intermediates``, ``labels``, ``split_touching``, ``labels_name``,
            ``objects_name``,
            ``overwrite``, ``channel``, ``scenes``, ``timepoints``, and a classic
            workflow's ``params`` (a dict).

    Returns:
        The :class:`~seglight.summary.Summary` (written, skipped, failed, failures).
    """
    from seglight.predict.build import build_binarizer
    from seglight.predict.runner import PredictRunner, find_inputs, options_from

    params = options.pop("params", None) or {}
    opts = options_from({"output": str(output), **options})
    files = find_inputs(input, input_glob)
    if model is not None and ckpt_path is not None:
        raise ConfigError("pass either model='classic/<name>' or ckpt_path=, not both")
    if workflow is not None and params:
        raise ConfigError(f"workflow={workflow} holds its own parameters; drop params= (or "
                          "edit the file, or pass model='classic/<name>' with params=)")
    if model is not None and model_package is None and workflow is None:
        config = _classic_config(model)
        config["params"] = {**(config.get("params") or {}), **params}
        binarizer = build_binarizer(config)
    else:
        inference = dict(inference or {})
        binarizer = build_binarizer(model, ckpt_path, inference, opts.threshold,
                                    progress=progress, device=inference.pop("device", None),
                                    model_package=model_package, workflow=workflow)
    return PredictRunner(binarizer, opts).run(files, progress=progress, on_progress=on_progress,
                                              should_stop=should_stop)


def _override_value(value: Any) -> str:
    """A Python value as Hydra override text (strings quoted, so any path works)."""
    from seglight.cli import _quote

    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_override_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_override_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    return text if text.startswith("${") else _quote(text)


def train(
    data_path: str | Path | None = None, model: str | None = None, data: str | None = None,
    **overrides: Any,
) -> Path:
    """Train a network as ``python -m seglight.train`` does, from the same configs.

    Args:
        data_path: a folder of curated triplets; ``None`` trains on the embedded demo data.
        model: a ``conf/model/`` option (``unet_xy``, ``unet_xy_padded``, ``basic_unet``...);
            default ``unet_xy_tiny``, or the plan's with ``plan="plan.yaml"`` (a plan from
            ``python -m seglight.plan``, whose settings these arguments override).
        data: a ``conf/data/`` option; default ``lamin`` with ``data_path`` (any curated
            folder), ``demo`` without.
        **overrides: any other setting, dots written as ``__``
            (``trainer__max_epochs=50``, ``data__patch_zyx=[32, 128, 128]``,
            ``paths__root_dir="/scratch/me"``), or config groups (``trainer="gpu"``,
            ``experiment="lamin_unet_xy"``).

    Returns:
        The best checkpoint (highest validation Dice); the last one if no validation ran.
        The run folder, with TensorBoard logs and the composed config, is its grandparent.

    Raises:
        ConfigError: the config cannot work (checked before any work starts).
    """
    from datetime import datetime

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.errors import HydraException
    from omegaconf import OmegaConf, open_dict

    from seglight import CONF_DIR
    from seglight.cli import explain_composition_error, prepare_overrides
    from seglight.config import register_resolvers
    from seglight.errors import SeglightError
    from seglight.planning.plan_file import expand_plan_argument
    from seglight.training.fit import fit

    planned = overrides.get("plan") is not None  # the plan chooses model and data unless given
    data = data or (None if planned else "demo" if data_path is None else "lamin")
    model = model or (None if planned else "unet_xy_tiny")
    args = [f"{key}={value}" for key, value in (("model", model), ("data", data)) if value]
    if data_path is not None:
        args.append(f"data.path={_override_value(str(data_path))}")
    for key, value in overrides.items():
        key = key.replace("__", ".")
        is_group = (CONF_DIR / key).is_dir()
        args.append(f"{key}={value}" if is_group else f"{key}={_override_value(value)}")
    args = expand_plan_argument(args)  # plan="plan.yaml": its settings first, these after
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        try:
            cfg = compose("train", overrides=prepare_overrides(args), return_hydra_config=True)
        except HydraException as err:  # an unknown key or option, named by Hydra
            raise ConfigError(explain_composition_error(err, args, "train")) from None
    run_dir = Path(str(cfg.paths.log_dir)) / str(cfg.task_name) / datetime.now().strftime(
        "%Y-%m-%d_%H-%M-%S")
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
    HydraConfig.instance().set_config(cfg)
    (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    OmegaConf.save(job, run_dir / ".hydra" / "config.yaml")
    try:
        result = fit(cfg)
    finally:
        GlobalHydra.instance().clear()
    checkpoint = result.best_checkpoint or result.last_checkpoint
    if checkpoint is None:
        raise SeglightError(
            f"{run_dir}: training wrote no checkpoint; checkpoints are written after a "
            "validation or at the end of an epoch (callbacks=none, or trainer.max_steps below "
            "one epoch with trainer.limit_val_batches=0?)")
    return checkpoint
