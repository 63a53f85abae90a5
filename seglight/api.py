"""The Python entry points: ``seglight.binarize`` (one array) and ``seglight.predict_files``.

They use the same binarizers and runner as ``python -m seglight.predict``, in this process
and without Lightning, so a notebook or napari plugin can call them::

    import seglight
    mask = seglight.binarize(image_zyx, "classic/lmnb1_interphase", hole_min=300)
    mask = seglight.binarize(image_zyx, ckpt_path="runs/train/.../best.ckpt")
    summary = seglight.predict_files("/data/raw", "/data/seg", ckpt_path="best.ckpt")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seglight.errors import ConfigError


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
               threshold: float | None = None):
    from seglight.predict.build import build_binarizer

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
    threshold: float | None = None, **overrides: Any,
) -> np.ndarray:
    """Binarize one ZYX image with a classic workflow or a trained network.

    Args:
        image_zyx: the raw single-channel image, shape ``(Z, Y, X)``.
        model: ``"classic/<workflow>"`` (e.g. ``"classic/lmnb1_interphase"``).
        ckpt_path: a trained network's checkpoint (instead of ``model``).
        threshold: the mask threshold; default: the binarizer's.
        **overrides: a classic workflow's parameters (e.g. ``hole_min=300``), or a network's
            ``inference`` options (``window_zyx``, ``overlap``, ``batch_size``, ``flip_tta``,
            ``precision``, ``device``, ``resize_zyx``, ``memory_gib``).

    Returns:
        The mask, uint8 0/255, shape of the image.

    Raises:
        ConfigError: neither or both of ``model`` and ``ckpt_path``, an unknown workflow or
            parameter.
    """
    binarizer = _binarizer(model, ckpt_path, overrides, threshold)
    proba = binarizer.predict_proba(np.asarray(image_zyx))
    cut = binarizer.threshold if threshold is None else threshold
    return (proba > cut).astype(np.uint8) * np.uint8(255)


def predict_files(
    input: str | Path, output: str | Path, model: str | None = None, *,
    ckpt_path: str | Path | None = None, input_glob: str = "*", progress: bool = True,
    inference: dict | None = None, **options: Any,
):
    """Binarize files and write their outputs, as ``python -m seglight.predict`` does.

    Args:
        input: an image file, a folder of images, or a CSV listing files.
        output: the output folder.
        model: ``"classic/<workflow>"``; or give ``ckpt_path``.
        ckpt_path: a trained network's checkpoint.
        input_glob: which files of an input folder.
        progress: progress bars of files (and windows).
        inference: a network's inference options (see ``conf/predict.yaml``).
        **options: the runner's options as in ``conf/predict.yaml``: ``threshold``,
            ``write_proba``, ``proba_dtype``, ``min_size``, ``mask_name``, ``qc``,
            ``save_intermediates``, ``overwrite``, ``channel``, ``scenes``, ``timepoints``,
            and a classic workflow's ``params`` (a dict).

    Returns:
        The :class:`~seglight.predict.runner.Summary` (written, skipped, failed, errors).
    """
    from seglight.predict.build import build_binarizer
    from seglight.predict.runner import PredictRunner, find_inputs, options_from

    params = options.pop("params", None) or {}
    opts = options_from({"output": str(output), **options})
    files = find_inputs(input, input_glob)
    if model is not None and ckpt_path is not None:
        raise ConfigError("pass either model='classic/<name>' or ckpt_path=, not both")
    if model is not None:
        config = _classic_config(model)
        config["params"] = {**(config.get("params") or {}), **params}
        binarizer = build_binarizer(config)
    else:
        inference = dict(inference or {})
        binarizer = build_binarizer(None, ckpt_path, inference, opts.threshold,
                                    progress=progress, device=inference.pop("device", None))
    return PredictRunner(binarizer, opts).run(files, progress=progress)
