"""The embedded demo dataset: synthetic, Lamin-B1-like nuclear envelopes.

Generated on first use, deterministically, never downloaded. Each image holds a few nuclei
of varied size and shape (ellipsoids with smooth bumps, rotated in xy), whose envelope is a
thin bright shell with dimmer nucleoplasm inside, blurred more in z than in xy (as a
widefield/spinning-disk PSF does), on an uneven background with shot and read noise.

Ground truth is the shell. Costmaps show the curated format's point: some images contain
a bright unlabelled blob (a dead cell, say) and the curator excluded a box around it
(costmap 0), so the network is neither rewarded nor punished there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from seglight.io.curated import find_triplets, write_triplet

#: Voxel size of the demo images (µm, ZYX), as in the Allen Cell hiPSC images.
DEMO_SPACING_UM = (0.29, 0.108, 0.108)


def _nucleus(shape_zyx, center, radii, angle, bumps, rng) -> np.ndarray:
    """Filled, smoothly deformed, xy-rotated ellipsoid as a boolean volume."""
    z, y, x = np.ogrid[: shape_zyx[0], : shape_zyx[1], : shape_zyx[2]]
    dz, dy, dx = z - center[0], y - center[1], x - center[2]
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy
    rho = np.sqrt((dz / radii[0]) ** 2 + (v / radii[1]) ** 2 + (u / radii[2]) ** 2)
    theta = np.arctan2(v, u)
    # Low-order bumps of the outline in xy: real nuclei are kidney- or bean-shaped at times.
    deform = 1 + sum(a * np.cos(k * theta + p) for k, a, p in bumps)
    return rho <= deform


def uneven_background(ny: int, nx: int) -> np.ndarray:
    """The demo's smooth, uneven YX background (about 420..520 counts)."""
    yy, xx = np.mgrid[:ny, :nx].astype(np.float32)
    return 420 + 60 * (xx / nx) + 40 * np.sin(yy / ny * np.pi)


def camera_noise(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shot noise (4 counts per photon) and Gaussian read noise; uint16."""
    noisy = rng.poisson(np.maximum(clean, 0) / 4.0) * 4.0 + rng.normal(0, 12, clean.shape)
    return np.clip(noisy, 0, 65535).astype(np.uint16)


def make_demo_image(index: int, shape_zyx=(32, 128, 128)) -> tuple[np.ndarray, ...]:
    """One synthetic image with its ground truth and costmap.

    Args:
        index: seed; the same index always gives the same sample.
        shape_zyx: image size.

    Returns:
        ``(image uint16, gt uint8 0/1, costmap float32)``, all of ``shape_zyx``.
    """
    rng = np.random.default_rng(1000 + index)
    nz, ny, nx = shape_zyx
    labels = np.zeros(shape_zyx, np.uint8)
    centers: list[tuple[float, float, float, float]] = []
    for _ in range(int(rng.integers(2, 5))):
        for _attempt in range(30):
            r_xy = rng.uniform(0.14, 0.24) * min(ny, nx)
            radii = (rng.uniform(0.22, 0.32) * nz, r_xy, r_xy * rng.uniform(0.7, 1.0))
            center = (nz / 2 + rng.uniform(-2, 2), rng.uniform(0.1, 0.9) * ny,
                      rng.uniform(0.1, 0.9) * nx)
            if all(np.hypot(center[1] - c[1], center[2] - c[2]) > r_xy + c[3] + 4
                   for c in centers):
                break
        else:
            continue
        centers.append((*center, radii[1]))
        bumps = [(k, rng.uniform(0, 0.08), rng.uniform(0, 2 * np.pi)) for k in (2, 3)]
        filled = _nucleus(shape_zyx, center, radii, rng.uniform(0, np.pi), bumps, rng)
        labels[filled & (labels == 0)] = len(centers)
    filled = labels > 0
    # The envelope: the outer layer of each nucleus, about 0.2 µm thick in xy and one slice in z.
    inner = ndi.binary_erosion(labels > 0, structure=np.ones((3, 5, 5), bool))
    shell = filled & ~inner
    envelope = shell.astype(np.float32) * rng.uniform(900, 1400)
    nucleoplasm = inner.astype(np.float32) * rng.uniform(80, 160)
    signal = ndi.gaussian_filter(envelope + nucleoplasm, sigma=(1.2, 0.9, 0.9))
    clean = signal + uneven_background(ny, nx)[None]
    costmap = np.ones(shape_zyx, np.float32)
    if index % 2 == 0:  # an unlabelled bright blob, excluded by the curator
        bz, by, bx = nz // 2, int(rng.uniform(0.15, 0.85) * ny), int(rng.uniform(0.15, 0.85) * nx)
        blob = np.zeros(shape_zyx, np.float32)
        blob[bz, by, bx] = 1
        blob = ndi.gaussian_filter(blob, sigma=(2.5, 5, 5))
        clean += 2500 * blob / blob.max()
        box = tuple(slice(max(c - r, 0), c + r) for c, r in ((bz, 8), (by, 16), (bx, 16)))
        costmap[box] = 0
    return camera_noise(clean, rng), shell.astype(np.uint8), costmap


def ensure_demo_dataset(folder: str | Path, n_images: int = 8,
                        shape_zyx=(32, 128, 128)) -> Path:
    """Write the demo triplets into ``folder`` unless it already has triplets.

    Returns:
        The folder.
    """
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()) and find_triplets(folder):
        return folder
    for index in range(n_images):
        image, gt, costmap = make_demo_image(index, tuple(shape_zyx))
        write_triplet(folder, f"demo_{index:02d}", image, gt, costmap, DEMO_SPACING_UM)
    return folder
