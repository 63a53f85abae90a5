"""Object F1 by object size, over runs of several seeds (the README's "blur-sized objects").

    python experiments/lamin_iterative/objects.py runs/lamin_iterative/small_seed{0,1,2}

Prints two markdown tables from the runs' held-out images (``run.py`` outputs):

1. per object-size floor (objects under it left out of both masks, as
   ``seglight.evaluate``'s ``min_object_size``): the smallest round 2 - round 1 margin of
   object F1 over the seeds against the larger of the two rounds' spreads, on the filled
   objects and on the lamina's own components, with each network's pool-chosen ``min_size``;
2. per seed and round: how the network segments the small true objects (10-40 voxels: the
   benchmark's mitotic fragments) when nothing is removed: each run's held-out images are
   predicted again with ``min_size=0`` into ``<stage>/<network>/heldout_min_size0`` (once).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as experiment  # noqa: E402

FLOORS = (0, 20, 50, 100, 200, 500)
SMALL = (10, 40)  # voxels: the benchmark's fragments (18, or 36 for two touching)
STAGES = ("round1", "round2")


def _network(run_dir: Path) -> str:
    return next(p.name for p in sorted((run_dir / "round1").iterdir())
                if (p / "heldout").is_dir())


def _object_f1(preds: dict, truths: dict, kind: str, floor: int) -> tuple[float, int]:
    return experiment.pooled_object_f1(
        {key: experiment.objects_of(mask, kind) for key, mask in preds.items()},
        {key: experiment.objects_of(mask, kind) for key, mask in truths.items()}, kind, floor)


def floor_table(run_dirs: list[Path]) -> list[str]:
    truths = experiment._read_masks(run_dirs[0] / "data" / "heldout" / "truth")
    preds = {(run, stage): experiment._read_masks(run / stage / _network(run) / "heldout")
             for run in run_dirs for stage in STAGES}
    lines = ["| floor (voxels) | objects | true objects left | round 1 (per seed) | "
             "round 2 (per seed) | smallest margin | larger spread |",
             "|---|---|---|---|---|---|---|"]
    for kind in ("filled", "mask"):
        for floor in FLOORS:
            f1 = {}
            for key, masks in preds.items():
                f1[key], n_true = _object_f1(masks, truths, kind, floor)
            r1 = [f1[run, "round1"] for run in run_dirs]
            r2 = [f1[run, "round2"] for run in run_dirs]
            margin = min(b - a for a, b in zip(r1, r2, strict=True))
            spread = max(max(r1) - min(r1), max(r2) - min(r2))
            lines.append(f"| {floor} | {kind} | {n_true} | " + " / ".join(f"{v:.3f}" for v in r1)
                         + " | " + " / ".join(f"{v:.3f}" for v in r2)
                         + f" | {margin:+.3f} | {spread:.3f} |")
    return lines


def small_object_table(run_dirs: list[Path]) -> list[str]:
    import seglight

    truths = experiment._read_masks(run_dirs[0] / "data" / "heldout" / "truth")
    lines = ["| run | round | small true objects | segmented as their own object | "
             "median size (voxels) | median IoU | IoU ≥ 0.5 |", "|---|---|---|---|---|---|---|"]
    full = np.ones((3, 3, 3), bool)
    for run in run_dirs:
        raw = run / "data" / "heldout" / "raw"
        for stage in STAGES:
            where = run / stage / _network(run)
            out = where / "heldout_min_size0"
            if not experiment._done(out, len(experiment._images(raw))):
                seglight.predict_files(raw, out, ckpt_path=where / "train" / "checkpoints" /
                                       "best.ckpt", progress=False, min_size=0)
            preds = experiment._read_masks(out)
            n_small, sizes, ious = 0, [], []
            for key, truth in truths.items():
                true_labels, n = ndi.label(truth, full)
                pred_labels, _ = ndi.label(preds[key], full)
                true_sizes = np.bincount(true_labels.ravel())
                for label in range(1, n + 1):
                    if not SMALL[0] <= true_sizes[label] <= SMALL[1]:
                        continue
                    n_small += 1
                    inside = true_labels == label
                    ids, counts = np.unique(pred_labels[inside], return_counts=True)
                    counts, ids = counts[ids > 0], ids[ids > 0]
                    if not ids.size:
                        continue
                    partner = pred_labels == ids[counts.argmax()]
                    if partner.sum() > 10 * SMALL[1]:  # part of an arc or an envelope
                        continue
                    sizes.append(int(partner.sum()))
                    ious.append(counts.max() / np.logical_or(partner, inside).sum())
            lines.append(f"| {run.name} | {stage[-1]} | {n_small} | {len(sizes)} | "
                         f"{np.median(sizes) if sizes else '–'} | "
                         f"{f'{np.median(ious):.2f}' if ious else '–'} | "
                         f"{sum(i >= 0.5 for i in ious)} |")
    return lines


if __name__ == "__main__":
    if len(sys.argv) < 2 or {"-h", "--help"} & set(sys.argv):
        raise SystemExit(__doc__)
    runs = [Path(a) for a in sys.argv[1:]]
    print("\n".join(floor_table(runs) + [""] + small_object_table(runs)))
