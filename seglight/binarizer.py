"""The one interface every binarizer implements, classic workflow or trained network.

The predict runner, ``seglight.binarize`` and the Curator only ever see this protocol, so
they never ask "classic or deep learning?". Two optional abilities are protocols of their
own, which the runner checks with ``isinstance``:

- :class:`LargeImageBinarizer`: predicts an image too large for memory window by window
  (a trained network; a classic workflow needs the whole image);
- :class:`SpacingAware`: knows the voxel size it was made for and warns when an image's
  differs (a trained network).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

#: The intermediate-step callback: ``record(step_name, array)`` keeps a step for inspection.
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


@runtime_checkable
class LargeImageBinarizer(Binarizer, Protocol):
    """A binarizer that also predicts images too large for memory, window by window."""

    def predict_proba_lazy(self, image_zyx, out: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Write float32 ZYX probabilities of a lazy image into ``out``, and return ``out``.

        Args:
            image_zyx: the raw image as a lazy (dask) ZYX array; only windows of it are read.
            out: float32 ZYX array for the result (a memory map).
            weights: float32 ZYX scratch array of the same shape (a memory map).

        Raises:
            SeglightError: the binarizer needs the whole image in memory (one line, saying
                what to do).
        """
        ...


@runtime_checkable
class SpacingAware(Protocol):
    """A binarizer made for one voxel size (a network trained at it)."""

    def warn_spacing(self, spacing_um: Sequence[float | None], name: str) -> None:
        """Log a warning naming ``name`` when ``spacing_um`` (ZYX, micrometres) is far from
        the voxel size the binarizer was made for."""
        ...
