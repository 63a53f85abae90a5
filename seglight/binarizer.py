"""The one interface every binarizer implements, classic workflow or trained network.

The predict runner, ``seglight.binarize`` and the Curator only ever see this protocol, so
they never ask "classic or deep learning?". Two optional abilities are protocols of their
own, which the runner checks with ``isinstance``:

- :class:`LargeImageBinarizer`: predicts an image too large for memory window by window
  (a trained network; a classic workflow needs the whole image);
- :class:`SpacingAware`: knows the voxel size it was made for and warns when an image's
  differs (a trained network);
- :class:`LabelingBinarizer`: offers a label image of its own (a classic workflow whose
  watershed numbers the objects), which ``labels=true`` prefers to connected components.
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


@runtime_checkable
class LabelingBinarizer(Binarizer, Protocol):
    """A binarizer that numbers the objects itself (a classic workflow's watershed).

    The predict runner with ``labels=true`` calls :meth:`predict_proba_and_labels` instead
    of :meth:`~Binarizer.predict_proba`, so the mask and the labels come from one run.
    """

    def predict_proba_and_labels(
        self, image_zyx: np.ndarray, record: Record = no_record
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The probabilities, as :meth:`~Binarizer.predict_proba` gives them, and the
        binarizer's own label image, from one run.

        Returns:
            ``(proba, labels)``: ``labels`` is an integer ZYX image of the image's shape
            (0 is background), or ``None`` when this configuration numbers no objects (the
            runner then labels the 26-connected components of the mask). The runner keeps
            each label only inside its final mask (after ``threshold`` and ``min_size``)
            and renumbers them 1..n.
        """
        ...

    def predict_labels(self, image_zyx: np.ndarray) -> np.ndarray | None:
        """The label image of :meth:`predict_proba_and_labels` alone (or ``None``)."""
        ...
