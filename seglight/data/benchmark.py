"""A Lamin-B1-like benchmark with true masks, where the classic workflow fails in curable ways.

The demo (:mod:`seglight.data.demo`) shows training; this generator shows the iterative
workflow. Each image holds a few cells drawn as the demo draws nuclei (same ellipsoids,
envelope, blur, background and camera noise), of four kinds:

- ``interphase``: a bright, closed envelope (the classic ``lmnb1_interphase`` finds it);
- ``touching``: two nuclei pressed against each other; each keeps its own envelope, so the
  contact is a double wall (the classic mask merges the pair and loses that wall);
- ``dim``: a faint envelope (a fifth to a third of its bright neighbour's) a few pixels from a
  bright nucleus (the classic filament cut-off, relative to the brightest structure, misses it);
- ``mitotic``: no closed envelope; lamina arcs with wide gaps and a few bright fragments over
  diffuse lamin (the classic interphase workflow needs a closed ring to seed a nucleus).

Truth is the lamina itself: each nucleus's own envelope, the mitotic arcs and fragments.
Next to it, ``cells`` labels every cell's region (what a person sees as "one cell" when
judging a segmentation by eye) and ``kinds`` names each label's kind. Deterministic by
``(seed, index)``; the training pool and the held-out set use different indices.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from seglight.data.demo import DEMO_SPACING_UM, _nucleus, camera_noise, uneven_background
from seglight.io.atomic import atomic_path
from seglight.io.image import read_image, write_ome_tiff

KINDS = ("interphase", "touching", "dim", "mitotic")

#: The envelope's thickness: the demo's erosion (one slice in z, two pixels in xy).
_SHELL_STRUCTURE = np.ones((3, 5, 5), bool)


@dataclass
class BenchmarkImage:
    """One benchmark image.

    Attributes:
        image: uint16 ZYX raw image.
        truth: uint8 0/1 true lamina mask.
        cells: uint16 cell regions, label ``k`` is ``kinds[k - 1]``.
        kinds: the kind of each cell (see :data:`KINDS`).
    """

    image: np.ndarray
    truth: np.ndarray
    cells: np.ndarray
    kinds: list[str]


def _shell(region: np.ndarray) -> np.ndarray:
    return region & ~ndi.binary_erosion(region, structure=_SHELL_STRUCTURE)


def _radii(rng: np.random.Generator, shape_zyx) -> tuple[float, float, float]:
    nz, ny, nx = shape_zyx
    r_xy = rng.uniform(0.13, 0.19) * min(ny, nx)
    return (rng.uniform(0.22, 0.3) * nz, r_xy, r_xy * rng.uniform(0.75, 1.0))


class _Layout:
    """Cells placed one by one without overlap (touching pairs overlap on purpose)."""

    def __init__(self, shape_zyx, rng: np.random.Generator):
        self.shape = tuple(shape_zyx)
        self.rng = rng
        self.cells = np.zeros(self.shape, np.uint16)
        self.kinds: list[str] = []
        self.discs: list[tuple[float, float, float]] = []  # y, x, radius in xy

    def _free(self, y: float, x: float, r: float, gap: float, ignore: int | None = None) -> bool:
        ny, nx = self.shape[1:]
        inside = r * 0.6 < y < ny - r * 0.6 and r * 0.6 < x < nx - r * 0.6
        return inside and all(np.hypot(y - cy, x - cx) > r + cr + gap
                              for i, (cy, cx, cr) in enumerate(self.discs) if i != ignore)

    def add(self, kind: str, center, radii, angle: float) -> int:
        rng = self.rng
        bumps = [(k, rng.uniform(0, 0.06), rng.uniform(0, 2 * np.pi)) for k in (2, 3)]
        filled = _nucleus(self.shape, center, radii, angle, bumps, rng)
        label = len(self.kinds) + 1
        self.cells[filled & (self.cells == 0)] = label
        self.kinds.append(kind)
        self.discs.append((center[1], center[2], radii[1]))
        return label

    def place(self, radii, near: int | None = None, distance: float = 0.0,
              gap: float = 4.0) -> tuple[float, float, float] | None:
        """A free centre; ``near``: at ``distance`` (centre to centre) from that cell's."""
        nz, ny, nx = self.shape
        for _attempt in range(60):
            z = nz / 2 + self.rng.uniform(-1.5, 1.5)
            if near is None:
                y, x = self.rng.uniform(0, ny), self.rng.uniform(0, nx)
            else:
                cy, cx, _ = self.discs[near - 1]
                phi = self.rng.uniform(0, 2 * np.pi)
                y, x = cy + distance * np.sin(phi), cx + distance * np.cos(phi)
            if self._free(y, x, radii[1], gap, None if near is None or gap >= 0 else near - 1):
                return z, y, x
        return None


