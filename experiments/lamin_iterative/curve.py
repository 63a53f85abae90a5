"""Which images to curate in round 2: held-out Dice against the number of images curated.

    python experiments/lamin_iterative/curve.py setting=small              # after (or with) run.py
    python experiments/lamin_iterative/curve.py setting=small "curve.ks=[0,2,4,8,null]"

Round 2 need not show a person every image of the pool. Here the person curates only the
first ``k`` images of an order (merging, as in ``run.py``'s round 2) and the other images keep
their round-1 curation; the network is retrained on that set and scored on the held-out
images. Orders: ``uncertainty`` (the round-1 network's flip test-time-augmentation
disagreement, most uncertain first: ``seglight.curate ... order=uncertainty``'s score),
``disagreement`` (the round-1 network's mask against the classic one the image was labelled
with in round 1: ``order=uncertainty uncertainty_seg=``'s score) and ``random`` (a
permutation drawn from ``seed``). ``k = 0`` is round 1 and ``k = n`` (the whole
pool) is round 2 of ``run.py``; they are read from its results, not trained again.

Writes ``<out>/curve/curve.csv``, ``curve.md`` and ``curve.png`` (Dice and object F1 against
``k``). Runs ``run.py``'s stages first when they are missing (they resume).
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as experiment  # noqa: E402

from seglight.errors import SeglightError  # noqa: E402

DEFAULT_KS = [0, 2, 4, 8, None]  # None: the whole pool
DEFAULT_ORDERS = ["uncertainty", "random"]


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def uncertainty_order(raws: list[Path], ckpt: Path, cache: Path) -> tuple[list[Path], dict]:
    """The pool most uncertain first, by the round-1 network's flip-TTA disagreement."""
    from seglight.curate.uncertainty import order_by_score, score_images

    scores = score_images(raws, ckpt_path=ckpt, device="cpu", cache=cache)
    return order_by_score(raws, scores), scores


def disagreement_order(raws: list[Path], network: Path, classic: Path) -> tuple[list[Path], dict]:
    """The pool by how much the round-1 network's masks differ from the classic ones (round
    1's labels): where curating changes the labels most, first."""
    from seglight.curate.uncertainty import order_by_score, score_images

    scores = score_images(raws, seg=network, seg2=classic)
    return order_by_score(raws, scores), scores


