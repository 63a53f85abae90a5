"""The reference Allen Cell Structure Segmenter (``aicssegmentation==0.5.3``) as a test oracle.

seglight's classic workflows must give the reference's masks. The reference is installed
only for tests and benchmarks (``scripts/install_oracles.sh``); it is never imported by
seglight itself, and its code is never copied. Every test that needs it calls
:func:`reference_workflow` or :func:`reference_module`, which skip the test cleanly when
the reference is not installed.

Why a stand-in for ``aicsimageio``: every reference module imports
``aicssegmentation.core.output_utils``, which imports ``aicsimageio.writers.OmeTiffWriter``
at module level, and ``aicsimageio`` 4.x no longer imports with current ``tifffile``
(``TIFF.RESUNIT`` is gone). Only the reference's file writers use it, and the oracle is only
ever called with ``output_type="array"``, so when the real package does not import we put a
minimal stand-in into ``sys.modules``, here in the test helper only, whose members raise if
anything actually tries to read or write a file through them.

Why the reference's size filter is restored: the reference calls
``skimage.morphology.remove_small_objects(mask, min_size=n)``, which removed objects with
*fewer than* ``n`` voxels, as published and as ``shared/classic-workflows.md`` specifies
(``SF(n)``). scikit-image 0.26 deprecated ``min_size`` for ``max_size`` and its deprecation
shim passes the value on as ``max_size``, which removes objects of *up to and including*
``n`` voxels, silently changing every reference mask that has objects of exactly ``n``
voxels. With scikit-image >= 0.26 we rebind that name in the reference's modules to a call
with the published meaning (``max_size=n - 1``); nothing else in the reference changes.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import types
from collections.abc import Callable
from types import ModuleType

import pytest

REFERENCE_VERSION = "0.5.3"
_AICSIMAGEIO_MEMBERS = {
    "aicsimageio": ("imread", "AICSImage"),
    "aicsimageio.writers": ("OmeTiffWriter",),
}


class _NotAvailable:
    """Stands in for an aicsimageio reader/writer; any use is a test bug, so it says so."""

    def __init__(self, name: str):
        self._name = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"{self._name} is a test stand-in (aicsimageio does not import with this tifffile); "
            "call the reference workflows with output_type='array'"
        )

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self


def _ensure_aicsimageio() -> None:
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
        module.__doc__ = "Test stand-in for aicsimageio (see tests/oracle.py)."
        for member in members:
            setattr(module, member, _NotAvailable(f"{module_name}.{member}"))
        sys.modules[module_name] = module
    sys.modules["aicsimageio"].writers = sys.modules["aicsimageio.writers"]


def _remove_small_objects_as_published(ar, min_size=64, connectivity=1, out=None):
    """``remove_small_objects`` with scikit-image < 0.26 semantics: drop objects < ``min_size``."""
    from skimage.morphology import remove_small_objects

    return remove_small_objects(ar, max_size=min_size - 1, connectivity=connectivity, out=out)


def _restore_published_size_filter() -> None:
    from skimage.morphology import remove_small_objects

    if "max_size" not in inspect.signature(remove_small_objects).parameters:
        return  # scikit-image < 0.26: min_size still has its published meaning
    for name, module in list(sys.modules.items()):
        if name.startswith("aicssegmentation") and (
            getattr(module, "remove_small_objects", None) is remove_small_objects
        ):
            module.remove_small_objects = _remove_small_objects_as_published


def reference_module(dotted: str) -> ModuleType:
    """Import ``aicssegmentation.<dotted>`` (e.g. ``"core.vessel"``), or skip the calling test.

    Args:
        dotted: the module path below ``aicssegmentation``.

    Returns:
        The imported reference module.
    """
    # itk is imported lazily inside the reference's edge-preserving smoothing; without it
    # a third of the workflows would fail mid-test instead of skipping.
    for package in ("aicssegmentation", "itk"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(
                f"the reference aicssegmentation=={REFERENCE_VERSION} is not installed with "
                f"its run-time dependencies ({package} is missing); "
                "scripts/install_oracles.sh installs them"
            )
    _ensure_aicsimageio()
    try:
        module = importlib.import_module(f"aicssegmentation.{dotted}")
    except ImportError as err:
        pytest.skip(f"the reference module aicssegmentation.{dotted} does not import: {err}")
    _restore_published_size_filter()
    return module


def reference_workflow(name: str) -> Callable:
    """The reference ``Workflow_<name>`` (call it with ``output_type="array"``), or skip.

    Args:
        name: seglight's workflow name, e.g. ``"tomm20"`` or ``"lmnb1_interphase"``.

    Returns:
        ``Workflow_<name>(struct_img, rescale_ratio=-1, output_type="array")``.
    """
    module = reference_module(f"structure_wrapper.seg_{name}")
    return getattr(module, f"Workflow_{name}")