def _mitotic_lamina(region: np.ndarray, center, rng: np.random.Generator) -> np.ndarray:
    """Arcs of a broken envelope (gaps of 30-70 degrees) and a few compact fragments."""
    shell = _shell(region)
    _, y, x = np.nonzero(shell)
    theta = np.arctan2(y - center[1], x - center[2])
    n_arcs = int(rng.integers(3, 6))
    starts = np.sort(rng.uniform(-np.pi, np.pi, n_arcs))
    keep = np.zeros(theta.shape, bool)
    for start, end in zip(starts, np.append(starts[1:], starts[0] + 2 * np.pi), strict=True):
        gap = np.deg2rad(rng.uniform(30, 70))
        stop = start + max(end - start - gap, 0.15)
        keep |= (np.mod(theta - start, 2 * np.pi) <= stop - start)
    lamina = np.zeros_like(region)
    lamina[tuple(a[keep] for a in np.nonzero(shell))] = True
    inside = np.argwhere(region & ~shell)
    for z, yy, xx in inside[rng.choice(len(inside), int(rng.integers(3, 7)), replace=False)]:
        lamina[max(z - 1, 0): z + 1, max(yy - 1, 0): yy + 2, max(xx - 1, 0): xx + 2] = True
    return lamina & region


def make_benchmark_image(index: int, shape_zyx=(32, 128, 128), seed: int = 0) -> BenchmarkImage:
    """One benchmark image: a bright interphase nucleus and one to three hard cases.

    Args:
        index: image number; the same ``(seed, index)`` always gives the same image.
        shape_zyx: image size (cells scale with it).
        seed: benchmark seed.

    Returns:
        The raw image, true lamina, cell regions and their kinds.
    """
    rng = np.random.default_rng([seed, index])
    layout = _Layout(shape_zyx, rng)
    first = layout.place(radii := _radii(rng, shape_zyx))
    layout.add("interphase", first, radii, rng.uniform(0, np.pi))
    for case in rng.choice(KINDS[1:], size=int(rng.integers(1, 4)), replace=False):
        radii = _radii(rng, shape_zyx)
        if case == "touching":
            # Overlapping outlines: the newcomer is cut by its neighbour, flattening the contact.
            distance = (radii[1] + layout.discs[0][2]) * rng.uniform(0.8, 0.9)
            center = layout.place(radii, near=1, distance=distance, gap=-1.0)
        elif case == "dim":
            anchor = int(rng.integers(1, len(layout.kinds) + 1))
            distance = radii[1] + layout.discs[anchor - 1][2] + rng.uniform(4, 9)
            center = layout.place(radii, near=anchor, distance=distance, gap=2.0)
        else:
            center = layout.place(radii, gap=4.0)
        if center is not None:
            layout.add(str(case), center, radii, rng.uniform(0, np.pi))
    if len(layout.kinds) < 3:  # room left: one more bright nucleus
        center = layout.place(radii := _radii(rng, shape_zyx))
        if center is not None:
            layout.add("interphase", center, radii, rng.uniform(0, np.pi))

    truth = np.zeros(layout.shape, bool)
    signal = np.zeros(layout.shape, np.float32)
    bright = rng.uniform(900, 1400)
    for label, kind in enumerate(layout.kinds, start=1):
        region = layout.cells == label
        level = bright * (rng.uniform(0.2, 0.33) if kind == "dim" else rng.uniform(0.85, 1.15))
        if kind == "mitotic":
            zc, yc, xc = (float(np.mean(a)) for a in np.nonzero(region))
            lamina = _mitotic_lamina(region, (zc, yc, xc), rng)
            signal += region * rng.uniform(120, 220)  # lamin dispersed through the rounded cell
        else:
            lamina = _shell(region)
            signal += (region & ~lamina) * level * rng.uniform(0.07, 0.12)  # nucleoplasm
        signal += lamina * level
        truth |= lamina
    clean = ndi.gaussian_filter(signal, sigma=(1.2, 0.9, 0.9))
    clean += uneven_background(*layout.shape[1:])[None]
    return BenchmarkImage(camera_noise(clean, rng), truth.astype(np.uint8), layout.cells,
                          layout.kinds)


