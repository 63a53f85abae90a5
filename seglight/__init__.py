"""seglight: segmentation of intracellular structures in 3D microscopy images.

Three parts share one package:

- the *Binarizer* (:mod:`seglight.predict`, :mod:`seglight.classic`) turns an image into a
  binary mask, with a classic workflow or a trained network, through one interface;
- the *Curator* (:mod:`seglight.curate`) turns binarizer outputs into training triplets;
- the *Trainer* (:mod:`seglight.train`) fits 3D U-Nets on those triplets.

Images enter the program as ZYX arrays (:func:`seglight.io.read_image`).
"""

from pathlib import Path

__version__ = "0.1.0"

#: The Hydra configuration tree (``conf/`` at the repository root; seglight is installed
#: editable from its clone, like most research code bases).
CONF_DIR = Path(__file__).resolve().parent.parent / "conf"

__all__ = ["CONF_DIR", "binarize", "predict_files"]


def __getattr__(name: str):
    # Lazy, so that `import seglight` stays light (no torch) until prediction is asked for.
    if name in ("binarize", "predict_files"):
        from seglight import api

        return getattr(api, name)
    raise AttributeError(f"module 'seglight' has no attribute {name!r}")
