"""Normalization recipes as the bioimage.io spec's preprocessing operations.

``bioimageio.core`` computes every statistic a preprocessing step needs (mean, std,
percentiles) once, on the *raw* input, before the first step runs. A recipe travels
**exactly** when its one step is a per-image statistic followed by fixed operations that
compute what seglight computes:

==========================================  ===============================================
seglight recipe                             spec operations (statistics of the raw image)
==========================================  ===============================================
``[]`` (none)                               none
``clipped_zscore(a, b)`` (the default)      ``zero_mean_unit_variance``; ``clip(-a, b)``;
                                            ``scale_linear(1/(a+b), a/(a+b))``
``percentile_range(p, q)``                  ``scale_range(p, q)``
``min_max()`` (no ``upper``)                ``scale_range(0, 100)``
==========================================  ===============================================

Both sides use the spec's epsilon 1e-6 (``bioimageio.core`` 0.11 applies its default 1e-6
whatever a package declares, so seglight's ops use that value), percentiles by linear
interpolation (numpy's default, which ``bioimageio.core`` uses through xarray), std with
ddof 0, float32 results; what remains is float rounding (``min_max``: its 1e-8 epsilon, a
relative 1e-6 / range). The test crop's agreement is measured at every export.

``auto_contrast(a, b)``, the default of seglight before ``clipped_zscore``, clips to
``[max(m - a·s, min), min(m + b·s, max)]``; the larger of two statistics is no spec
operation, so its package form (the ``clipped_zscore`` operations) differs wherever an
image's minimum lies above ``m - a·s`` or its maximum below ``m + b·s``: an
**approximation**, exported only with ``allow_inexact=true``. ``min_max`` with ``upper``,
``auto_contrast_range``, ``background_subtract`` and recipes of several steps have no
equivalent at all (export with ``preprocessing=none``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seglight.errors import ConfigError
from seglight.normalization import SPEC_EPS

#: Axes reduced to compute statistics: one image at a time (the batch axis left out).
PER_IMAGE = ("channel", "z", "y", "x")
#: Recipes a package reproduces (up to float rounding), as the user writes them.
EXACT = ("none ([])", "clipped_zscore", "percentile_range", "min_max without upper")


def travel(recipe: Sequence[dict[str, Any]]) -> str:
    """How a recipe travels into a package: ``exact``, ``approximate`` (``auto_contrast``)
    or ``none`` (no spec equivalent)."""
    if not recipe:
        return "exact"
    if len(recipe) > 1:
        return "none"
    step = recipe[0]
    op = step.get("op")
    if op in ("clipped_zscore", "percentile_range") or (op == "min_max"
                                                         and not step.get("upper")):
        return "exact"
    return "approximate" if op == "auto_contrast" else "none"


def check_travels(recipe: Sequence[dict[str, Any]], allow_inexact: bool) -> str:
    """:func:`travel`, refusing what the export cannot carry.

    Raises:
        ConfigError: one line naming the recipes that travel: a recipe without equivalent,
            or an approximate one without ``allow_inexact``.
    """
    how = travel(recipe)
    if how == "exact" or (how == "approximate" and allow_inexact):
        return how
    hint = (f"recipes that travel exactly: {', '.join(EXACT)} (conf/data/normalization/); "
            "or export with preprocessing=none (users normalize first)")
    if how == "approximate":
        raise ConfigError(
            f"normalization {describe(recipe)} has no exact bioimage.io equivalent (the "
            f"package's masks would differ from the checkpoint's); {hint}; allow_inexact=true "
            "exports it with the measured agreement")
    raise ConfigError(f"normalization {describe(recipe)} has no bioimage.io preprocessing "
                      f"equivalent; {hint}")


def _zscore_steps(a: float, b: float) -> list:
    from bioimageio.spec.model import v0_5

    axes = [v0_5.AxisId(x) for x in PER_IMAGE]
    return [
        v0_5.ZeroMeanUnitVarianceDescr(kwargs=v0_5.ZeroMeanUnitVarianceKwargs(
            axes=axes, eps=SPEC_EPS)),
        v0_5.ClipDescr(kwargs=v0_5.ClipKwargs(min=-a, max=b)),
        v0_5.ScaleLinearDescr(kwargs=v0_5.ScaleLinearKwargs(gain=1 / (a + b),
                                                            offset=a / (a + b))),
    ]


def spec_preprocessing(recipe: Sequence[dict[str, Any]]) -> list:
    """The spec (0.5) preprocessing descriptions standing for a normalization recipe
    (for ``auto_contrast``, its approximation).

    Raises:
        ConfigError: the recipe has no equivalent.
    """
    from bioimageio.spec.model import v0_5

    check_travels(recipe, allow_inexact=True)
    if not recipe:
        return []
    step = recipe[0]
    if step["op"] in ("clipped_zscore", "auto_contrast"):
        return _zscore_steps(float(step["lower_std"]), float(step["upper_std"]))
    low, high = ((0.0, 100.0) if step["op"] == "min_max" else
                 (float(step.get("lower_percentile", 1.0)),
                  float(step.get("upper_percentile", 99.8))))
    return [v0_5.ScaleRangeDescr(kwargs=v0_5.ScaleRangeKwargs(
        axes=[v0_5.AxisId(x) for x in PER_IMAGE], min_percentile=low, max_percentile=high,
        eps=SPEC_EPS))]


def package_normalize(image: np.ndarray, recipe: Sequence[dict[str, Any]]) -> np.ndarray:
    """What a package's preprocessing makes of ``image``, computed by ``bioimageio.core``'s
    own operations (:func:`spec_preprocessing`'s steps, statistics of the whole image),
    float32: how the export measures a package against its checkpoint."""
    from bioimageio.core import Sample
    from bioimageio.core.proc_ops import get_proc
    from bioimageio.core.stat_calculators import compute_sample_measures
    from bioimageio.core.tensor import Tensor
    from bioimageio.spec.model import v0_5

    # get_proc reads only the tensor's id; the full description needs sizes and test files.
    tensor = v0_5.InputTensorDescr.model_construct(id=v0_5.TensorId("raw"))
    ops = [get_proc(step, tensor) for step in spec_preprocessing(recipe)]
    data = np.asarray(image, dtype=np.float32)[None, None]
    sample = Sample(members={tensor.id: Tensor(data, dims=("batch", "channel", "z", "y", "x"))},
                    stat={}, id=None)
    sample.stat.update(compute_sample_measures(
        {m for op in ops for m in op.required_measures}, sample))
    for op in ops:
        op(sample)
    return np.asarray(sample.members[tensor.id].data.values, dtype=np.float32)[0, 0]


def describe(recipe: Sequence[dict[str, Any]]) -> str:
    """A recipe in one line of text (for the README and the input's description)."""
    if not recipe:
        return "none (the network was trained on images as they are)"
    return "; ".join(
        step["op"] + "(" + ", ".join(f"{k}={v}" for k, v in step.items() if k != "op") + ")"
        for step in recipe
    )
