"""The reference Allen Cell Structure Segmenter (``aicssegmentation==0.5.3``), for comparisons.

seglight's classic workflows must give the reference's masks. The reference is installed
only for the parity tests and the benchmarks (``scripts/install_oracles.sh``); seglight's
workflows never import this module, and none of the reference's code is copied. The tests
(through ``tests/helpers/oracle.py``, which turns :class:`ReferenceMissing` into a skip) and
``scripts/bench_classic.py`` load it with :func:`reference_workflow` or
:func:`reference_module`.

Why a stand-in for ``aicsimageio``: every reference module imports
``aicssegmentation.core.output_utils``, which imports ``aicsimageio.writers.OmeTiffWriter``
at module level, and ``aicsimageio`` 4.x no longer imports with current ``tifffile``
(``TIFF.RESUNIT`` is gone). Only the reference's file writers use it, and the reference is
only ever called with ``output_type="array"``, so when the real package does not import,
:func:`ensure_aicsimageio` puts a minimal stand-in into ``sys.modules`` whose members raise
if anything actually tries to read or write a file through them.

The reference's size filter: it calls ``skimage.morphology.remove_small_objects(mask,
min_size=n)``. Up to scikit-image 0.25 that removed objects of *fewer than* ``n`` voxels;
scikit-image 0.26 deprecated ``min_size`` and its shim passes the value on as ``max_size``,
which removes objects of *up to and including* ``n`` voxels. seglight's size filters match
the reference as it runs on scikit-image >= 0.26 (``tests/parity/test_oracle.py`` checks
that the installed scikit-image behaves so).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable
from types import ModuleType

from seglight.errors import SeglightError

REFERENCE_VERSION = "0.5.3"
_AICSIMAGEIO_MEMBERS = {
    "aicsimageio": ("imread", "AICSImage"),
    "aicsimageio.writers": ("OmeTiffWriter",),
}


class ReferenceMissing(SeglightError):
    """The reference (or one of its run-time dependencies) is missing or does not import."""


class _NotAvailable:
    """Stands in for an aicsimageio reader/writer; any use is a bug, so it says so."""

    def __init__(self, name: str):
        self._name = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"{self._name} is a stand-in (aicsimageio does not import with this tifffile); "
            "call the reference workflows with output_type='array'"
        )

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self


def ensure_aicsimageio() -> None:
    """Make ``import aicsimageio.writers`` work: the real package if it imports, else a stand-in."""
    try:
        importlib.import_module("aicsimageio.writers")
        return
    except Exception:  # noqa: BLE001 - AttributeError (TIFF.RESUNIT), ImportError, ...
        pass
    # A failed import can leave half-initialised aicsimageio modules behind; drop them first.
    for key in [k for k in sys.modules if k == "aicsimageio" or k.startswith("aicsimageio.")]:
        del sys.modules[key]
    for module_name, members in _AICSIMAGEIO_MEMBERS.items():
        module = types.ModuleType(module_name)
        module.__doc__ = "Stand-in for aicsimageio (see seglight.classic.reference)."
        for member in members:
            setattr(module, member, _NotAvailable(f"{module_name}.{member}"))
        sys.modules[module_name] = module
    sys.modules["aicsimageio"].writers = sys.modules["aicsimageio.writers"]


def reference_module(dotted: str) -> ModuleType:
    """Import ``aicssegmentation.<dotted>`` (e.g. ``"core.vessel"``).

    Raises:
        ReferenceMissing: the reference or one of its run-time dependencies is missing.

    Args:
        dotted: the module path below ``aicssegmentation``.

    Returns:
        The imported reference module.
    """
    # itk is imported lazily inside the reference's edge-preserving smoothing; without it
    # a third of the workflows would fail midway instead of being refused up front.
    for package in ("aicssegmentation", "itk"):
        if importlib.util.find_spec(package) is None:
            raise ReferenceMissing(
                f"the reference aicssegmentation=={REFERENCE_VERSION} is not installed with "
                f"its run-time dependencies ({package} is missing); "
                "scripts/install_oracles.sh installs them"
            )
    ensure_aicsimageio()
    try:
        module = importlib.import_module(f"aicssegmentation.{dotted}")
    except ImportError as err:
        raise ReferenceMissing(
            f"the reference module aicssegmentation.{dotted} does not import: {err}"
        ) from err
    return module


def reference_workflow(name: str) -> Callable:
    """The reference ``Workflow_<name>`` (call it with ``output_type="array"``).

    Args:
        name: seglight's workflow name, e.g. ``"tomm20"`` or ``"lmnb1_interphase"``.

    Returns:
        ``Workflow_<name>(struct_img, rescale_ratio=-1, output_type="array")``.
    """
    module = reference_module(f"structure_wrapper.seg_{name}")
    return getattr(module, f"Workflow_{name}")
