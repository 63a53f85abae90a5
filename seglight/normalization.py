"""Intensity normalization: the building blocks and named, parameterized recipes.

The functions follow the Allen Cell Structure Segmenter's published definitions (see
``docs/classic-steps.md``), so the classic workflows and the Trainer share them:

- :func:`auto_contrast` — ``N[a, b]``: clip to mean − a·std … mean + b·std, scale to [0, 1];
- :func:`min_max` — ``N[v]`` / ``N[0]``: min–max scaling, optionally with an upper bound;
- :func:`auto_contrast_range` — ``N4[a, b, c, d]``: std of the voxels inside (c, d);
- :func:`background_subtract` — subtract a wide Gaussian (uneven illumination).

A *recipe* is a list of steps, each ``{"op": <function name>, **params}``, applied in
order by :class:`Normalizer`; recipes live in ``conf/data/normalization/*.yaml`` and travel
inside checkpoints, so prediction normalizes exactly as training did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from seglight.errors import ConfigError

_EPS = 1e-8


def clip_and_scale(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Clip ``img`` to ``[lo, hi]`` and scale that range to [0, 1] (float32): the last step
    of every scaling op, shared by the window-by-window normalization of large images."""
    out = np.clip(img, lo, hi).astype(np.float32, copy=False)
    out = (out - np.float32(lo - _EPS)) / np.float32(hi - lo + _EPS)
    return out.astype(np.float32, copy=False)


def auto_contrast(img: np.ndarray, lower_std: float, upper_std: float) -> np.ndarray:
    """``N[a, b]``: clip to ``[m − a·s, m + b·s]`` (within the image range), scale to [0, 1].

    ``m`` and ``s`` are the maximum-likelihood normal fit of all voxels (std with ddof 0).

    Args:
        img: any-dimensional image.
        lower_std: ``a``, standard deviations below the mean kept.
        upper_std: ``b``, standard deviations above the mean kept.

    Returns:
        float32 image in [0, 1].
    """
    img = np.asarray(img)
    m = float(img.mean(dtype=np.float64))
    s = float(img.std(dtype=np.float64))
    lo = max(m - lower_std * s, float(img.min()))
    hi = min(m + upper_std * s, float(img.max()))
    return clip_and_scale(img, lo, hi)


def min_max(img: np.ndarray, upper: float | None = None, above_upper: str = "min") -> np.ndarray:
    """``N[v]`` / ``N[0]``: min–max scaling to [0, 1], optionally ignoring bright outliers.

    Args:
        img: any-dimensional image.
        upper: voxels above this value are outliers (``None`` or 0: no bound).
        above_upper: ``"min"`` sets outliers to the image minimum (the Segmenter's ``N[v]``,
            which treats saturated blobs as background); ``"clip"`` clips them to ``upper``.

    Returns:
        float32 image in [0, 1].
    """
    img = np.asarray(img, dtype=np.float32)
    if upper:
        if above_upper == "min":
            img = np.where(img > upper, img.min(), img)
        elif above_upper == "clip":
            img = np.minimum(img, np.float32(upper))
        else:
            raise ConfigError(f"min_max: above_upper={above_upper!r}; use 'min' or 'clip'")
    return clip_and_scale(img, float(img.min()), float(img.max()))


def auto_contrast_range(
    img: np.ndarray, lower_std: float, upper_std: float, low: float, high: float
) -> np.ndarray:
    """``N4[a, b, c, d]``: like :func:`auto_contrast`, with ``s`` measured on ``c < x < d``.

    lo = max(c − a·s, min), hi = min(d + b·s, max). For images where a few very bright
    objects would dominate a whole-image std (centrioles, for example).
    """
    img = np.asarray(img)
    inside = img[(img > low) & (img < high)]
    s = float(inside.std(dtype=np.float64)) if inside.size else 0.0
    lo = max(low - lower_std * s, float(img.min()))
    hi = min(high + upper_std * s, float(img.max()))
    return clip_and_scale(img, lo, hi)


def background_subtract(img: np.ndarray, sigma: float | Sequence[float]) -> np.ndarray:
    """Subtract a wide Gaussian blur (sigma in voxels, scalar or per axis) to flatten uneven
    illumination. The result is float32 and may be negative; follow it with a scaling step."""
    img = np.asarray(img, dtype=np.float32)
    return img - ndi.gaussian_filter(img, sigma=sigma, mode="nearest")


OPS: dict[str, Callable[..., np.ndarray]] = {
    "auto_contrast": auto_contrast,
    "min_max": min_max,
    "auto_contrast_range": auto_contrast_range,
    "background_subtract": background_subtract,
}


class Normalizer:
    """Apply a recipe: a list of steps ``{"op": name, **params}``, in order.

    Example:
        >>> norm = Normalizer([{"op": "background_subtract", "sigma": [5, 50, 50]},
        ...                    {"op": "auto_contrast", "lower_std": 2.5, "upper_std": 10}])
        >>> out = norm(image_zyx)  # float32 in [0, 1]

    Raises:
        ConfigError: an unknown op or a wrong parameter name, at construction.
    """

    def __init__(self, steps: Sequence[dict[str, Any]] | None = None):
        self.steps = [dict(step) for step in (steps or [])]
        for step in self.steps:
            op = step.get("op")
            if op not in OPS:
                raise ConfigError(
                    f"normalization step {step}: unknown op {op!r}; choose one of {sorted(OPS)}"
                )
            params = {k for k in step if k != "op"}
            allowed = set(OPS[op].__code__.co_varnames[1 : OPS[op].__code__.co_argcount])
            if params - allowed:
                raise ConfigError(
                    f"normalization step {op}: unknown parameter(s) {sorted(params - allowed)}; "
                    f"it takes {sorted(allowed)}"
                )

    def __call__(self, img: np.ndarray) -> np.ndarray:
        out = np.asarray(img, dtype=np.float32)
        for step in self.steps:
            params = {k: v for k, v in step.items() if k != "op"}
            out = OPS[step["op"]](out, **params)
        return out.astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return f"Normalizer({self.steps})"
