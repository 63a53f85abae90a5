"""Object F1 before and after splitting touching objects (``labels=true
split_touching=<µm>``), on the benchmark's touching cells and on the real ovule.

Objects match one-to-one at IoU >= 0.5 (as ``seglight.evaluation`` matches them); object
F1 = 2 matched / (predicted + true objects). Three sources of objects:

- ``benchmark, true cells merged``: the benchmark images that hold a *touching* pair
  (:mod:`seglight.data.benchmark`), the union of the true cell regions as the mask: the
  splitter alone, on the ideal mask, against the true cells;
- ``benchmark, lmnb1_interphase``: the classic workflow's own labels (nuclear envelopes),
  as ``labels=true`` writes them, each filled (its enclosed holes flooded from it), against
  the true cells (a thin envelope one voxel off its truth has IoU < 0.5: envelopes are
  matched as the nuclei they enclose);
- ``ovule``: ``/work/shared/data/sample_ovule.h5`` (real cells packed against each
  other): the tissue without the sec61b workflow's wall mask, 6-connected components,
  against the true cell labels.

    python scripts/split_touching_f1.py [--images 40] [--seed-um 2.0] [--ovule FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from seglight.classic import ClassicBinarizer
from seglight.data.benchmark import make_benchmark_image
from seglight.data.demo import DEMO_SPACING_UM
from seglight.measure import label_objects, relabel_consecutive, split_touching
from seglight.predict.runner import object_labels

#: The team's real data, beside the repository (absent in a user's clone: left out).
OVULE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sample_ovule.h5"


def matched(pred: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    """(matched, predicted, true) objects of two label images, IoU >= 0.5 one-to-one."""
    n_pred, n_true = int(pred.max()), int(truth.max())
    both = (pred > 0) & (truth > 0)
    pairs, inter = np.unique(pred[both].astype(np.int64) * (n_true + 1) + truth[both],
                             return_counts=True)
    p, t = np.divmod(pairs, n_true + 1)
    sizes_p = np.bincount(pred.ravel(), minlength=n_pred + 1)
    sizes_t = np.bincount(truth.ravel(), minlength=n_true + 1)
    iou = inter / (sizes_p[p] + sizes_t[t] - inter)
    return int(np.count_nonzero(iou > 0.5)), n_pred, n_true  # > 0.5: one-to-one


def filled_labels(labels: np.ndarray) -> np.ndarray:
    """Each object with its enclosed holes, flooded from its own voxels."""
    from skimage.segmentation import watershed

    from seglight.measure import _filled

    return watershed(np.zeros(labels.shape, np.uint8), labels, mask=_filled(labels > 0))


def f1(counts: list[tuple[int, int, int]]) -> tuple[float, int, int, int]:
    m, p, t = (sum(c[i] for c in counts) for i in range(3))
    return 2 * m / (p + t), m, p, t


def benchmark(n_images: int, seed_um: float) -> dict[str, list]:
    rows = {k: [] for k in ("ideal before", "ideal after", "lmnb1 before", "lmnb1 after")}
    binarizer = ClassicBinarizer("lmnb1_interphase")
    used = 0
    for index in range(n_images):
        bench = make_benchmark_image(index)
        if "touching" not in bench.kinds:
            continue
        used += 1
        truth = bench.cells
        merged = relabel_consecutive(label_objects(truth > 0, connectivity=3))
        rows["ideal before"].append(matched(merged, truth))
        rows["ideal after"].append(
            matched(split_touching(merged, DEMO_SPACING_UM, seed_um), truth))
        mask, own = binarizer.predict_proba_and_labels(bench.image)
        mask = mask > 0.5
        for key, split in (("lmnb1 before", None), ("lmnb1 after", seed_um)):
            labels = object_labels(mask, own, "bench", split, DEMO_SPACING_UM)
            rows[key].append(matched(filled_labels(labels), truth))
    print(f"benchmark: {used} of {n_images} images hold a touching pair")
    return rows


def ovule(path: Path, seed_um: float) -> dict[str, list]:
    import h5py

    with h5py.File(path) as f:
        raw, truth = f["raw"][:], f["label"][:].astype(np.int64)
        spacing = tuple(float(s) for s in f["raw"].attrs["element_size_um"])
    truth = relabel_consecutive(truth)  # the file's cell ids run to 918 for 50 cells
    walls = ClassicBinarizer("sec61b").predict_mask(raw) > 0
    cells = (truth > 0) & ~walls
    before = relabel_consecutive(label_objects(cells, connectivity=1))
    after = split_touching(before, spacing, seed_um)
    return {"ovule before": [matched(before, truth)], "ovule after": [matched(after, truth)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--seed-um", type=float, default=2.0)
    parser.add_argument("--ovule-seed-um", type=float, default=1.5)
    parser.add_argument("--ovule", type=Path, default=OVULE, help="sample_ovule.h5")
    args = parser.parse_args()
    rows = benchmark(args.images, args.seed_um)
    if args.ovule.exists():
        rows |= ovule(args.ovule, args.ovule_seed_um)
    print("| objects | split | object F1 | matched | predicted | true |")
    print("|---|---|---|---|---|---|")
    for key, counts in rows.items():
        score, m, p, t = f1(counts)
        source, when = key.rsplit(" ", 1)
        print(f"| {source} | {'on' if when == 'after' else 'off'} | {score:.3f} | {m} | {p} "
              f"| {t} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
