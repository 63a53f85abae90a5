"""Export a trained network for use outside seglight: TorchScript, ONNX, or a bioimage.io
model package (``format=bioimageio``, see :mod:`seglight.bioimageio.export` and
docs/bioimageio.md).

The exported model takes a normalized ``(B, 1, Z, Y, X)`` float32 batch and returns the
foreground probability ``(B, Z', Y', X')`` of its centred output block. What it needs around
it travels with it as JSON (TorchScript: the ``seglight.json`` extra file; ONNX: the
``seglight`` metadata entry): the normalization recipe, the threshold, the training patch and
voxel size, and the window it was exported with and its output size.

Command line::

    python -m seglight.predict.export ckpt_path=best.ckpt out=model.pt \\
        [format=onnx] [window_zyx=[32,128,128]]
    python -m seglight.predict.export ckpt_path=best.ckpt format=bioimageio out=lamin.zip \
        [test_image=raw/cell_01.tiff] [name="Lamin B1 U-Net"] [authors="Ada L.,Alan T."] \
        [license=CC-BY-4.0] [preprocessing=auto|none]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from seglight.config import to_plain
from seglight.errors import ConfigError, SeglightError, exit_on_user_error
from seglight.networks.base import SegmentationNetwork
from seglight.predict.network import load_module

FORMATS = ("torchscript", "onnx", "bioimageio")
#: ``format=bioimageio`` arguments on the command line.
PACKAGE_KEYS = ("test_image", "channel", "name", "description", "authors", "license", "cite",
                "tags", "preprocessing")



class ForegroundProbability(nn.Module):
    """A network's main head as a foreground probability (what the exported file computes)."""

    def __init__(self, net: SegmentationNetwork):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net.predict_logits(x).float(), dim=1)[:, 1]


def export_checkpoint(
    ckpt_path: str | Path, out: str | Path, format: str = "torchscript",
    window_zyx: Sequence[int] | None = None, **package_args,
) -> Path:
    """Write the checkpoint's network as TorchScript (``.pt``), ONNX (``.onnx``) or a
    bioimage.io model package (``.zip`` or folder).

    Args:
        ckpt_path: a checkpoint from ``python -m seglight.train``.
        out: the file to write.
        format: ``torchscript``, ``onnx`` (needs the ``onnx`` package: ``seglight[export]``)
            or ``bioimageio`` (needs ``seglight[bioimageio]``).
        window_zyx: the example input size (rounded up to a valid one); default the training
            patch. Batch and spatial sizes stay dynamic where the network allows it.
        **package_args: ``format=bioimageio`` only: the arguments of
            :func:`seglight.bioimageio.export.export_package` (``test_image``, ``name``,
            ``authors``, ``license``, ``cite``, ``preprocessing``, ...).

    Returns:
        The written path.

    Raises:
        ConfigError: an unknown format, or ONNX without the ``onnx`` package.
    """
    if format not in FORMATS:
        raise ConfigError(f"format={format}; use one of {list(FORMATS)}")
    if format == "bioimageio":
        from seglight.bioimageio.export import export_package

        return export_package(ckpt_path, out, window_zyx=window_zyx, **package_args)
    module = load_module(ckpt_path)
    net: SegmentationNetwork = module.net.eval()
    hp = {k: to_plain(v) for k, v in module.hparams.items()}
    window = net.valid_input_shape(window_zyx or hp.get("patch_zyx") or (16, 64, 64))
    meta = {
        "normalization": hp.get("normalization") or [],
        "threshold": float(hp.get("threshold", 0.5)),
        "patch_zyx": hp.get("patch_zyx"),
        "spacing_um": hp.get("spacing_um"),
        "window_zyx": list(window),
        "output_zyx": list(net.output_shape(window)),
        "input": "normalized float32 (B, 1, Z, Y, X)",
        "output": "foreground probability (B, Z', Y', X'), centred in the input",
    }
    model = ForegroundProbability(net).eval()
    example = torch.zeros(1, 1, *window)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from seglight.io.atomic import atomic_path

    with torch.no_grad(), atomic_path(out, suffix=out.suffix) as tmp:
        if format == "torchscript":
            traced = torch.jit.trace(model, example, check_trace=False)
            torch.jit.save(traced, str(tmp), _extra_files={"seglight.json": json.dumps(meta)})
        else:
            _export_onnx(model, example, tmp, meta)
    return out


def _export_onnx(model: nn.Module, example: torch.Tensor, path: Path, meta: dict) -> None:
    try:
        import onnx
    except ImportError:
        raise ConfigError(
            "format=onnx needs the onnx package: pip install 'seglight[export]'"
        ) from None
    torch.onnx.export(
        model, (example,), str(path), input_names=["image"], output_names=["probability"],
        dynamic_axes={"image": {0: "batch"}, "probability": {0: "batch"}}, dynamo=False,
        opset_version=17,
    )
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "seglight", json.dumps(meta)
    onnx.save(proto, str(path))


def load_metadata(path: str | Path) -> dict:
    """The seglight metadata stored in an exported TorchScript or ONNX file."""
    path = Path(path)
    if path.suffix == ".onnx":
        import onnx

        props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        return json.loads(props["seglight"])
    files = {"seglight.json": ""}
    torch.jit.load(str(path), _extra_files=files, map_location="cpu")
    return json.loads(files["seglight.json"])


@exit_on_user_error
def main(argv: Sequence[str] | None = None) -> Path:
    """``key=value`` arguments: ``ckpt_path``, ``out``, ``format``, ``window_zyx``, and for
    ``format=bioimageio`` the package fields (``authors`` comma-separated, ``cite`` as JSON)."""
    args = {}
    for item in argv if argv is not None else sys.argv[1:]:
        key, sep, value = item.partition("=")
        if not sep or key not in ("ckpt_path", "out", "format", "window_zyx", *PACKAGE_KEYS):
            raise SeglightError(
                f"argument {item!r}: use ckpt_path=<.ckpt> out=<file> "
                "[format=torchscript|onnx|bioimageio] [window_zyx=[z,y,x]]; bioimageio also "
                f"takes {', '.join(PACKAGE_KEYS)}"
            )
        args[key] = value
    if "ckpt_path" not in args or "out" not in args:
        raise SeglightError("ckpt_path=<.ckpt> and out=<file> are required")
    window = json.loads(args["window_zyx"]) if "window_zyx" in args else None
    package_args = {k: args[k] for k in PACKAGE_KEYS if k in args}
    if package_args and args.get("format") != "bioimageio":
        raise SeglightError(f"{sorted(package_args)}: only with format=bioimageio")
    if "authors" in package_args:
        package_args["authors"] = [a.strip() for a in package_args["authors"].split(",")]
    if "tags" in package_args:
        package_args["tags"] = [t.strip() for t in package_args["tags"].split(",")]
    if str(package_args.get("channel", "")).isdigit():
        package_args["channel"] = int(package_args["channel"])
    if "cite" in package_args:
        package_args["cite"] = json.loads(package_args["cite"])
    path = export_checkpoint(args["ckpt_path"], args["out"], args.get("format", "torchscript"),
                             window, **package_args)
    print(f"exported {path}")
    return path


if __name__ == "__main__":
    main()
