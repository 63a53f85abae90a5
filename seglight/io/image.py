"""Reading microscopy images as ZYX arrays and writing OME-TIFF, on bioio.

Every image enters seglight through :func:`read_image` as a ``(Z, Y, X)`` numpy array with
its physical voxel size in micrometres (``spacing_um``, ZYX order, ``None`` where the file
does not say). Every image leaves through :func:`write_ome_tiff`, which keeps that voxel
size and writes atomically (temp file in the same folder, then rename), so a killed run
never leaves a half-written output behind.

An image too large for memory is read with ``read_image(..., lazy=True)``: the same checks
and metadata, with the voxels as a lazy (dask) array of which only the parts used are read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seglight.errors import SeglightError
from seglight.io.atomic import atomic_path

log = logging.getLogger(__name__)

Spacing = tuple[float | None, float | None, float | None]

#: File name endings seglight reads as images (lower case).
IMAGE_SUFFIXES = (".ome.tiff", ".ome.tif", ".tiff", ".tif", ".czi", ".ome.zarr", ".zarr")


@dataclass
class ImageZYX:
    """One 3D single-channel image.

    Attributes:
        data: the voxels, shape ``(Z, Y, X)``: a numpy array, or a lazy (dask) array when
            read with ``read_image(..., lazy=True)``.
        spacing_um: voxel size in micrometres, ZYX order; ``None`` where unknown.
        path: the file it came from, if any.
        channel: the channel index it was read from.
        channel_name: that channel's name in the file, if any.
        scene: the scene index it was read from.
        timepoint: the timepoint index it was read from.
    """

    data: np.ndarray
    spacing_um: Spacing = (None, None, None)
    path: Path | None = None
    channel: int = 0
    channel_name: str | None = None
    scene: int = 0
    timepoint: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.data.shape)  # type: ignore[return-value]

    @property
    def in_memory(self) -> bool:
        """Whether the voxels are a numpy array (not a lazy array read on use)."""
        return isinstance(self.data, np.ndarray)


def image_stem(path: str | Path) -> str:
    """File name without its image suffix: ``a/cell_01.ome.tif`` -> ``cell_01``."""
    name = Path(path).name
    lower = name.lower()
    for suffix in IMAGE_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def is_image_file(path: str | Path) -> bool:
    """Whether ``path`` has a suffix seglight reads as an image."""
    return Path(path).name.lower().endswith(IMAGE_SUFFIXES)


def _reader_for(path: Path):
    """Pick the bioio reader plugin by content, so bioio does not try (and log) each one."""
    lower = path.name.lower()
    if lower.endswith((".tif", ".tiff")):
        import tifffile

        try:
            with tifffile.TiffFile(path) as tif:
                is_ome = tif.is_ome
        except Exception as err:  # noqa: BLE001 - any parse failure means "not a TIFF we can read"
            raise SeglightError(
                f"{path}: cannot read this file as TIFF ({type(err).__name__}: {err}); "
                "check that it is a complete, uncorrupted TIFF"
            ) from None
        if is_ome:
            from bioio_ome_tiff import Reader
        else:
            from bioio_tifffile import Reader
        return Reader
    return None  # let bioio choose (CZI, Zarr, ...)


def open_image(path: str | Path):
    """Open ``path`` lazily as a ``bioio.BioImage``.

    Raises:
        SeglightError: the file does not exist or no installed reader can read it.
    """
    from bioio import BioImage

    path = Path(path)
    if not path.exists():
        raise SeglightError(f"{path}: no such file; check the path")
    try:
        return BioImage(path, reader=_reader_for(path))
    except SeglightError:
        raise
    except Exception as err:  # noqa: BLE001 - bioio raises many types for unreadable files
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SeglightError(f"{path}: cannot read this image: {msg}") from None


def _spacing_of(img) -> Spacing:
    try:
        pps = img.physical_pixel_sizes
    except Exception:  # noqa: BLE001 - missing metadata is not an error
        return (None, None, None)
    return tuple(float(v) if v else None for v in (pps.Z, pps.Y, pps.X))  # type: ignore[return-value]


#: Voxel sizes within this factor of each other count as the same (a network trained at one
#: predicts the other without resizing).
SPACING_TOLERANCE = 1.25


def far_axes(spacing_um: Spacing, reference_um: Spacing,
             factor: float = SPACING_TOLERANCE) -> list[int]:
    """The axes (0 = z) whose voxel sizes differ by more than ``factor`` either way; an axis
    unknown in either is never far."""
    return [axis for axis, (have, ref) in enumerate(zip(spacing_um, reference_um, strict=True))
            if have and ref and not 1 / factor <= have / ref <= factor]


def resolve_channel(img, channel: int | str, path: Path) -> tuple[int, str | None]:
    """Turn a channel index or name into an index, with a clear error when it is not there."""
    n_channels = int(img.dims.C)
    names = [str(n) for n in (img.channel_names or [])]
    if isinstance(channel, str) and not channel.lstrip("-").isdigit():
        if channel not in names:
            raise SeglightError(
                f"{path}: no channel named {channel!r}; the channels are {names}; "
                "pass channel=<index or one of those names>"
            )
        index = names.index(channel)
    else:
        index = int(channel)
        if not 0 <= index < n_channels:
            raise SeglightError(
                f"{path}: channel {index} is out of range; the image has {n_channels} "
                f"channel(s) {names}; pass channel=0..{n_channels - 1}"
            )
    return index, (names[index] if index < len(names) else None)


def read_image(
    path: str | Path,
    channel: int | str = 0,
    scene: int = 0,
    timepoint: int = 0,
    require_3d: bool = True,
    dtype: np.dtype | type | None = None,
    lazy: bool = False,
) -> ImageZYX:
    """Read one channel of one scene and timepoint as a ZYX array.

    Args:
        path: TIFF, OME-TIFF, CZI, or any format an installed bioio plugin reads.
        channel: channel index, or channel name as stored in the file.
        scene: scene index (multi-position files).
        timepoint: timepoint index.
        require_3d: raise when the image has a single z-slice.
        dtype: cast the voxels to this type (default: keep the file's type).
        lazy: return the voxels as a lazy (dask) array, read only where used (images too
            large for memory); a truncated file then fails when its voxels are read.

    Returns:
        The image with its voxel size in micrometres.

    Raises:
        SeglightError: unreadable file, scene/timepoint/channel out of range, or a 2D image
            where ``require_3d`` is set.
    """
    path = Path(path)
    img = open_image(path)
    scenes = list(img.scenes)
    if not 0 <= scene < len(scenes):
        raise SeglightError(
            f"{path}: scene {scene} is out of range; the file has {len(scenes)} scene(s); "
            f"pass scene=0..{len(scenes) - 1}"
        )
    if scene:
        img.set_scene(scene)
    n_t = int(img.dims.T)
    if not 0 <= timepoint < n_t:
        raise SeglightError(
            f"{path}: timepoint {timepoint} is out of range; the file has {n_t} timepoint(s); "
            f"pass timepoint=0..{n_t - 1}"
        )
    index, name = resolve_channel(img, channel, path)
    if require_3d and int(img.dims.Z) < 2:
        raise SeglightError(
            f"{path}: the image is 2D (Y×X = {img.dims.Y}×{img.dims.X}, one z-slice); "
            "seglight needs a 3D z-stack (ZYX). If z is stored as channels or time, "
            "re-save the stack with z as Z"
        )
    try:
        if lazy:
            data = img.get_image_dask_data("ZYX", C=index, T=timepoint)
        else:
            data = np.asarray(img.get_image_data("ZYX", C=index, T=timepoint))
    except Exception as err:  # noqa: BLE001 - truncated files fail only when pixels are read
        raise SeglightError(
            f"{path}: cannot read the pixels ({type(err).__name__}: {err}); "
            "the file may be truncated or corrupted"
        ) from None
    if dtype is not None:
        data = data.astype(dtype) if lazy else data.astype(dtype, copy=False)
    return ImageZYX(
        data=data,
        spacing_um=_spacing_of(img),
        path=path,
        channel=index,
        channel_name=name,
        scene=scene,
        timepoint=timepoint,
    )


def image_layout(path: str | Path) -> dict:
    """Scenes, timepoints, channels and ZYX shape of a file, without reading its pixels."""
    img = open_image(path)
    try:
        return {
            "scenes": len(img.scenes),
            "timepoints": int(img.dims.T),
            "channels": [str(n) for n in (img.channel_names or [])],
            "shape_zyx": (int(img.dims.Z), int(img.dims.Y), int(img.dims.X)),
        }
    except Exception as err:  # noqa: BLE001 - readers fail lazily on corrupt metadata
        raise SeglightError(
            f"{path}: cannot read the image layout ({type(err).__name__}: {err}); "
            "the file may be truncated or corrupted"
        ) from None


def write_ome_tiff(
    path: str | Path,
    data_zyx: np.ndarray,
    spacing_um: Spacing = (None, None, None),
    channel_name: str | None = None,
) -> Path:
    """Write a ZYX array as OME-TIFF, atomically, keeping the physical voxel size.

    Args:
        path: destination; its folder is created if missing.
        data_zyx: the voxels, shape ``(Z, Y, X)``. bool is written as uint8.
        spacing_um: voxel size in micrometres, ZYX order (``None`` entries are omitted).
        channel_name: stored as the OME channel name.

    Returns:
        The written path.
    """
    from bioio_base.types import PhysicalPixelSizes
    from bioio_ome_tiff.writers import OmeTiffWriter

    path = Path(path)
    data = np.asarray(data_zyx)
    if data.ndim != 3:
        raise ValueError(f"write_ome_tiff expects a ZYX array, got shape {data.shape}")
    if data.dtype == bool:
        data = data.astype(np.uint8)
    if data.dtype == np.float16:  # OME has no half-float pixel type
        data = data.astype(np.float32)
    with atomic_path(path, suffix=".ome.tif") as tmp:
        OmeTiffWriter.save(
            data,
            tmp,
            dim_order="ZYX",
            physical_pixel_sizes=PhysicalPixelSizes(*spacing_um),
            channel_names=[channel_name] if channel_name else None,
        )
    return path
