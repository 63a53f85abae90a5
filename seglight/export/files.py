"""A checkpoint as a TorchScript or ONNX file, and the one ONNX writer of every format.

The exported model takes a normalized ``(B, 1, Z, Y, X)`` float32 batch and returns the
foreground probability ``(B, Z', Y', X')`` of its centred output block. What it needs around
it travels with it as JSON (TorchScript: the ``seglight.json`` extra file; ONNX: the
``seglight`` metadata entry): the normalization recipe, the threshold, the training patch and
voxel size, and the window it was exported with and its output size. The module is the one a
bioimage.io package carries (:mod:`seglight.export.network`) without its channel axis, so
one file serves every valid input size where the trace allows it (the metadata's
``dynamic_zyx`` says whether it does).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from seglight.config import to_plain
from seglight.errors import ConfigError

FORMATS = ("torchscript", "onnx", "bioimageio")
ONNX_OPSET = 17


class _FirstChannel(nn.Module):
    """A ``(B, 1, Z, Y, X)`` probability module as ``(B, Z, Y, X)`` (the plain formats)."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)[:, 0]


def write_onnx(module: nn.Module, example: torch.Tensor, path: str | Path, *, input_name: str,
               output_name: str, output_rank: int, dynamic_zyx: bool,
               meta: dict | None = None) -> None:
    """Write ``module`` (an ``nn.Module`` or a traced one) as ONNX, opset 17.

    Args:
        module: maps ``(B, 1, Z, Y, X)`` to an output of ``output_rank`` dimensions whose
            last three are spatial.
        example: an input of a valid size.
        path: the file to write.
        input_name, output_name: the graph's tensor names.
        output_rank: 4 (``(B, Z, Y, X)``) or 5 (``(B, 1, Z, Y, X)``).
        dynamic_zyx: the spatial sizes are left free (the batch size always is).
        meta: JSON-able metadata stored as the ``seglight`` entry.

    Raises:
        ConfigError: the ``onnx`` package is not installed.
    """
    try:
        import onnx
    except ImportError:
        raise ConfigError(
            "format=onnx needs the onnx package: pip install 'seglight[export]'"
        ) from None
    spatial_in = {2: "z", 3: "y", 4: "x"} if dynamic_zyx else {}
    spatial_out = ({output_rank - 3 + i: a for i, a in enumerate("zyx")} if dynamic_zyx
                   else {})
    with torch.no_grad(), warnings.catch_warnings():
        # Not actionable: a traced module has no Python signature to read; instance norm
        # without running statistics computes them per input, in eval mode too, as exported.
        warnings.filterwarnings("ignore", message="no signature found")
        warnings.filterwarnings("ignore", message=".*instance_norm.*")
        torch.onnx.export(
            module, (example,), str(path), input_names=[input_name], output_names=[output_name],
            dynamic_axes={input_name: {0: "batch", **spatial_in},
                          output_name: {0: "batch", **spatial_out}},
            dynamo=False, opset_version=ONNX_OPSET,
        )
    if meta is not None:
        proto = onnx.load(str(path))
        entry = proto.metadata_props.add()
        entry.key, entry.value = "seglight", json.dumps(meta)
        onnx.save(proto, str(path))


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
            :func:`seglight.export.package.export_package` (``test_image``, ``name``,
            ``authors``, ``license``, ``cite``, ``preprocessing``, ``allow_inexact``, ...).

    Returns:
        The written path.

    Raises:
        ConfigError: an unknown format, package arguments for another format, or ONNX
            without the ``onnx`` package.
    """
    if format not in FORMATS:
        raise ConfigError(f"format={format}; use one of {list(FORMATS)}")
    if format == "bioimageio":
        from seglight.export.package import export_package

        return export_package(ckpt_path, out, window_zyx=window_zyx, **package_args)
    if package_args:
        raise ConfigError(f"{sorted(package_args)}: only with format=bioimageio")
    from seglight.export.network import size_rule, trace_probability
    from seglight.io.atomic import atomic_path
    from seglight.predict.network import load_module

    module = load_module(ckpt_path)
    net = module.net.eval()
    hp = {k: to_plain(v) for k, v in module.hparams.items()}
    window = net.valid_input_shape(window_zyx or hp.get("patch_zyx") or (16, 64, 64))
    traced, dynamic = trace_probability(net, window, size_rule(net))
    meta = {
        "normalization": hp.get("normalization") or [],
        "threshold": float(hp.get("threshold", 0.5)),
        "patch_zyx": hp.get("patch_zyx"),
        "spacing_um": hp.get("spacing_um"),
        "window_zyx": list(window),
        "output_zyx": list(net.output_shape(window)),
        "dynamic_zyx": dynamic,
        "input": "normalized float32 (B, 1, Z, Y, X)",
        "output": "foreground probability (B, Z', Y', X'), centred in the input",
    }
    example = torch.zeros(1, 1, *window)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), atomic_path(out, suffix=out.suffix) as tmp:
        scripted = torch.jit.trace(_FirstChannel(traced).eval(), example, check_trace=False)
        if format == "torchscript":
            torch.jit.save(scripted, str(tmp), _extra_files={"seglight.json": json.dumps(meta)})
        else:
            write_onnx(scripted, example, tmp, input_name="image", output_name="probability",
                       output_rank=4, dynamic_zyx=dynamic, meta=meta)
    return out


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
