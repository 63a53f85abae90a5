"""Normalization recipes as the bioimage.io spec's preprocessing operations.

``bioimageio.core`` computes every statistic a preprocessing step needs (mean, std,
percentiles) once, on the *raw* input, before the first step runs; consumers that compute
them step by step agree with it only where the data-dependent step comes first. So a recipe
maps when it has one data-dependent step, first, followed by fixed operations:

========================================  =================================================
seglight step                             spec operations (statistics of the raw image)
========================================  =================================================
``auto_contrast(a, b)``                   ``zero_mean_unit_variance``; ``clip(-a, b)``;
                                          ``scale_linear(1/(a+b), a/(a+b))``
``min_max()``                             ``scale_range(0, 100)`` (exact)
``min_max(v, ...)``                       none (min and max of the image after the bound)
``auto_contrast_range(a, b, c, d)``       none (std measured inside ``(c, d)``)
``background_subtract(sigma)``            none (a Gaussian of the whole image)
several steps                             none (the later ones need statistics of the
                                          earlier ones' output)
========================================  =================================================

``auto_contrast`` clips to ``[max(m - a·s, min), min(m + b·s, max)]`` and scales that range
to ``[0, 1]``. The spec form is exact when the image's range covers ``[m - a·s, m + b·s]``
(a dark and a bright tail beyond the bounds, as camera images with hot pixels or bright
structures have). When an image's minimum lies above ``m - a·s`` (or its maximum below
``m + b·s``), seglight stretches the narrower range to ``[0, 1]`` while the package maps the
image into a sub-range of it (the larger of two statistics is not a spec statistic): the
same image, contrast-stretched a little less. The export measures the effect on its test
crop and writes it into the README (and warns below Dice 0.99).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seglight.errors import ConfigError

#: Axes reduced to compute statistics: one image at a time (the batch axis left out).
PER_IMAGE = ("channel", "z", "y", "x")


def unmapped_step(recipe: Sequence[dict[str, Any]]) -> dict | None:
    """The first recipe step that cannot be a spec preprocessing step, or ``None``."""
    for i, step in enumerate(recipe):
        op = step.get("op")
        if i > 0 or op not in ("auto_contrast", "min_max") or (op == "min_max"
                                                                 and step.get("upper")):
            return dict(step)
    return None


def spec_preprocessing(recipe: Sequence[dict[str, Any]]) -> list:
    """The spec (0.5) preprocessing descriptions standing for a normalization recipe.

    Raises:
        ConfigError: a step has no equivalent (see :func:`unmapped_step`).
    """
    from bioimageio.spec.model import v0_5

    axes = [v0_5.AxisId(a) for a in PER_IMAGE]
    bad = unmapped_step(recipe)
    if bad is not None:
        raise ConfigError(
            f"normalization step {bad} has no bioimage.io preprocessing equivalent; export "
            "with preprocessing=none (users then normalize beforehand, the README says how)"
        )
    if not recipe:
        return []
    step = recipe[0]
    if step["op"] == "min_max":
        return [v0_5.ScaleRangeDescr(kwargs=v0_5.ScaleRangeKwargs(
            axes=axes, min_percentile=0.0, max_percentile=100.0))]
    a, b = float(step["lower_std"]), float(step["upper_std"])
    return [
        v0_5.ZeroMeanUnitVarianceDescr(kwargs=v0_5.ZeroMeanUnitVarianceKwargs(axes=axes)),
        v0_5.ClipDescr(kwargs=v0_5.ClipKwargs(min=-a, max=b)),
        v0_5.ScaleLinearDescr(kwargs=v0_5.ScaleLinearKwargs(gain=1 / (a + b), offset=a / (a + b))),
    ]


def package_normalize(image: np.ndarray, recipe: Sequence[dict[str, Any]]) -> np.ndarray:
    """What :func:`spec_preprocessing`'s operations compute, in numpy (float32)."""
    x = np.asarray(image, dtype=np.float32)
    if not recipe:
        return x
    step = recipe[0]
    lo, hi = float(x.min()), float(x.max())
    if step["op"] == "min_max":
        return ((x - lo) / (hi - lo + 1e-6)).astype(np.float32)
    a, b = float(step["lower_std"]), float(step["upper_std"])
    z = (x - x.mean(dtype=np.float64)) / (x.std(dtype=np.float64) + 1e-6)
    return ((np.clip(z, -a, b) + a) / (a + b)).astype(np.float32)


def describe(recipe: Sequence[dict[str, Any]]) -> str:
    """A recipe in one line of text (for the README and the input's description)."""
    if not recipe:
        return "none (the network was trained on images as they are)"
    return "; ".join(
        step["op"] + "(" + ", ".join(f"{k}={v}" for k, v in step.items() if k != "op") + ")"
        for step in recipe
    )
