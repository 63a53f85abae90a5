"""seglight: segmentation of intracellular structures in 3D microscopy images.

Three parts share one package:

- the *Binarizer* (:mod:`seglight.predict`, :mod:`seglight.classic`) turns an image into a
  binary mask, with a classic workflow or a trained network, through one interface;
- the *Curator* (:mod:`seglight.curate`) turns binarizer outputs into training triplets;
- the *Trainer* (:mod:`seglight.training`) fits 3D U-Nets on those triplets.

Images enter the program as ZYX arrays (:func:`seglight.io.read_image`). From Python (a
notebook, napari): ``seglight.binarize``, ``seglight.predict_files``, ``seglight.train`` and
``seglight.evaluate`` (:mod:`seglight.api`); from a shell: ``python -m seglight.train |
predict | curate | evaluate``.
"""

import sys
import types
from pathlib import Path

from seglight import _moved

_moved.install()  # module paths stored in checkpoints and configs before a move keep working

__version__ = "0.1.0"

_PACKAGE_DIR = Path(__file__).resolve().parent

#: The Hydra configuration tree. The repository keeps it at its top level (``conf/``); a wheel
#: or ``pip install .`` ships the same files inside the package, as ``seglight/conf/``.
CONF_DIR = (_PACKAGE_DIR / "conf" if (_PACKAGE_DIR / "conf").is_dir()
            else _PACKAGE_DIR.parent / "conf")

_API = ("binarize", "predict_files", "train", "evaluate")
__all__ = ["CONF_DIR", *_API]


class _Package(types.ModuleType):
    """``seglight.train`` and ``seglight.evaluate`` are the Python functions even after their
    command modules (``seglight/train.py``, ``seglight/evaluate.py``) have been imported:
    importing a submodule sets it as an attribute of its package, which would hide them."""

    def __setattr__(self, name: str, value) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return  # the module stays reachable as sys.modules["seglight.<name>"]
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    # Lazy, so that `import seglight` stays light (no torch) until the work is asked for.
    if name in _API:
        from seglight import api

        return getattr(api, name)
    raise AttributeError(f"module 'seglight' has no attribute {name!r}")
