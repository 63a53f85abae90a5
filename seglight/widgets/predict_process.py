"""What the Apply widget's child process does (:mod:`seglight.widgets.service`): it loads
torch and MONAI and runs the binarizers, so that neither their loading nor their work ever
holds napari's interpreter.

It builds each binarizer as ``python -m seglight.predict`` builds it (the last one is kept
while its file is unchanged: the first Apply pays for loading torch, the next ones only for
the network) and runs the same runner on a folder.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import numpy as np

from seglight.widgets.service import Service, shared, stop_requested

#: What the child loads before it says it is ready (what the first Apply would load).
WARM_MODULES = ("seglight.predict.build", "seglight.predict.network", "seglight.module",
                "monai.inferers", "seglight.networks.monai_nets", "seglight.api")


class _Collect(logging.Handler):
    """Keeps the warning lines the binarizer logs while it runs, to show them."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage().splitlines()[0])


def build(kind: str, value: str):
    """The binarizer of a source, as ``python -m seglight.predict`` builds it: ``kind`` is
    ``checkpoint``, ``classic`` (``value``: a workflow name), ``workflow`` or ``package``.

    Raises:
        ConfigError: the file is not a checkpoint, workflow or package (one line).
    """
    from seglight.predict.build import build_binarizer

    if kind == "classic":
        from omegaconf import OmegaConf

        from seglight import CONF_DIR

        config = OmegaConf.load(CONF_DIR / "model" / "classic" / f"{value}.yaml")
        return build_binarizer(OmegaConf.to_container(config, resolve=True))
    argument = {"checkpoint": "ckpt_path", "workflow": "workflow",
                "package": "model_package"}[kind]
    return build_binarizer(**{argument: value})


def predict_layer(kind: str, value: str, image, spacing, name: str, cache: dict | None = None):
    """Run the binarizer on one image: ``(probability map float32, threshold, whether the
    map is already binary (a classic workflow), the warning lines logged)``.

    ``cache`` keeps the last binarizer built, reused while its file is unchanged.
    """
    from seglight.binarizer import SpacingAware

    collect = _Collect()
    logger = logging.getLogger("seglight")
    logger.addHandler(collect)
    try:
        path = Path(value)
        key = (kind, value, path.stat().st_mtime_ns if path.is_file() else None)
        binarizer = cache.get(key) if cache is not None else None
        if binarizer is None:
            binarizer = build(kind, value)
            if cache is not None:
                cache.clear()
                cache[key] = binarizer
        if isinstance(binarizer, SpacingAware) and any(spacing):
            binarizer.warn_spacing(spacing, name)
        proba = np.asarray(binarizer.predict_proba(np.asarray(image)), dtype=np.float32)
    finally:
        logger.removeHandler(collect)
    binary = bool(np.isin(proba, (0.0, 1.0)).all())
    return proba, float(binarizer.threshold), binary, collect.lines


class PredictHandler:
    """Built in the child (loads torch and MONAI); answers ``("layer", kind, value, image,
    spacing, name)`` with :func:`predict_layer`'s result and ``("folder", predict_files
    keyword arguments)`` with the runner's summary (sending ``("progress", done, total,
    file name)`` after each file; a ``("stop",)`` meanwhile stops after the file in
    progress)."""

    def __init__(self):
        for module in WARM_MODULES:
            importlib.import_module(module)
        self.cache: dict = {}

    def __call__(self, conn, kind: str, *args):
        if kind == "layer":
            return predict_layer(*args, cache=self.cache)
        if kind == "folder":
            return self.folder(conn, *args)
        raise ValueError(f"unknown request {kind!r}")

    @staticmethod
    def folder(conn, arguments: dict):
        from seglight.api import predict_files

        stopped = [False]

        def on_progress(done: int, total: int, path) -> None:
            conn.send(("progress", done, total, Path(path).name))

        return predict_files(progress=False, on_progress=on_progress,
                             should_stop=lambda: stop_requested(conn, stopped), **arguments)


def predict_process() -> Service:
    """The Apply widgets' prediction process (one per napari; started on first use)."""
    return shared("seglight.widgets.predict_process:PredictHandler", "the prediction process")