#: Index of the first held-out image: pool and held-out images never share an index.
HELDOUT_OFFSET = 100_000


def write_benchmark(folder: str | Path, n_pool: int = 12, n_heldout: int = 6,
                    shape_zyx=(32, 128, 128), seed: int = 0,
                    heldout_offset: int = HELDOUT_OFFSET) -> Path:
    """Write the benchmark: ``pool/`` (to curate and train on) and ``heldout/`` (to evaluate).

    Each set has ``raw/<name>.ome.tif``, ``truth/<name>.ome.tif`` (true lamina),
    ``cells/<name>.ome.tif`` (cell regions) and ``cells.csv`` (image, label, kind). Images
    already written are kept, so an interrupted run resumes (a folder holding another
    benchmark's images is refused: ``ValueError``). A set of no images is not written.
    ``heldout_offset`` moves the held-out images' indices: a second, fresh held-out set (e.g.
    ``n_pool=0, heldout_offset=200_000``) shares no image with the first.

    Returns:
        The folder.
    """
    folder = Path(folder)
    offset = {"pool": 0, "heldout": heldout_offset}  # disjoint: no held-out image trains
    if heldout_offset < n_pool:
        raise ValueError(f"heldout_offset={heldout_offset}: the held-out images would repeat "
                         f"pool images (n_pool={n_pool}); use an offset of at least n_pool")
    for split, count in (("pool", n_pool), ("heldout", n_heldout)):
        if not count:
            continue
        rows = []
        for i in range(count):
            name = f"{split}_{i:03d}"
            sample = make_benchmark_image(offset[split] + i, tuple(shape_zyx), seed)
            rows += [(name, label, kind) for label, kind in enumerate(sample.kinds, start=1)]
            paths = {part: folder / split / part / f"{name}.ome.tif"
                     for part in ("raw", "truth", "cells")}
            if all(p.exists() for p in paths.values()):
                if not np.array_equal(read_image(paths["truth"]).data, sample.truth):
                    raise ValueError(f"{paths['truth']}: not image {offset[split] + i} of this "
                                     f"benchmark (seed {seed}, shape {list(shape_zyx)}); the "
                                     "folder holds another benchmark's images: use another one")
                continue
            write_ome_tiff(paths["truth"], sample.truth, DEMO_SPACING_UM)
            write_ome_tiff(paths["cells"], sample.cells, DEMO_SPACING_UM)
            write_ome_tiff(paths["raw"], sample.image, DEMO_SPACING_UM)
        with atomic_path(folder / split / "cells.csv") as tmp, open(tmp, "w", newline="") as f:
            csv.writer(f).writerows([("image", "label", "kind"), *rows])
    return folder
