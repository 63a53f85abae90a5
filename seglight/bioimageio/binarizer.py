"""A bioimage.io model package as a :class:`~seglight.binarizer.Binarizer`.

:class:`PackageBinarizer` runs any local 3D package (a ``.zip`` or a folder with its
``rdf.yaml``; nothing is downloaded) the way the package says:

1. the package's own preprocessing, by ``bioimageio.core``, on the whole image (its
   statistics are the image's, not a tile's);
2. tiles by the package's size rule: each input window is a valid size
   (``min + n*step``, or the fixed size), the output of each window is the input size plus
   the declared offset (an unpadded network's halo) minus the declared halo on each side,
   and the image is mirrored where a window reaches past it; the output tiles abut, so every
   voxel comes from exactly one window, as in one whole-image pass of an unpadded network;
3. the package's weights (TorchScript, ONNX, ... as ``bioimageio.core`` picks, or
   ``weights_format``) and its postprocessing, per window.

The first output channel is the foreground probability; the threshold is the package's
``config.seglight.threshold`` (a seglight export) or 0.5. A seglight export made with
``preprocessing=none`` carries its normalization recipe in ``config.seglight.normalization``
instead of spec operations; it is applied first (seglight's own code, the exact recipe).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seglight.binarizer import Record, no_record
from seglight.bioimageio import require_bioimageio
from seglight.errors import ConfigError, SeglightError

#: Default largest input window (voxels per axis, ZYX) when the image is larger.
DEFAULT_WINDOW_ZYX = (64, 256, 256)


@dataclass(frozen=True)
class _Axis:
    """One spatial axis of a package: input sizes, output offset and halo."""

    min: int
    step: int  # 0: a fixed size
    offset: int  # output size = input size + offset
    halo: int  # output voxels to drop on each side

    def window(self, at_least: int) -> int:
        if self.step == 0:
            return self.min
        return self.min + max(0, math.ceil((at_least - self.min) / self.step)) * self.step

    def context(self) -> int:
        """Input voxels before the first kept output voxel."""
        return -self.offset // 2 + self.halo

    def tile(self, window: int) -> int:
        return window + self.offset - 2 * self.halo


def _package_error(package: Path, what: str) -> ConfigError:
    return ConfigError(f"model_package={package}: {what}")


class PackageBinarizer:
    """Binarize with a bioimage.io model package.

    Args:
        package: a package ``.zip``, its folder, or its ``rdf.yaml`` (local only).
        threshold: the mask threshold (default: ``config.seglight.threshold``, else 0.5).
        device: ``cpu``, ``cuda``, ``cuda:1`` or ``auto``.
        weights_format: ``torchscript``, ``onnx``, ... (default: ``bioimageio.core``'s pick).
        window_zyx: the largest input window (default ``(64, 256, 256)``), rounded to a valid
            size; a smaller image gets one window that covers it.

    Raises:
        ConfigError: the package is missing, not a model, or not a single-channel 3D model.
    """

    def __init__(
        self, package: str | Path, threshold: float | None = None, device: str = "cpu",
        weights_format: str | None = None, window_zyx: Sequence[int] | None = None,
    ):
        require_bioimageio()
        from bioimageio.core import create_prediction_pipeline
        from bioimageio.spec import load_model_description
        from bioimageio.spec.model import v0_5

        from seglight.predict.network import resolve_device

        self.package = Path(package)
        if not self.package.exists():
            raise _package_error(self.package, "no such file or folder")
        try:
            descr = load_model_description(self.package, perform_io_checks=False,
                                           format_version="latest")
        except Exception as err:  # noqa: BLE001 - pydantic/zip/yaml raise many types
            raise _package_error(self.package, "not a bioimage.io model package ("
                                 + str(err).splitlines()[0][:200] + ")") from None
        if not isinstance(descr, v0_5.ModelDescr):
            raise _package_error(self.package, "not a bioimage.io model (format 0.5)")
        self.descr = descr
        self.input_id, self.in_dims = self._single_3d(descr.inputs[0], "input")
        self.output_id, self.out_dims = self._single_3d(descr.outputs[0], "output")
        self.axes = self._size_rule(descr)
        seglight_cfg = (descr.config.model_dump().get("seglight") or {}) if descr.config else {}
        self.threshold = float(threshold if threshold is not None
                               else seglight_cfg.get("threshold", 0.5))
        # A seglight export with preprocessing=none expects images normalized by its recipe.
        self.normalize = None
        if seglight_cfg.get("preprocessing") == "none" and seglight_cfg.get("normalization"):
            from seglight.normalization import Normalizer

            self.normalize = Normalizer(seglight_cfg["normalization"])
        self.window_zyx = tuple(window_zyx or DEFAULT_WINDOW_ZYX)
        device_name = str(resolve_device(device))
        self.pipeline = create_prediction_pipeline(
            descr, devices=[device_name], weights_format=weights_format)

    # -- the package's description ---------------------------------------------------------

    def _single_3d(self, tensor: Any, what: str) -> tuple[Any, list[str]]:
        from bioimageio.spec.model import v0_5

        dims = [str(a.id) for a in tensor.axes]
        if sorted(d for d in dims if d in "zyx") != ["x", "y", "z"] or any(
                not isinstance(a, (v0_5.BatchAxis, v0_5.ChannelAxis)) and str(a.id) not in "zyx"
                for a in tensor.axes):
            raise _package_error(self.package, f"its {what} has axes {dims}; a 3D model with "
                                 "axes z, y, x (and batch, channel) is needed")
        for a in tensor.axes:
            if isinstance(a, v0_5.ChannelAxis) and a.size != 1 and what == "input":
                raise _package_error(self.package, f"its input has {a.size} channels; one "
                                     "channel (one structure) is needed")
        return tensor.id, dims

    def _size_rule(self, descr: Any) -> tuple[_Axis, _Axis, _Axis]:
        from bioimageio.spec.model import v0_5

        inputs = {str(a.id): a for a in descr.inputs[0].axes}
        outputs = {str(a.id): a for a in descr.outputs[0].axes}
        rule = []
        for name in "zyx":
            size, out = inputs[name].size, outputs[name]
            if isinstance(size, v0_5.ParameterizedSize):
                lo, step = size.min, size.step
            elif isinstance(size, int):
                lo, step = size, 0
            else:
                raise _package_error(self.package, f"input axis {name} is sized relative to "
                                     "another axis; seglight tiles only independent sizes")
            out_size = out.size
            if isinstance(out_size, v0_5.SizeReference):
                if str(out_size.axis_id) != name or float(out.scale) != float(inputs[name].scale):
                    raise _package_error(self.package, f"output axis {name} is not the "
                                         f"input's {name} (another axis or scale)")
                offset = int(out_size.offset)
            elif isinstance(out_size, int) and step == 0:
                offset = out_size - lo
            else:
                raise _package_error(self.package, f"output axis {name}: size {out_size} "
                                     "does not follow the input size")
            halo = int(getattr(out, "halo", 0) or 0)
            if offset > 0 or (-offset) % 2:
                raise _package_error(self.package, f"output axis {name}: offset {offset} is "
                                     "not a centred crop")
            rule.append(_Axis(lo, step, offset, halo))
        return tuple(rule)  # type: ignore[return-value]

    # -- prediction -------------------------------------------------------------------------

    def _as_tensor(self, volume_zyx: np.ndarray, dims: Sequence[str]) -> np.ndarray:
        """A ZYX volume with the package's axes order (batch and channel of size 1)."""
        order = [d for d in dims if d in "zyx"]
        data = np.transpose(volume_zyx, ["zyx".index(d) for d in order])
        shape = iter(data.shape)
        return data.reshape([next(shape) if d in "zyx" else 1 for d in dims])

    def _from_tensor(self, tensor: Any) -> np.ndarray:
        """The first channel of a package output as ZYX."""
        array = tensor.data
        index = {d: 0 for d in array.dims if d not in ("z", "y", "x")}
        return np.asarray(array.isel(index).transpose("z", "y", "x").values)

    def preprocess(self, image_zyx: np.ndarray) -> np.ndarray:
        """The image after the package's preprocessing (its statistics: the whole image)."""
        from bioimageio.core import Sample
        from bioimageio.core.tensor import Tensor

        image = np.asarray(image_zyx, dtype=np.float32)
        if self.normalize is not None:
            image = self.normalize(image)
        tensor = self._as_tensor(image, self.in_dims)
        # Not create_sample_for_model: it demands a valid window size of the whole image.
        sample = Sample(members={self.input_id: Tensor(tensor, dims=self.in_dims)}, stat={},
                        id=None)
        self.pipeline.apply_preprocessing(sample)
        return np.asarray(sample.members[self.input_id].data.transpose(*self.in_dims).values)

    def _predict_window(self, window: np.ndarray) -> np.ndarray:
        from bioimageio.core import Sample
        from bioimageio.core.tensor import Tensor

        sample = Sample(members={self.input_id: Tensor(window, dims=self.in_dims)}, stat={},
                        id=None)
        out = self.pipeline.predict_sample_without_blocking(
            sample, skip_preprocessing=True, skip_input_padding=True, skip_output_cropping=True)
        return self._from_tensor(out.members[self.output_id])

    def predict_proba(self, image_zyx: np.ndarray, record: Record = no_record) -> np.ndarray:
        """Foreground probabilities, float32 ZYX, the shape of ``image_zyx``."""
        image = np.asarray(image_zyx)
        if image.ndim != 3:
            raise SeglightError(f"image of shape {image.shape}: a ZYX (3D) image is needed")
        normalized = self.preprocess(image)
        zyx_dims = [d for d in self.in_dims if d in "zyx"]
        normalized_zyx = np.transpose(np.squeeze(normalized, axis=tuple(
            i for i, d in enumerate(self.in_dims) if d not in "zyx")),
            [zyx_dims.index(d) for d in "zyx"])
        record("normalized", normalized_zyx)
        windows, tiles = [], []
        for axis, size, cap in zip(self.axes, image.shape, self.window_zyx, strict=True):
            window = axis.window(min(size - axis.offset + 2 * axis.halo, cap))
            tile = axis.tile(window)
            if tile < 1:
                raise ConfigError(f"model_package={self.package}: window {window} leaves no "
                                  "output; pass a larger window_zyx")
            windows.append(window)
            tiles.append(tile)
        n_tiles = [math.ceil(s / t) for s, t in zip(image.shape, tiles, strict=True)]
        lo = [a.context() for a in self.axes]
        padded_size = [n * t + w - t for n, t, w in zip(n_tiles, tiles, windows, strict=True)]
        pad = [(c, p - s - c) for c, p, s in zip(lo, padded_size, image.shape, strict=True)]
        source = np.pad(normalized_zyx, pad, mode="symmetric")
        proba = np.zeros(image.shape, np.float32)
        for index in itertools.product(*(range(n) for n in n_tiles)):
            start = [i * t for i, t in zip(index, tiles, strict=True)]
            block = source[tuple(slice(s, s + w) for s, w in zip(start, windows, strict=True))]
            out = self._predict_window(self._as_tensor(block, self.in_dims))
            keep = tuple(slice(a.halo, a.halo + t) for a, t in zip(self.axes, tiles, strict=True))
            out = out[keep]
            end = [min(s + t, n) for s, t, n in zip(start, tiles, image.shape, strict=True)]
            proba[tuple(slice(s, e) for s, e in zip(start, end, strict=True))] = out[
                tuple(slice(0, e - s) for s, e in zip(start, end, strict=True))]
        return proba
