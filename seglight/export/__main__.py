"""Export a trained network: ``python -m seglight.export ckpt_path=... out=... [key=value ...]``.

Examples::

    python -m seglight.export ckpt_path=best.ckpt out=model.pt               # TorchScript
    python -m seglight.export ckpt_path=best.ckpt out=model.onnx format=onnx
    python -m seglight.export ckpt_path=best.ckpt out=lamin.zip format=bioimageio \\
        test_image=raw/cell_01.tiff authors="Ada Lovelace,Alan Turing" license=CC-BY-4.0
    python -m seglight.export --help                                          # every option

Every key is in ``conf/export.yaml``; the work is :func:`seglight.export.export_checkpoint`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from seglight.cli import hydra_entry
from seglight.errors import ConfigError

#: ``format=bioimageio`` settings (null in the config: the function's default).
PACKAGE_KEYS = ("test_image", "channel", "name", "description", "authors", "license", "cite",
                "tags", "preprocessing", "allow_inexact")
#: Settings whose value is free text, taken literally from the command line.
TEXT_KEYS = ("name", "description", "authors", "license", "cite", "tags")
USAGE = "python -m seglight.export ckpt_path=best.ckpt out=model.pt (see --help)"


def _names(key: str, value: Any) -> list[str]:
    """``"a, b"`` or a list as a list of names."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if OmegaConf.is_list(value) or isinstance(value, list):
        return [str(v) for v in value]
    raise ConfigError(f"{key}={value}: a comma-separated text or a list")


def _citations(value: Any) -> list[dict]:
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            value = None
    else:
        value = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
    if not isinstance(value, list) or not all(isinstance(c, dict) and "text" in c
                                              for c in value):
        raise ConfigError('cite: a list of {"text": ..., "doi": ...} (or "url"), e.g. '
                          """cite='[{"text": "Our paper (2027)", "doi": "10.1234/abcd"}]'""")
    return value


def package_arguments(cfg: DictConfig) -> dict[str, Any]:
    """The ``format=bioimageio`` settings given (not null), as :func:`export_package` takes
    them."""
    args = {k: cfg[k] for k in PACKAGE_KEYS if cfg.get(k) is not None}
    for key in ("authors", "tags"):
        if key in args:
            args[key] = _names(key, args[key])
    if "cite" in args:
        args["cite"] = _citations(args["cite"])
    for key in ("name", "description", "license"):
        if key in args:
            args[key] = str(args[key])
    return args


def export(cfg: DictConfig) -> Path:
    """Export as the config says; return the written path.

    Raises:
        ConfigError: a missing or bad setting (one line).
    """
    from seglight.export.files import export_checkpoint

    for key in ("ckpt_path", "out"):
        if OmegaConf.is_missing(cfg, key) or not cfg[key]:
            raise ConfigError(f"{key}= is missing: {USAGE}")
    window = cfg.window_zyx
    if window is not None:
        if not OmegaConf.is_list(window) or len(window) != 3:
            raise ConfigError(f"window_zyx={window}: three sizes [z,y,x]")
        window = [int(w) for w in window]
    return export_checkpoint(str(cfg.ckpt_path), str(cfg.out), str(cfg.format), window,
                             **package_arguments(cfg))


@hydra_entry("export", text_keys=TEXT_KEYS)
def main(cfg: DictConfig) -> Path:
    path = export(cfg)
    print(f"exported {path}", flush=True)
    return path


if __name__ == "__main__":
    main()
