"""Deterministic, structure-like 3D test images for the classic workflows.

Each generator draws one kind of intracellular structure the way a spinning-disk confocal
records it: objects blurred by a point spread function, on a slowly varying background of
~400-500 counts, with Poisson (shot) noise, as uint16 ZYX. Every workflow normalizes its
input first (``N[...]``), so realistic intensities make that step behave as on real data.

Generators take ``shape`` (ZYX) and ``seed``; object counts scale with the image area, so
tests use small images (``(24, 128, 128)``) and the benchmark big ones (``(64, 512, 512)``)
of the same character. :data:`STRUCTURE_OF` maps each of the 26 workflows to its image;
:func:`structure_image` makes it.

Two images are of another character, for the parity matrix of the workflows and the classic
benchmark (``scripts/bench_classic.py --synthetic``): bright, crowded hiPSC-like nuclei
(:func:`hipsc_nuclei`) and a dim, anisotropic yeast-mitochondria-like stack
(:func:`dim_mitochondria`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage as ndi

Shape = tuple[int, int, int]
#: The PSF of the simulated microscope, ZYX voxels (z is coarser than yx in real stacks).
PSF_SIGMA = (1.2, 0.9, 0.9)
TEST_SHAPE: Shape = (24, 128, 128)
BENCH_SHAPE: Shape = (64, 512, 512)
#: The shape of the parity matrix images: small, so the reference runs in a fraction of a second.
MATRIX_SHAPE: Shape = (16, 64, 64)


def _count(shape: Shape, per_128x128: float) -> int:
    """Objects per image: ``per_128x128`` in a 128x128 field, scaled with the YX area."""
    return max(1, round(per_128x128 * shape[1] * shape[2] / 128**2))


def _background(shape: Shape, rng: np.random.Generator, level: float = 430.0) -> np.ndarray:
    """Uneven illumination: ``level`` plus a smooth field of up to +70 counts."""
    coarse = rng.random((2, 3, 3))
    field = ndi.zoom(coarse, [n / c for n, c in zip(shape, coarse.shape, strict=True)], order=1)
    return (level + 70.0 * field[: shape[0], : shape[1], : shape[2]]).astype(np.float32)


def _camera(expected: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Photon counts: Poisson noise around the expected signal, as uint16."""
    counts = rng.poisson(np.clip(expected, 0, 65535).astype(np.float64))
    return np.clip(counts, 0, 65535).astype(np.uint16)


def _image(objects: np.ndarray, brightness: float, rng: np.random.Generator,
           level: float = 430.0) -> np.ndarray:
    """Blur an object density map with the PSF, scale it, add background and noise."""
    blurred = ndi.gaussian_filter(objects.astype(np.float32), PSF_SIGMA)
    return _camera(_background(objects.shape, rng, level) + brightness * blurred, rng)


def _walk(rng: np.random.Generator, shape: Shape, length: float, z_drift: float,
          curl: float, start: np.ndarray | None = None) -> np.ndarray:
    """A smooth random curve (persistent random walk), as float ZYX points 0.5 voxel apart."""
    n = max(2, int(length / 0.5))
    point = start if start is not None else rng.random(3) * np.array(shape)
    direction = rng.normal(size=3) * np.array([z_drift, 1.0, 1.0])
    points = np.empty((n, 3))
    for i in range(n):
        direction = direction / np.linalg.norm(direction)
        points[i] = point
        point = point + 0.5 * direction
        direction = direction + curl * rng.normal(size=3) * np.array([z_drift, 1.0, 1.0])
    return points


def _draw_points(vol: np.ndarray, points: np.ndarray, value: float) -> None:
    """Set the voxels under ``points`` (float ZYX) to at least ``value``; points outside are cut."""
    idx = np.rint(points).astype(int)
    inside = np.all((idx >= 0) & (idx < np.array(vol.shape)), axis=1)
    idx = idx[inside]
    sel = tuple(idx.T)
    vol[sel] = np.maximum(vol[sel], value)


