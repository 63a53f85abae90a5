"""Compiled (numba) histograms of :mod:`seglight.classic.morphology`: the 256-bin histograms
that scikit-image's Otsu and triangle thresholds take, of a whole image or of every
labelled object at once, and the order statistics behind its median.

The bins are ``numpy.histogram``'s with equal widths over a range ``[first, last]``: a
value's bin is ``int((x − first) / (last − first) · n)`` computed in the image's float
type, then moved by one where that lands across an edge of ``edges`` (numpy's own
correction, which makes the bins exactly ``edges[i] <= x < edges[i + 1]``, the last one
closed). Doing that in one pass per image, and for all objects together, replaces a
``numpy.histogram`` call per object with its own passes, sorts and copies. The values of
a bin are then exactly those between its edges, which is how the median finds its two
middle values without sorting the image.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(inline="always")
def _bin(x, first, scale, n_bins, edges):
    """numpy's bin of ``x`` among ``n_bins`` equal bins (``scale`` is ``last − first`` and
    ``n_bins`` is in the float type of ``x``): -1 outside ``[edges[0], edges[-1]]``."""
    if not (x >= edges[0] and x <= edges[-1]):
        return -1
    n = edges.size - 1
    i = int(((x - first) / scale) * n_bins)
    if i == n:
        i -= 1
    if x < edges[i]:
        i -= 1
    if x >= edges[i + 1] and i != n - 1:
        i += 1
    return i


@numba.njit(cache=True)
def histogram(img, first, scale, n_bins, edges, counts):
    """Add the histogram of ``img`` (any shape) to ``counts`` (int64, ``edges.size − 1``).

    Args:
        img: float image.
        first: the range's lower end, in ``img``'s float type (``edges[0]``).
        scale: ``last − first``, computed in that type as numpy computes it.
        n_bins: the number of bins, in that type.
        edges: the bin edges, as ``numpy.histogram_bin_edges`` gives them.
        counts: int64 counts, added to.
    """
    for x in img.reshape(-1):
        i = _bin(x, first, scale, n_bins, edges)
        if i >= 0:
            counts[i] += 1


@numba.njit(cache=True)
def values_in_range(img, low, high, closed, out):
    """Copy the values ``low <= x < high`` of ``img`` (``<= high`` when ``closed``) into
    ``out``, as many as fit; returns how many there are."""
    k = 0
    for x in img.reshape(-1):
        if x >= low and (x < high or (closed and x == high)):
            if k < out.size:
                out[k] = x
            k += 1
    return k


@numba.njit(cache=True)
def label_ranges(img, labels, lows, highs):
    """Per label, the smallest and largest value of ``img`` (label 0 is skipped).

    Args:
        img: float image.
        labels: int labels of the same shape.
        lows, highs: per label (``labels.max() + 1``), set here; ``+inf`` / ``-inf`` for a
            label without voxels.
    """
    lows[:] = np.inf
    highs[:] = -np.inf
    flat = img.reshape(-1)
    for v, label in enumerate(labels.reshape(-1)):
        if label > 0:
            x = flat[v]
            if x < lows[label]:
                lows[label] = x
            if x > highs[label]:
                highs[label] = x


@numba.njit(cache=True)
def label_histograms(img, labels, selected, firsts, scales, n_bins, edges, counts):
    """The histogram of ``img`` within each selected label, each over its own range.

    Args:
        img: float image.
        labels: int labels of the same shape.
        selected: bool per label: histogram it.
        firsts, scales: per label, as :func:`histogram` takes them (in ``img``'s type).
        n_bins: the number of bins, in ``img``'s type.
        edges: per label, its bin edges (``(labels, bins + 1)``).
        counts: int64 ``(labels, bins)``, added to.
    """
    flat = img.reshape(-1)
    for v, label in enumerate(labels.reshape(-1)):
        if label > 0 and selected[label]:
            i = _bin(flat[v], firsts[label], scales[label], n_bins, edges[label])
            if i >= 0:
                counts[label, i] += 1


@numba.njit(cache=True)
def above_label_thresholds(img, labels, thresholds, out):
    """``out |= img > thresholds[label]`` at every labelled voxel (label 0 never); a label
    whose threshold is ``+inf`` keeps nothing."""
    flat = img.reshape(-1)
    mask = out.reshape(-1)
    for v, label in enumerate(labels.reshape(-1)):
        if label > 0 and flat[v] > thresholds[label]:
            mask[v] = True
