"""A trained network as a :class:`~seglight.binarizer.Binarizer`.

A checkpoint written by :class:`~seglight.training.module.SegmentationModule` carries the network
config, the normalization recipe, the threshold, the training patch size and voxel size, so
``NetworkBinarizer.from_checkpoint(path)`` needs nothing else: it normalizes the image as
training did, optionally resizes it, runs the sliding window and undoes the resize.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from seglight.binarizer import Record, no_record
from seglight.errors import ConfigError, SeglightError
from seglight.io.checkpoint import safe_checkpoint_loading
from seglight.io.image import far_axes
from seglight.networks.base import SegmentationNetwork
from seglight.normalization import Normalizer
from seglight.predict.inference import SlidingWindowInferer

log = logging.getLogger(__name__)


def load_module(ckpt_path: str | Path, map_location: str | torch.device = "cpu"):
    """Rebuild the :class:`~seglight.training.module.SegmentationModule` stored in a checkpoint.

    Raises:
        SeglightError: the file is missing or is not a seglight checkpoint, or its network
            class cannot be imported (the line says so).
    """
    from seglight.training.module import SegmentationModule

    path = Path(ckpt_path)
    if not path.is_file():
        raise SeglightError(f"ckpt_path={path}: no such checkpoint file")
    with safe_checkpoint_loading(path):  # a refused pickle: one line, nothing run
        try:
            return SegmentationModule.load_from_checkpoint(path, map_location=map_location,
                                                           weights_only=True)
        except pickle.UnpicklingError:
            raise
        except SeglightError as err:  # e.g. its network class cannot be imported
            raise SeglightError(f"ckpt_path={path}: {err}") from None
        except Exception as err:  # noqa: BLE001 - torch/lightning raise many types for bad files
            msg = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise SeglightError(
                f"ckpt_path={path}: not a seglight checkpoint ({msg}); pass a .ckpt written by "
                "python -m seglight.train"
            ) from None


class NetworkBinarizer:
    """Normalization + resize + sliding-window inference of a trained network.

    Args:
        net: the network (eval mode is set here).
        normalization: the normalization recipe the network was trained with.
        threshold: foreground probability threshold of the mask.
        resize_zyx: scale factors applied to the image before inference (e.g. ``[1, 0.5,
            0.5]`` to halve xy), undone on the probabilities; ``None`` for none.
        train_patch_zyx: the training patch, the smallest automatic window.
        spacing_um: the training data's voxel size, for warnings only.
        **inferer: arguments of :class:`~seglight.predict.inference.SlidingWindowInferer`
            (``window_zyx``, ``overlap``, ``batch_size``, ``flip_tta``, ``precision``,
            ``memory_gib``, ``stitch_on_device``, ``progress``).
    """

    def __init__(
        self,
        net: SegmentationNetwork,
        normalization: Sequence[dict] = (),
        threshold: float = 0.5,
        resize_zyx: Sequence[float] | None = None,
        train_patch_zyx: Sequence[int] | None = None,
        spacing_um: Sequence[float] | None = None,
        **inferer: Any,
    ):
        self.net = net.eval()
        self.normalize = Normalizer(list(normalization))
        self.threshold = float(threshold)
        self.resize_zyx = _check_resize(resize_zyx)
        self.spacing_um = tuple(spacing_um) if spacing_um else None
        inferer.setdefault("min_window_zyx", train_patch_zyx)
        self.inferer = SlidingWindowInferer(net, **inferer)

    @classmethod
    def from_checkpoint(
        cls, ckpt_path: str | Path, threshold: float | None = None, device: str = "cpu",
        **kwargs: Any,
    ) -> NetworkBinarizer:
        """Build from a checkpoint alone.

        Args:
            ckpt_path: a ``.ckpt`` from ``python -m seglight.train``.
            threshold: override the checkpoint's threshold.
            device: where the network runs (``cpu``, ``cuda``, ``cuda:1``, ``auto``).
            **kwargs: the other arguments of :class:`NetworkBinarizer`.
        """
        module = load_module(ckpt_path)
        hp = module.hparams
        binarizer = cls(
            module.net,
            normalization=hp.get("normalization") or (),
            threshold=hp.get("threshold", 0.5) if threshold is None else threshold,
            train_patch_zyx=hp.get("patch_zyx"),
            spacing_um=hp.get("spacing_um"),
            **kwargs,
        )
        binarizer.net.to(resolve_device(device))
        return binarizer

    def predict_proba(self, image_zyx: np.ndarray, record: Record = no_record,
                      out: np.ndarray | None = None) -> np.ndarray:
        """Foreground probabilities, float32 ZYX, the shape of ``image_zyx``.

        Args:
            image_zyx: the raw image, shape ``(Z, Y, X)``.
            record: receives ``("normalized", array)`` (and ``("resized", ...)``).
            out: optional float32 array (e.g. a memory map) to write the result into.
        """
        image = np.asarray(image_zyx)
        if image.ndim != 3:
            raise SeglightError(f"image of shape {image.shape}: a ZYX (3D) image is needed")
        normalized = self.normalize(image)
        record("normalized", normalized)
        if self.resize_zyx is None:
            return self.inferer(normalized, out=out)
        resized = _resize(normalized, scale=self.resize_zyx)
        del normalized
        record("resized", resized)
        prob = self.inferer(resized)
        back = _resize(prob, size=image.shape)
        if out is None:
            return back
        out[...] = back
        return out

    def predict_proba_lazy(self, image_zyx, out: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Foreground probabilities of an image too large for memory, window by window.

        Args:
            image_zyx: a lazy (dask) ZYX array; only windows of it are read.
            out: float32 array for the result (a memory map).
            weights: float32 scratch array for the blending weights (a memory map).

        Raises:
            SeglightError: the normalization recipe or a resize needs the whole image.
        """
        from seglight.predict.lazy import NormalizedLazyImage, lazy_normalizer

        if self.resize_zyx is not None:
            raise SeglightError(
                f"resize_zyx={list(self.resize_zyx)} needs the whole image in memory, and this "
                "image is larger than max_in_memory_voxels; resize it beforehand"
            )
        normalize = lazy_normalizer(self.normalize.steps, image_zyx)
        return self.inferer(NormalizedLazyImage(image_zyx, normalize), out=out, weights=weights)

    def warn_spacing(self, spacing_um: Sequence[float | None], name: str) -> None:
        """Log a warning when an image's voxel size is far from the training data's."""
        if not self.spacing_um or self.resize_zyx is not None:
            return
        far = far_axes(spacing_um, self.spacing_um)
        if far:
            axis = far[0]
            log.warning(
                "%s: voxel size %s is %.3g um, the network was trained at %.3g um; "
                "consider resize_zyx to match", name, "zyx"[axis], spacing_um[axis],
                self.spacing_um[axis],
            )


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` -> the first CUDA GPU if any, else the CPU; anything else as given.

    Raises:
        ConfigError: a CUDA device was asked for and none is visible.
    """
    device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={device} but no CUDA GPU is visible; use device=cpu or auto")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device={device}: use cpu, cuda, cuda:<n> or auto") from None


def _check_resize(resize_zyx: Sequence[float] | None) -> tuple[float, float, float] | None:
    if resize_zyx is None:
        return None
    values = tuple(float(v) for v in resize_zyx)
    if len(values) != 3 or min(values) <= 0:
        raise ConfigError(f"resize_zyx={list(resize_zyx)} must be three positive factors [z, y, x]")
    return None if values == (1.0, 1.0, 1.0) else values  # type: ignore[return-value]


def _resize(volume: np.ndarray, scale: Sequence[float] | None = None,
            size: Sequence[int] | None = None) -> np.ndarray:
    """Trilinear resize of a ZYX float32 volume by ``scale`` factors or to ``size``."""
    x = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[None, None]
    if size is None:
        size = [max(1, round(s * f)) for s, f in zip(volume.shape, scale, strict=True)]
    out = F.interpolate(x, size=tuple(int(s) for s in size), mode="trilinear",
                        align_corners=False)
    return out[0, 0].numpy()
