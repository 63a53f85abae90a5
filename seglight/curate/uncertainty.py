"""Which image to curate next: an uncertainty score per raw image, most uncertain first.

Round 2 of curation need not show every image: the images a network is least sure about
teach it the most. The score of an image is the *disagreement of two segmentations of it*,
``1 - Dice(a, b)`` (0 = identical masks, 1 = no overlap; 0 when both are empty), from one
of two sources:

- **flip test-time augmentation** of a trained network (``ckpt_path``): ``a`` is the
  network's plain mask, ``b`` the mask of its prediction averaged over the flipped inputs
  (x, y, z), both from the predict inferer
  (:class:`~seglight.predict.inference.SlidingWindowInferer`, ``flip_tta``). A network
  whose answer changes when the image is mirrored is unsure there. It costs 5 network
  passes per image (1 plain + 4 averaged).
- **two segmentations already on disk** (``seg`` and ``seg2``, e.g. the network's and the
  classic workflow's, or merging mode's two): free beyond reading them.

:func:`score_images` scores a list of raw images; :func:`order_by_score` sorts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seglight.errors import ConfigError, SeglightError
from seglight.io.image import image_stem, is_image_file, read_image

Log = Callable[[str], None]


def disagreement(a: np.ndarray, b: np.ndarray) -> float:
    """``1 - Dice`` of two masks (voxels > 0 are foreground); 0 when both are empty."""
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    total = np.count_nonzero(a) + np.count_nonzero(b)
    return 0.0 if total == 0 else 1.0 - 2.0 * np.count_nonzero(a & b) / total


def tta_disagreement(image_zyx: np.ndarray, binarizer: Any) -> float:
    """Disagreement between a network's plain mask and its flip-averaged mask.

    Args:
        image_zyx: the raw image (the binarizer normalizes it as in training).
        binarizer: a :class:`~seglight.predict.network.NetworkBinarizer`; its inferer's
            ``flip_tta`` is switched for the two predictions and restored.
    """
    inferer = binarizer.inferer
    before = inferer.flip_tta
    try:
        inferer.flip_tta = False
        plain = binarizer.predict_proba(image_zyx) >= binarizer.threshold
        inferer.flip_tta = True
        flipped = binarizer.predict_proba(image_zyx) >= binarizer.threshold
    finally:
        inferer.flip_tta = before
    return disagreement(plain, flipped)


def _index(folder: str | Path) -> dict[str, Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder of segmentations")
    return {image_stem(p): p for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".") and is_image_file(p)}


def score_images(
    raw: Sequence[str | Path], ckpt_path: str | Path | None = None,
    seg: str | Path | None = None, seg2: str | Path | None = None,
    seg_suffix: str = "_struct_segmentation", channel: int | str = 0, device: str = "auto",
    log: Log | None = None,
) -> dict[Path, float]:
    """Uncertainty of each raw image (module docstring), from a network or two folders.

    Args:
        raw: the raw image files.
        ckpt_path: a trained network: flip-TTA disagreement (takes precedence).
        seg: without a checkpoint, the folder of the first segmentations
            (``<stem><seg_suffix>.<ext>``).
        seg2: the folder of the second segmentations, same names.
        seg_suffix: how segmentation files are named after their raw image.
        channel: the raw images' channel (network scores only).
        device: where the network runs (``cpu``, ``cuda``, ``auto``).
        log: receives one line per image that could not be scored (its score is NaN).

    Returns:
        The score of every raw path, in the order given; NaN where it could not be computed.

    Raises:
        ConfigError: neither a checkpoint nor two segmentation folders.
        SeglightError: an unreadable checkpoint.
    """
    log = log or (lambda line: None)
    if ckpt_path is None and (seg is None or seg2 is None):
        raise ConfigError("order=uncertainty needs uncertainty_ckpt=<trained .ckpt> or a "
                          "second segmentation folder (uncertainty_seg=DIR)")
    binarizer = None
    if ckpt_path is not None:
        from seglight.predict.network import NetworkBinarizer

        binarizer = NetworkBinarizer.from_checkpoint(ckpt_path, device=device)
    else:
        firsts, seconds = _index(seg), _index(seg2)
    scores: dict[Path, float] = {}
    for path in map(Path, raw):
        try:
            if binarizer is not None:
                score = tta_disagreement(read_image(path, channel=channel).data, binarizer)
            else:
                name = image_stem(path) + seg_suffix
                if name not in firsts or name not in seconds:
                    folder = seg if name not in firsts else seg2
                    raise SeglightError(f"{path}: no segmentation {name}.tif[f] in {folder} "
                                        "to score its uncertainty")
                a, b = read_image(firsts[name]).data, read_image(seconds[name]).data
                if a.shape != b.shape:
                    raise SeglightError(f"{seconds[name]}: shape {b.shape} differs from "
                                        f"{firsts[name].name} {a.shape}")
                score = disagreement(a, b)
        except SeglightError as err:
            log(f"uncertainty not scored: {err}")
            score = math.nan
        scores[path] = score
    return scores


def order_by_score(paths: Sequence[Path], scores: dict[Path, float]) -> list[Path]:
    """Most uncertain first; unscored (NaN) images last; ties keep the given order."""
    def key(path: Path) -> tuple[bool, float]:
        score = scores.get(path, math.nan)
        return (math.isnan(score), -score if not math.isnan(score) else 0.0)

    return sorted(paths, key=key)