def _thicken(centerlines: np.ndarray, radius: float) -> np.ndarray:
    """Voxels within ``radius`` (ZYX voxels, z squashed 2x like real stacks) of a centerline."""
    dist = ndi.distance_transform_edt(centerlines == 0, sampling=(2.0, 1.0, 1.0))
    return dist <= radius


def _in_ellipsoid(grid: list[np.ndarray], center: np.ndarray, radius: np.ndarray) -> np.ndarray:
    if np.any(radius <= 0):
        return np.zeros(np.broadcast_shapes(*(g.shape for g in grid)), bool)
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, center, radius, strict=True)) <= 1.0


def _ellipsoids(shape: Shape, centers: np.ndarray, radii: np.ndarray,
                values: np.ndarray, shell: float = 0.0) -> np.ndarray:
    """Solid ellipsoids drawn in their bounding boxes, or with ``shell`` > 0, hollow ones
    with walls ``shell`` voxels thick."""
    vol = np.zeros(shape, np.float32)
    for center, radius, value in zip(centers, radii, values, strict=True):
        lo = np.maximum(np.floor(center - radius - 1).astype(int), 0)
        hi = np.minimum(np.ceil(center + radius + 2).astype(int), shape)
        if np.any(hi <= lo):
            continue
        grid = np.ogrid[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))]
        inside = _in_ellipsoid(grid, center, radius)
        if shell:
            inside &= ~_in_ellipsoid(grid, center, radius - shell)
        box = vol[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))]
        np.maximum(box, np.where(inside, value, 0), out=box)
    return vol


def _cells(shape: Shape, rng: np.random.Generator,
           per_128x128: float) -> tuple[np.ndarray, np.ndarray]:
    """Nucleus-like ellipsoids centred in z: centres (N, 3) and radii (N, 3), ZYX."""
    n = _count(shape, per_128x128)
    radius_yx = 0.45 * min(shape[1], shape[2]) / np.sqrt(n) * rng.uniform(0.8, 1.0, (n, 1))
    radii = np.hstack([np.full((n, 1), 0.32 * shape[0]), radius_yx, radius_yx * 1.15])
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    cells_yx = [(i, j) for i in range(rows) for j in range(cols)][:n]
    centers = np.array([
        [shape[0] / 2 + rng.uniform(-1, 1),
         (i + 0.5) * shape[1] / rows + rng.uniform(-2, 2),
         (j + 0.5) * shape[2] / cols + rng.uniform(-2, 2)]
        for i, j in cells_yx
    ])
    return centers, radii


