"""Checks that turn bad input to a classic workflow into one clear line, before any filter runs.

A workflow is a chain of filters that assume a real z-stack: a 2D image, an empty array or a
NaN would otherwise surface as a traceback from deep inside scipy. What counts as bad:

- not an image: a non-numeric or boolean array (a mask passed where the raw image belongs);
- not 3D: anything but ``(Z, Y, X)``, or fewer than :data:`MIN_SHAPE_ZYX` voxels on an axis
  (the 3D filters and the watershed border need a few slices);
- NaN or infinite voxels;
- ``N4[a, b, c, d]`` with no voxel inside its noise band ``(c, d)``: the noise cannot be
  measured (the reference stops with an error there too).

Intensities outside a workflow's tuned range are *not* errors: the workflow gives the
reference's result and one warning line names the parameter to tune. The ``N[a, b]`` and
``N[0]`` normalizations are invariant to offset and gain, so any range suits them. The two
that use absolute intensities are tuned for the Allen Cell hiPSC images:

* ``N[v]`` sets voxels above ``v`` to the image minimum, treating them as saturated blobs;
  when more than :data:`MAX_FRACTION_ABOVE_UPPER` of the voxels are above ``v``, the image
  is brighter than the workflow was made for and most of it is erased;
* ``N4[a, b, c, d]`` measures the noise on the voxels inside ``(c, d)`` (the expected
  background band); when fewer than :data:`MIN_FRACTION_IN_BAND` of the voxels are inside,
  the image lies mostly outside that band (an 8-bit or a pre-normalized image, say).

With ``strict=true`` (``model.params.strict=true``) such an image is refused instead.

A constant image is not an error: it has no structure, so its mask is empty (all zero).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from seglight.classic.steps import Pipeline
from seglight.errors import ConfigError, SeglightError
from seglight.io import ImageZYX

#: The smallest image a workflow accepts, ZYX (3 slices: the 3D Hessian and spot filters
#: need a neighbourhood in z).
MIN_SHAPE_ZYX = (3, 8, 8)
#: ``N[v]`` refuses an image with more than this fraction of voxels above ``v``.
MAX_FRACTION_ABOVE_UPPER = 0.5
#: ``N4[a, b, c, d]`` refuses an image with less than this fraction of voxels inside ``(c, d)``.
MIN_FRACTION_IN_BAND = 0.01
#: Parameters whose name contains this are normalization settings (``N[...]``), e.g.
#: ``intensity_norm`` or, for a workflow with two, ``intensity_norm_peak``.
NORM_KEY = "intensity_norm"
#: The parameter that turns the out-of-range warning into a refusal (every config has it).
STRICT_KEY = "strict"
#: How a workflow parameter is set on the command line (``model.params.<name>=...``).
PARAM_PREFIX = "model.params."

log = logging.getLogger("seglight.classic")


def as_image_zyx(workflow: str, image_zyx: Any) -> np.ndarray:
    """Check the raw image given to ``workflow`` and return it as float32 ZYX.

    Args:
        workflow: the workflow name, for the messages.
        image_zyx: the raw image, shape ``(Z, Y, X)``, any real numeric type (or an
            :class:`~seglight.io.ImageZYX`).

    Returns:
        The image as float32 (the reference workflows also compute in float32).

    Raises:
        SeglightError: not a numeric 3D image, too small, or with NaN / infinite voxels.
    """
    if isinstance(image_zyx, ImageZYX):
        image_zyx = image_zyx.data
    img = np.asarray(image_zyx)
    where = f"classic workflow {workflow!r}"
    if img.dtype == bool or not (
        np.issubdtype(img.dtype, np.integer) or np.issubdtype(img.dtype, np.floating)
    ):
        raise SeglightError(
            f"{where}: the image has dtype {img.dtype}; pass the raw intensities "
            "(an integer or float array), not a mask"
        )
    if img.size == 0:
        raise SeglightError(f"{where}: the image is empty (shape {img.shape}); pass a ZYX z-stack")
    if img.ndim != 3:
        hint = (
            "it is 2D; classic workflows need a ZYX z-stack"
            if img.ndim == 2
            else "pass a single channel, single timepoint ZYX z-stack"
        )
        raise SeglightError(f"{where}: the image has shape {img.shape}; {hint}")
    if any(n < m for n, m in zip(img.shape, MIN_SHAPE_ZYX, strict=True)):
        raise SeglightError(
            f"{where}: the image has shape {img.shape} (ZYX); it needs at least "
            f"{MIN_SHAPE_ZYX[0]} z-slices and {MIN_SHAPE_ZYX[1]}x{MIN_SHAPE_ZYX[2]} pixels"
        )
    if np.issubdtype(img.dtype, np.floating):
        n_bad = img.size - int(np.count_nonzero(np.isfinite(img)))
        if n_bad:
            raise SeglightError(
                f"{where}: the image has {n_bad} NaN or infinite voxel(s); replace them "
                "(e.g. with the background value) before segmenting"
            )
    return img.astype(np.float32, copy=False)


def _out_of_range(workflow: str, img: np.ndarray, key: str, values: list[float]) -> str | None:
    """Why ``img`` lies outside the range normalization ``key=values`` is tuned for, or None.

    Raises:
        SeglightError: ``N4`` with no voxel inside its band, where the reference raises too.
    """
    setting = f"{key}={values}"
    if len(values) == 1 and values[0] >= 1:
        above = np.count_nonzero(img > values[0]) / img.size
        if above > MAX_FRACTION_ABOVE_UPPER:
            return (
                f"{above:.0%} of the voxels are above {values[0]:g} ({key} upper bound, "
                f"treated as saturated; image range {img.min():g}..{img.max():g})"
            )
    elif len(values) == 4:
        low, high = values[2], values[3]
        n_inside = int(np.count_nonzero((img > low) & (img < high)))
        if n_inside == 0:
            # The noise level cannot be measured at all; the reference stops here too.
            raise SeglightError(
                f"classic workflow {workflow!r}: no voxel lies in the intensity band "
                f"{low:g}..{high:g} ({setting}; image range {img.min():g}..{img.max():g}); "
                f"pass the raw camera intensities, or set {key}=[a, b, c, d] with c < d "
                "around the image's background"
            )
        inside = n_inside / img.size
        if inside < MIN_FRACTION_IN_BAND:
            return (
                f"only {inside:.1%} of the voxels lie in the band {low:g}..{high:g} "
                f"({key} noise band; image range {img.min():g}..{img.max():g})"
            )
    return None


def check_intensity_range(
    workflow: str, img: np.ndarray, params: Mapping[str, Any], strict: bool = False
) -> None:
    """Warn (or, with ``strict``, refuse) when the image lies outside the workflow's tuned range.

    Every parameter whose name contains ``intensity_norm`` is read as a normalization: one
    value ``[v]`` is ``N[v]`` (``v >= 1``) or ``N[0]``, two values ``N[a, b]``, four values
    ``N4[a, b, c, d]``. An image outside the range (see the module docstring) still gets the
    reference's result; one line is logged (``seglight.classic`` logger, level WARNING)
    naming the parameter to tune and the measured fraction.

    Args:
        workflow: the workflow name, for the messages.
        img: the float32 ZYX image.
        params: the workflow's parameters (defaults with overrides applied).
        strict: refuse such an image with a :class:`SeglightError` instead of warning.

    Raises:
        SeglightError: ``N4`` with no voxel in its band (always: there is no result to give),
            or, with ``strict``, any image outside the tuned range.
    """
    reasons = {}
    for key, value in params.items():
        if NORM_KEY in key:
            reason = _out_of_range(workflow, img, key, [float(v) for v in value])
            if reason is not None:
                reasons[key] = reason
    if not reasons:
        return
    # One line however many normalizations miss (CETN2 has two).
    why = "; ".join(reasons.values())
    tune = " and ".join(f"{PARAM_PREFIX}{key}=[...]" for key in reasons)
    if strict:
        raise SeglightError(
            f"classic workflow {workflow!r}: {why}; refused (strict=true); tune {tune} to "
            "the image, or set strict=false to get the reference's result anyway"
        )
    log.warning(
        "classic workflow %r: %s; the result follows the reference; tune %s or set "
        "%sstrict=true to refuse such images",
        workflow, why, tune, PARAM_PREFIX,
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "a boolean"
    if isinstance(value, int | float | np.integer | np.floating):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "null"
    return type(value).__name__


#: What a value of each parameter kind (:meth:`Pipeline.parameter_kinds`) must be, as
#: :func:`_kind` names it: an integer or a float parameter takes any number.
VALUE_KINDS = {
    "int": "a number", "float": "a number", "bool": "a boolean", "str": "a string",
    "list": "a list",
}


def parameter_kinds(pipeline: Pipeline) -> dict[str, str]:
    """The parameters a workflow takes, each with its kind (``int``, ``float``, ``bool``,
    ``str`` or ``list``): those its steps read (:meth:`Pipeline.parameter_kinds`, from the
    blocks' annotations), plus :data:`STRICT_KEY` (a boolean, read by the facade)."""
    kinds = pipeline.parameter_kinds()
    kinds[STRICT_KEY] = "bool"
    return kinds


def check_params(
    workflow: str, params: Mapping[str, Any], kinds: Mapping[str, str], where: str | None = None
) -> dict:
    """Check a workflow's complete parameters against its steps (:func:`parameter_kinds`).

    Args:
        workflow: the workflow name, for the messages.
        params: every parameter, plain Python values (tuples are taken as lists).
        kinds: the workflow's parameters and their kinds.
        where: the start of every message (default: ``classic workflow '<workflow>'``);
            a saved config's path names the file.

    Returns:
        A new dict of the parameters.

    Raises:
        ConfigError: an unknown parameter name, a missing one, or a value of another kind
            than the steps ask for (a number where a list of ``[sigma, cutoff]`` pairs
            is expected, for example).
    """
    where = where or f"classic workflow {workflow!r}"
    unknown = sorted(set(params) - set(kinds))
    if unknown:
        raise ConfigError(
            f"{where}: unknown parameter(s) {unknown}; "
            f"its parameters are {sorted(kinds)}"
        )
    missing = sorted(set(kinds) - set(params))
    if missing:
        raise ConfigError(
            f"{where}: missing parameter(s) {missing}; set them in "
            f"conf/model/classic/{workflow}.yaml under params:"
        )
    checked = {}
    for key, value in params.items():
        if isinstance(value, tuple):
            value = list(value)
        if _kind(value) != VALUE_KINDS[kinds[key]]:
            raise ConfigError(
                f"{where}: parameter {key}={value!r} should be {VALUE_KINDS[kinds[key]]}"
            )
        checked[key] = value
    return checked
