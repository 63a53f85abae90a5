"""The one interface every binarizer implements, classic workflow or trained network.

The predict runner, ``seglight.binarize`` and the Curator only ever see this protocol, so
they never ask "classic or deep learning?".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

Record = Callable[[str, np.ndarray], None]


def no_record(name: str, array: np.ndarray) -> None:
    """The default ``record`` callback: intermediate results are not kept."""


@runtime_checkable
class Binarizer(Protocol):
    """Turns a ZYX image into a foreground probability map of the same shape.

    Attributes:
        threshold: the probability above which a voxel is foreground in the mask.
    """

    threshold: float

    def predict_proba(self, image_zyx: np.ndarray, record: Record = no_record) -> np.ndarray:
        """Return float32 ZYX probabilities in [0, 1] (a classic workflow returns 0 or 1).

        Args:
            image_zyx: the raw image, shape ``(Z, Y, X)``; each binarizer normalizes it itself.
            record: called as ``record(step_name, array)`` with intermediate results, for
                inspection and QC; the default does nothing.
        """
        ...