def filaments(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Actin stress fibres / microtubules: long, thin, mostly in-plane curves, mixed brightness."""
    rng = np.random.default_rng(seed)
    lines = np.zeros(shape, np.float32)
    for _ in range(_count(shape, 28)):
        points = _walk(rng, shape, length=rng.uniform(30, 90), z_drift=0.15, curl=0.15)
        _draw_points(lines, points, rng.uniform(0.4, 1.0))
    return _image(lines, 2200.0, rng)


def er_network(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Endoplasmic reticulum: a polygonal tubule network in layers, with a few flat sheets."""
    rng = np.random.default_rng(seed)
    net = np.zeros(shape, np.float32)
    for z in np.linspace(0.2 * shape[0], 0.8 * shape[0], 5):
        nodes = rng.random((_count(shape, 45), 2)) * np.array(shape[1:])
        for a in range(len(nodes)):
            dist = np.linalg.norm(nodes - nodes[a], axis=1)
            for b in np.argsort(dist)[1:3]:
                t = np.linspace(0, 1, int(dist[b] * 2) + 2)[:, None]
                yx = nodes[a] + t * (nodes[b] - nodes[a])
                zz = z + rng.uniform(-1, 1) + 0 * t
                _draw_points(net, np.hstack([zz, yx]), rng.uniform(0.5, 1.0))
    n_sheets = _count(shape, 3)
    centers = np.column_stack([rng.uniform(0.3, 0.7, n_sheets) * shape[0],
                               rng.random((n_sheets, 2)) * np.array(shape[1:])])
    radii = np.column_stack([np.full(n_sheets, 0.8), rng.uniform(4, 8, (n_sheets, 2))])
    net = np.maximum(net, _ellipsoids(shape, centers, radii, np.full(n_sheets, 0.5)))
    return _image(net, 1400.0, rng)


def mitochondria(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Mitochondria: short curved tubes, ~1.5 voxels in radius."""
    rng = np.random.default_rng(seed)
    centerlines = np.zeros(shape, np.float32)
    for _ in range(_count(shape, 40)):
        start = np.array([rng.uniform(0.25, 0.75) * shape[0], *(rng.random(2) * shape[1:])])
        points = _walk(rng, shape, length=rng.uniform(6, 30), z_drift=0.2, curl=0.3, start=start)
        _draw_points(centerlines, points, 1.0)
    tubes = _thicken(centerlines, 1.5).astype(np.float32) * rng.uniform(0.6, 1.0)
    return _image(tubes, 900.0, rng)


def dots(shape: Shape = TEST_SHAPE, seed: int = 0, per_128x128: float = 60,
         radius: tuple[float, float] = (0.8, 1.8), brightness: float = 900.0,
         level: float = 430.0) -> np.ndarray:
    """Punctate structures (peroxisomes, desmosomes, gap junctions, cohesin foci): small
    spots of mixed size and brightness, some touching pairs (the watershed cut splits them)."""
    rng = np.random.default_rng(seed)
    n = _count(shape, per_128x128)
    centers = np.column_stack([rng.uniform(0.2, 0.8, n) * shape[0],
                               rng.random((n, 2)) * np.array(shape[1:])])
    pairs = centers[: n // 5] + np.array([0.0, 3.5, 0.0])
    centers = np.vstack([centers, pairs])
    r_yx = rng.uniform(*radius, len(centers))
    radii = np.column_stack([np.maximum(r_yx / 2, 0.6), r_yx, r_yx])
    blobs = _ellipsoids(shape, centers, radii, rng.uniform(0.4, 1.0, len(centers)))
    return _image(blobs, brightness, rng, level)


def centrioles(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Centrioles: a few very bright, tiny dot pairs over dim diffuse signal."""
    rng = np.random.default_rng(seed)
    n = _count(shape, 5)
    centers = np.column_stack([rng.uniform(0.3, 0.7, n) * shape[0],
                               rng.uniform(0.1, 0.9, (n, 2)) * np.array(shape[1:])])
    centers = np.vstack([centers, centers + np.array([0.0, 2.5, 1.5])])
    radii = np.full((2 * n, 3), [0.6, 1.0, 1.0])
    spots = _ellipsoids(shape, centers, radii, rng.uniform(0.6, 1.0, 2 * n))
    diffuse = ndi.gaussian_filter(rng.random(shape).astype(np.float32), 6) * 0.2
    return _image(spots + diffuse, 4000.0, rng)


def nuclear_pores(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Nuclear pores: dots scattered over nuclear envelopes (shells in the middle of the stack)."""
    rng = np.random.default_rng(seed)
    cell_centers, cell_radii = _cells(shape, rng, 1)
    points = []
    for center, radii in zip(cell_centers, cell_radii, strict=True):
        direction = rng.normal(size=(int(radii[1] * 8), 3))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        points.append(center + direction * radii)
    centers = np.vstack(points)
    n = len(centers)
    spots = _ellipsoids(shape, centers, np.full((n, 3), [0.7, 1.2, 1.2]), rng.uniform(0.5, 1.0, n))
    return _image(spots, 1000.0, rng)


def junction_lines(shape: Shape = TEST_SHAPE, seed: int = 0, spotty: bool = False) -> np.ndarray:
    """Cell-cell junctions: the borders of a polygonal (Voronoi) cell sheet, as lines in the
    apical slices (tight junctions) or, with ``spotty``, as beaded lines through the cell
    height (adherens junctions)."""
    rng = np.random.default_rng(seed)
    seeds_yx = rng.random((_count(shape, 12), 2)) * np.array(shape[1:])
    yy, xx = np.mgrid[: shape[1], : shape[2]]
    dist = np.stack([np.hypot(yy - y, xx - x) for y, x in seeds_yx])
    owner = np.argmin(dist, axis=0)
    border = (owner != ndi.grey_erosion(owner, size=(2, 2))).astype(np.float32)
    vol = np.zeros(shape, np.float32)
    if spotty:
        beads = border * (rng.random(border.shape) < 0.12)
        for z in range(int(0.2 * shape[0]), int(0.8 * shape[0]), 3):
            vol[z] = beads * rng.uniform(0.5, 1.0)
        vol = ndi.grey_dilation(vol, size=(1, 2, 2))
        return _image(vol, 1500.0, rng)
    top = int(0.7 * shape[0])
    vol[top : top + 2] = border * rng.uniform(0.6, 1.0)
    return _image(vol, 1800.0, rng)


def focal_adhesions(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Focal adhesions: short elongated plaques in the bottom slices, over dim cytoplasm."""
    rng = np.random.default_rng(seed)
    n = _count(shape, 40)
    bottom = int(0.15 * shape[0])
    centers = np.column_stack([bottom + rng.uniform(-0.5, 1.5, n),
                               rng.random((n, 2)) * np.array(shape[1:])])
    radii = np.column_stack([np.full(n, 0.8), rng.uniform(1.0, 1.6, n), rng.uniform(2.5, 5.0, n)])
    plaques = _ellipsoids(shape, centers, radii, rng.uniform(0.5, 1.0, n))
    cytoplasm = np.zeros(shape, np.float32)
    cytoplasm[bottom : int(0.6 * shape[0])] = 0.08
    return _image(plaques + cytoplasm, 2000.0, rng)


def nucleoli(shape: Shape = TEST_SHAPE, seed: int = 0, nucleoplasm: float = 0.15) -> np.ndarray:
    """Nucleoli: a few large irregular blobs inside nuclei with dimmer nucleoplasm."""
    rng = np.random.default_rng(seed)
    cell_centers, cell_radii = _cells(shape, rng, 2)
    nuclei = _ellipsoids(shape, cell_centers, cell_radii, np.full(len(cell_centers), nucleoplasm))
    centers, radii = [], []
    for center, cradii in zip(cell_centers, cell_radii, strict=True):
        for _ in range(rng.integers(2, 4)):
            centers.append(center + rng.uniform(-0.45, 0.45, 3) * cradii * np.array([0.3, 1, 1]))
            radii.append(rng.uniform(0.18, 0.3) * cradii[1] * np.array([0.45, 1.0, 0.8]))
    brightness = rng.uniform(0.6, 1.0, len(centers))
    blobs = _ellipsoids(shape, np.array(centers), np.array(radii), brightness)
    texture = ndi.gaussian_filter(rng.random(shape).astype(np.float32), 1.5)
    blobs *= 0.7 + 0.6 * texture
    return _image(np.maximum(nuclei, blobs), 2500.0, rng)


def nuclear_envelope(shape: Shape = TEST_SHAPE, seed: int = 0, broken: bool = False) -> np.ndarray:
    """Lamina: thin ellipsoidal shells centred in the middle of the stack (interphase), or
    with ``broken``, small shell fragments scattered in the stack (mitosis)."""
    rng = np.random.default_rng(seed)
    centers, radii = _cells(shape, rng, 1)
    if broken:
        n = _count(shape, 12)
        centers = np.column_stack([rng.uniform(0.3, 0.7, n) * shape[0],
                                   rng.random((n, 2)) * np.array(shape[1:])])
        radii = np.column_stack([rng.uniform(2, 4, n), rng.uniform(4, 9, (n, 2))])
    shells = _ellipsoids(shape, centers, radii, rng.uniform(0.7, 1.0, len(centers)), shell=2.0)
    if broken:
        shells *= ndi.gaussian_filter(rng.random(shape).astype(np.float32), 2) > 0.5
    return _image(shells, 1600.0, rng)


def golgi(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Golgi: thick curved ribbons clustered beside each nucleus, with scattered vesicles."""
    rng = np.random.default_rng(seed)
    cell_centers, cell_radii = _cells(shape, rng, 2)
    centerlines = np.zeros(shape, np.float32)
    for center, radii in zip(cell_centers, cell_radii, strict=True):
        hub = center + np.array([0.0, 0.5 * radii[1], 0.0])
        for _ in range(4):
            start = hub + rng.uniform(-4, 4, 3) * np.array([0.3, 1, 1])
            _draw_points(centerlines, _walk(rng, shape, rng.uniform(15, 30), 0.2, 0.25, start), 1.0)
    ribbons = _thicken(centerlines, 2.2).astype(np.float32)
    n = _count(shape, 25)
    vesicle_centers = np.column_stack([rng.uniform(0.3, 0.7, n) * shape[0],
                                       rng.random((n, 2)) * np.array(shape[1:])])
    vesicles = _ellipsoids(shape, vesicle_centers, np.full((n, 3), [0.8, 1.3, 1.3]),
                           rng.uniform(0.3, 0.7, n))
    return _image(np.maximum(ribbons * rng.uniform(0.7, 1.0), vesicles), 1500.0, rng)


def vesicles(shape: Shape = TEST_SHAPE, seed: int = 0, brightness: float = 1200.0) -> np.ndarray:
    """Lysosomes / endosomes: hollow rings of 2-5 voxels radius and small solid dots."""
    rng = np.random.default_rng(seed)
    n = _count(shape, 35)
    centers = np.column_stack([rng.uniform(0.25, 0.75, n) * shape[0],
                               rng.random((n, 2)) * np.array(shape[1:])])
    r_yx = rng.uniform(2.0, 5.0, n)
    rings = _ellipsoids(shape, centers, np.column_stack([r_yx / 1.6, r_yx, r_yx]),
                        rng.uniform(0.5, 1.0, n), shell=1.2)
    m = _count(shape, 40)
    dot_centers = np.column_stack([rng.uniform(0.25, 0.75, m) * shape[0],
                                   rng.random((m, 2)) * np.array(shape[1:])])
    small = _ellipsoids(shape, dot_centers, np.full((m, 3), [0.7, 1.2, 1.2]),
                        rng.uniform(0.3, 0.9, m))
    return _image(np.maximum(rings, small), brightness, rng)


def nuclei_texture(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Histone-labelled nuclei: ellipsoids filled with grainy chromatin texture."""
    rng = np.random.default_rng(seed)
    centers, radii = _cells(shape, rng, 2)
    nuclei = _ellipsoids(shape, centers, radii, np.ones(len(centers)))
    texture = ndi.gaussian_filter(rng.random(shape).astype(np.float32), 1.2)
    texture = (texture - texture.min()) / np.ptp(texture)
    return _image(nuclei * (0.4 + texture), 1200.0, rng)


def dna_nuclei_and_truth(shape: Shape = TEST_SHAPE,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """DNA / H2B-stained nuclei and where they are: filled ellipsoids with grainy chromatin,
    bright heterochromatin foci and 1-3 dark nucleoli each (a DNA stain spares them).

    Returns:
        The uint16 ZYX image and the nuclei (bool ZYX, nucleoli included): what a filled
        nucleus mask should be.
    """
    rng = np.random.default_rng(seed)
    centers, radii = _cells(shape, rng, 3)
    nuclei = _ellipsoids(shape, centers, radii, np.ones(len(centers))) > 0
    holes, foci = [], []
    for center, cradii in zip(centers, radii, strict=True):
        for _ in range(rng.integers(1, 4)):
            offset = rng.uniform(-0.4, 0.4, 3) * np.array([0.3, 1, 1]) * cradii
            holes.append((center + offset, rng.uniform(0.2, 0.3) * cradii[1] * np.array(
                [0.6, 1.0, 0.9])))
        for _ in range(8):
            foci.append(center + rng.uniform(-0.6, 0.6, 3) * cradii * np.array([0.5, 1, 1]))
    nucleoli = _ellipsoids(shape, np.array([c for c, _ in holes]),
                           np.array([r for _, r in holes]), np.ones(len(holes))) > 0
    bright = _ellipsoids(shape, np.array(foci), np.full((len(foci), 3), [0.8, 1.5, 1.5]),
                         np.full(len(foci), 0.8))
    texture = ndi.gaussian_filter(rng.random(shape).astype(np.float32), 1.2)
    texture = (texture - texture.min()) / np.ptp(texture)
    signal = nuclei * (0.35 + 0.5 * texture) + bright * nuclei
    signal[nucleoli & nuclei] *= 0.2
    return _image(signal, 1500.0, rng), nuclei


def dna_nuclei(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """DNA / H2B-stained nuclei (:func:`dna_nuclei_and_truth`'s image)."""
    return dna_nuclei_and_truth(shape, seed)[0]


def speckles(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """Nuclear speckles: blobs from tiny to large, some elongated, inside dim nuclei."""
    rng = np.random.default_rng(seed)
    cell_centers, cell_radii = _cells(shape, rng, 2)
    nuclei = _ellipsoids(shape, cell_centers, cell_radii, np.full(len(cell_centers), 0.1))
    centers, radii = [], []
    for center, cradii in zip(cell_centers, cell_radii, strict=True):
        for _ in range(25):
            centers.append(center + rng.uniform(-0.7, 0.7, 3) * cradii * np.array([0.4, 1, 1]))
            r = rng.choice([1.0, 1.5, 2.5, 4.0])
            radii.append([max(r / 2, 0.7), r, r * rng.uniform(1.0, 2.0)])
    brightness = rng.uniform(0.4, 1.0, len(centers))
    blobs = _ellipsoids(shape, np.array(centers), np.array(radii), brightness)
    return _image(np.maximum(nuclei, blobs), 2000.0, rng)


def _nucleoli_bright_nucleoplasm(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    return nucleoli(shape, seed, nucleoplasm=0.2)


def _tight_junctions(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    return junction_lines(shape, seed)


def _adherens_junctions(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    return junction_lines(shape, seed, spotty=True)


def _endosomes(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    # RAB5A's N[1000] treats brighter voxels as saturated; real endosomes stay below it.
    return vesicles(shape, seed, brightness=500.0)


def _mitotic_lamina(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    return nuclear_envelope(shape, seed, broken=True)


def _nuclear_dots(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    return dots(shape, seed, per_128x128=50, radius=(0.8, 1.4), brightness=700.0)


def _desmosomes(shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    return dots(shape, seed, per_128x128=70, radius=(0.8, 1.5), brightness=1500.0)


def _rescale(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map the image's range linearly onto ``[lo, hi]`` (float64)."""
    img = img.astype(np.float64)
    return lo + (img - img.min()) / max(np.ptp(img), 1e-12) * (hi - lo)


def hipsc_nuclei(shape: Shape = MATRIX_SHAPE, seed: int = 0) -> np.ndarray:
    """Bright, crowded nuclei like the Allen hiPSC nuclear stain (uint16).

    Most voxels are above 4000 (a background of ~5000 counts between nuclei of
    20000-40000 with grainy chromatin), so workflows with absolute normalizations
    (``N[4000]``, ``N4[.., 300, 2000]``) see an image outside their tuned range, and spot
    and filament filters see objects far larger than their scale.
    """
    rng = np.random.default_rng(seed)
    n = max(2, round(6 * shape[1] * shape[2] / 128**2))
    centers = np.column_stack([
        shape[0] / 2 + rng.uniform(-1, 1, n),
        rng.uniform(0.05, 0.95, n) * shape[1],
        rng.uniform(0.05, 0.95, n) * shape[2],
    ])
    r_yx = rng.uniform(0.1, 0.2, n) * min(shape[1:])
    radii = np.column_stack([np.full(n, 0.35 * shape[0]), r_yx, r_yx * rng.uniform(1, 1.3, n)])
    nuclei = _ellipsoids(shape, centers, radii, rng.uniform(0.6, 1.0, n))
    texture = ndi.gaussian_filter(rng.random(shape).astype(np.float32), 1.0)
    texture = (texture - texture.min()) / np.ptp(texture)
    signal = ndi.gaussian_filter(nuclei * (0.6 + 0.8 * texture), (1.2, 0.9, 0.9))
    expected = 5000.0 + 600 * rng.random(shape) + 30000.0 * signal
    return np.clip(rng.poisson(expected), 0, 65535).astype(np.uint16)


def dim_mitochondria(shape: Shape = MATRIX_SHAPE, seed: int = 0) -> np.ndarray:
    """A dim, anisotropic stack like yeast mitochondria (uint16 in ~64..196).

    Tubules drawn on a 4x finer z grid, blurred by an elongated PSF and sampled every
    fourth plane: few grey levels, and structures that barely change from slice to slice.
    """
    fine = structure_image("tomm20", (4 * shape[0], shape[1], shape[2]), seed)
    fine = ndi.gaussian_filter(fine.astype(np.float32), (3.0, 0.6, 0.6))
    rng = np.random.default_rng(seed)
    coarse = _rescale(fine[::4], 70.0, 185.0)
    return np.clip(rng.poisson(coarse), 0, 65535).astype(np.uint16)


Generator = Callable[..., np.ndarray]

#: Which structure-like image each workflow segments in tests and benchmarks.
STRUCTURE_OF: dict[str, Generator] = {
    "actb": filaments,
    "actn1": filaments,
    "atp2a2": er_network,
    "cetn2": centrioles,
    "ctnnb1": _adherens_junctions,
    "dsp": _desmosomes,
    "fbl": nucleoli,
    "gja1": dots,
    "h2b_interphase": nuclei_texture,
    "lamp1": vesicles,
    "lmnb1_interphase": nuclear_envelope,
    "lmnb1_mitotic": _mitotic_lamina,
    "myh10": filaments,
    "npm1": _nucleoli_bright_nucleoplasm,
    "nucleus": dna_nuclei,
    "nup153": nuclear_pores,
    "pxn": focal_adhesions,
    "rab5a": _endosomes,
    "sec61b": er_network,
    "slc25a17": dots,
    "smc1a": _nuclear_dots,
    "son": speckles,
    "st6gal1": golgi,
    "tjp1": _tight_junctions,
    "tomm20": mitochondria,
    "tuba1b": filaments,
}


def structure_image(workflow: str, shape: Shape = TEST_SHAPE, seed: int = 0) -> np.ndarray:
    """The structure-like uint16 ZYX image for ``workflow`` (see :data:`STRUCTURE_OF`)."""
    return STRUCTURE_OF[workflow](shape, seed)


def two_touching_dots() -> np.ndarray:
    """Two bright Gaussian dots 7 voxels apart on a flat background (12×40×40): one object
    for a threshold, two for the dot workflows' watershed cut."""
    z, y, x = np.mgrid[:12, :40, :40].astype(np.float32)
    img = np.full((12, 40, 40), 400.0, np.float32)
    for cy, cx in ((20, 16), (20, 23)):
        img += 3000 * np.exp(-((z - 6) ** 2 + (y - cy) ** 2 + (x - cx) ** 2) / (2 * 2.0**2))
    return img
