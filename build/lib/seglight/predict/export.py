"""Export a trained network for use outside seglight: TorchScript or ONNX.

The exported model takes a normalized ``(B, 1, Z, Y, X)`` float32 batch and returns the
foreground probability ``(B, Z', Y', X')`` of its centred output block. What it needs around
it travels with it as JSON (TorchScript: the ``seglight.json`` extra file; ONNX: the
``seglight`` metadata entry): the normalization recipe, the threshold, the training patch and
voxel size, and the window it was exported with and its output size.

Command line::

    python -m seglight.predict.export ckpt_path=best.ckpt out=model.pt \\
        [format=onnx] [window_zyx=[32,128,128]]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from seglight.errors import ConfigError, SeglightError, exit_on_user_error
from seglight.networks.base import SegmentationNetwork
from seglight.predict.network import load_module

FORMATS = ("torchscript", "onnx")


def _plain(value):
    from omegaconf import OmegaConf

    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


class ForegroundProbability(nn.Module):
    """A network's main head as a foreground probability (what the exported file computes)."""

    def __init__(self, net: SegmentationNetwork):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net.predict_logits(x).float(), dim=1)[:, 1]


def export_checkpoint(
    ckpt_path: str | Path, out: str | Path, format: str = "torchscript",
    window_zyx: Sequence[int] | None = None,
) -> Path:
    """Write the checkpoint's network as TorchScript (``.pt``) or ONNX (``.onnx``).

    Args:
        ckpt_path: a checkpoint from ``python -m seglight.train``.
        out: the file to write.
        format: ``torchscript`` or ``onnx`` (needs the ``onnx`` package: ``seglight[export]``).
        window_zyx: the example input size (rounded up to a valid one); default the training
            patch. Batch and spatial sizes stay dynamic where the network allows it.

    Returns:
        The written path.

    Raises:
        ConfigError: an unknown format, or ONNX without the ``onnx`` package.
    """
    if format not in FORMATS:
        raise ConfigError(f"format={format}; use one of {list(FORMATS)}")
    module = load_module(ckpt_path)
    net: SegmentationNetwork = module.net.eval()
    hp = {k: _plain(v) for k, v in module.hparams.items()}
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
    """``key=value`` arguments: ``ckpt_path``, ``out``, ``format``, ``window_zyx``."""
    args = {}
    for item in argv if argv is not None else sys.argv[1:]:
        key, sep, value = item.partition("=")
        if not sep or key not in ("ckpt_path", "out", "format", "window_zyx"):
            raise SeglightError(
                f"argument {item!r}: use ckpt_path=<.ckpt> out=<file> [format=torchscript|onnx] "
                "[window_zyx=[z,y,x]]"
            )
        args[key] = value
    if "ckpt_path" not in args or "out" not in args:
        raise SeglightError("ckpt_path=<.ckpt> and out=<file> are required")
    window = json.loads(args["window_zyx"]) if "window_zyx" in args else None
    path = export_checkpoint(args["ckpt_path"], args["out"], args.get("format", "torchscript"),
                             window)
    print(f"exported {path}")
    return path


if __name__ == "__main__":
    main()
