"""Turn the team's real confocal ovule stack into the experiment's folder layout.

    python experiments/lamin_iterative/prepare_ovule.py ../shared/data/sample_ovule.h5 OUT
    python experiments/lamin_iterative/run.py setting=small data.pool=OUT/pool \\
        data.heldout=OUT/heldout evaluation.objects=enclosed out=runs/lamin_iterative/ovule

The stack (``raw`` uint8 ZYX, ``label`` uint16 cells, ``element_size_um``) is cut into its
four YX quadrants: three form the pool, the fourth is held out. The truth is the cell walls
(the inner boundaries of the labelled cells, a shell-like target as the nuclear lamina is);
the labels are the cells a person judges one by one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from skimage.segmentation import find_boundaries

from seglight.io import write_ome_tiff


def main(h5_path: str, out: str) -> None:
    import h5py

    with h5py.File(h5_path, "r") as f:
        raw, label = f["raw"][:], f["label"][:]
        spacing = tuple(float(v) for v in f["raw"].attrs["element_size_um"])
    walls = find_boundaries(label, mode="inner").astype(np.uint8)
    _, ny, nx = raw.shape
    quadrants = [(slice(0, ny // 2), slice(0, nx // 2)), (slice(0, ny // 2), slice(nx // 2, nx)),
                 (slice(ny // 2, ny), slice(0, nx // 2)), (slice(ny // 2, ny), slice(nx // 2, nx))]
    for i, (ys, xs) in enumerate(quadrants):
        split = "heldout" if i == len(quadrants) - 1 else "pool"
        name = f"ovule_q{i}"
        for part, data in (("raw", raw), ("truth", walls), ("cells", label)):
            write_ome_tiff(Path(out) / split / part / f"{name}.ome.tif",
                           np.ascontiguousarray(data[:, ys, xs]), spacing)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python prepare_ovule.py sample_ovule.h5 OUT")
    main(*sys.argv[1:])
