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