def curated_names(curated: Path) -> dict[str, str]:
    """Raw file name -> the name of its triplet in a curated folder (``curation_log.csv``)."""
    names = {}
    with open(curated / "curation_log.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["status"] == "written" and row["output"]:
                names[row["image"]] = row["output"]
    return names


def mixed_curation(order: list[Path], k: int, round1: Path, round2: Path, out: Path) -> Path:
    """A curated folder: round 2's triplets for the first ``k`` images, round 1's for the rest."""
    if out.is_dir() and (out / ".complete").is_file():
        return out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    chosen = {_stem(p) for p in order[:k]}
    outputs = {folder: curated_names(folder) for folder in (round1, round2)}
    for raw in order:
        stem = _stem(raw)
        source = round2 if stem in chosen else round1
        name = outputs[source][raw.name]  # the Curator's own name of this image's triplet
        for path in source.iterdir():
            if path.name.split(".")[0] in (name, f"{name}_GT", f"{name}_CM"):
                shutil.copy2(path, out / path.name.replace(name, stem, 1))
    (out / "chosen.txt").write_text("".join(f"{_stem(p)}\n" for p in order[:k]))
    (out / ".complete").write_text("")
    return out


def plot(rows: list[dict], n: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    objects = [key for key in rows[0] if key.startswith("object_f1_")][-1]  # the floored one
    for ax, key, title in zip(axes, ("dice", objects),
                              ("held-out Dice", "held-out object F1 "
                               f"({experiment._objects_title(objects)})"), strict=True):
        for order, style in (("uncertainty", "o-"), ("disagreement", "^-."), ("random", "s--")):
            points = sorted((r["k"], r[key]) for r in rows if r["order"] == order and key in r)
            if points:
                ax.plot(*zip(*points, strict=True), style, label=f"{order} order")
        ax.set_xlabel(f"images curated in round 2 (of {n})")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def curve(cfg: DictConfig) -> list[dict]:
    import torch

    torch.set_num_threads(int(experiment.thread_env(cfg)["OMP_NUM_THREADS"]))
    out = Path(cfg.out)
    net, overrides = next((n, o) for n, o in cfg.networks.items() if o is not None)
    ckpt = out / "round1" / net / "train" / "checkpoints" / "best.ckpt"
    round2_curated = out / "round2" / net / "curated"
    if not (ckpt.is_file() and round2_curated.is_dir()):
        experiment.run(cfg)  # resumes: only missing stages run
    data = experiment.prepare_data(cfg, out)
    pool, held = data["pool"], data["heldout"]
    raws = experiment._images(pool["raw"])
    n = len(raws)
    settings = cfg.get("curve") or {}
    ks = [n if k is None or k > n else int(k) for k in settings.get("ks", DEFAULT_KS)]
    orders = list(settings.get("orders", DEFAULT_ORDERS))
    where = out / "curve"
    where.mkdir(parents=True, exist_ok=True)
    start = experiment._cpu_s()
    ordered = {"random": [raws[i] for i in np.random.default_rng(cfg.seed).permutation(n)]}
    scores = {}
    if "uncertainty" in orders:
        ordered["uncertainty"], scores["uncertainty"] = uncertainty_order(
            raws, ckpt, where / "uncertainty_scores.csv")
    if "disagreement" in orders:
        ordered["disagreement"], scores["disagreement"] = disagreement_order(
            raws, out / "round1" / net / "pool", out / "classic" / "pool")
    objects, min_object_size = experiment._objects(cfg)
    keys = ["dice", "object_f1", f"object_f1_{objects}"]
    keys += [f"object_f1_{objects}_{min_object_size}vx"] if min_object_size else []
    keys += ["hd95_um"]
    points = {}
    for order in orders:  # the points between round 1 and round 2 first
        for k in ks:
            if k not in (0, n):
                curated = mixed_curation(ordered[order], k, out / "round1" / "curated",
                                         round2_curated, where / f"{order}_k{k}" / "curated")
                # trained as round 2 is (round2.init: fine-tuned from round 1, or anew)
                point_cfg, point_overrides = experiment.round2_training(
                    cfg, out / "round1" / net, list(overrides))
                points[order, k] = experiment.train_and_score(
                    point_cfg, where / f"{order}_k{k}", curated, point_overrides, pool, held)
                print(f"curve: {order} k={k}: {points[order, k]}", flush=True)
    ends = {r["stage"]: r for r in experiment.run(cfg) if r["network"] == net}  # resumes
    rows = []
    for order in orders:
        for k in ks:
            row = points.get((order, k)) or ends["round1" if k == 0 else "round2"]
            rows.append({"order": order, "k": k, **{key: row[key] for key in keys}})
    with open(where / "curve.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    objects_keys = keys[2:-1]
    lines = [f"| order | k (of {n}) | Dice | object F1 | " + "".join(
        f"object F1 ({experiment._objects_title(key)}) | " for key in objects_keys)
        + "HD95 (µm) |", "|---|---|---|---|" + "---|" * (len(objects_keys) + 1)]
    lines += [f"| {r['order']} | {r['k']} | {r['dice']:.3f} | {r['object_f1']:.3f} | "
              + "".join(f"{r[key]:.3f} | " for key in objects_keys)
              + f"{r['hd95_um']:.2f} |" for r in rows]
    titles = {"uncertainty": "Uncertainty order (flip-TTA disagreement of the round-1 network)",
              "disagreement": "Disagreement order (round-1 network vs classic mask, 1 - Dice)"}
    for order, by_image in scores.items():
        lines += ["", f"{titles[order]}:", ""]
        lines += [f"{i + 1}. {_stem(p)}: {by_image[p]:.4f}"
                  for i, p in enumerate(ordered[order])]
    lines += ["", "Random order: " + ", ".join(_stem(p) for p in ordered["random"])]
    (where / "curve.md").write_text("\n".join(lines) + "\n")
    plot(rows, n, where / "curve.png")
    print(f"CPU time of the curve (training subprocesses included): "
          f"{experiment._cpu_s() - start:.0f} s")
    print((where / "curve.md").read_text())
    return rows


def main(argv: list[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    try:
        curve(experiment.load_setting(argv))
    except SeglightError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
