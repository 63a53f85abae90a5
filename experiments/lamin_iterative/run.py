"""The iterative deep-learning workflow, end to end, in one command.

    python experiments/lamin_iterative/run.py setting=small            # 2-core CPU, ~15 min
    python experiments/lamin_iterative/run.py setting=smoke            # < 3 min (the test)
    python experiments/lamin_iterative/run.py setting=full             # GPU
    python experiments/lamin_iterative/run.py setting=small seed=1 out=runs/li/seed1
    python experiments/lamin_iterative/run.py setting=small data.pool=DIR data.heldout=DIR
    python experiments/lamin_iterative/run.py --help

Stages (each skipped when its outputs exist, so a killed run resumes with the same command):

1. data: the benchmark (``seglight.data.benchmark``) or a user's folders;
2. classic: ``classic.first`` on the pool and the held-out images (and ``classic.second``
   on the pool);
3. round 1: a person judges each cell of the classic masks; ``seglight.curate`` takes all,
   with the wrong cells excluded; ``python -m seglight.train`` per network; predict;
4. round 2: the round-1 network predicts the pool; the person keeps it where it is right,
   merges ``classic.second`` where that is right instead, excludes the rest; fine-tune the
   round-1 network on it (``round2.init=round1``, shrink and perturb; ``round2.init=scratch``:
   train anew); predict;
5. evaluate every stage on the held-out images against their true masks: ``results.md``,
   ``results.csv``, ``curves.png`` and ``config.yaml`` (the resolved setting) in ``out``.
"""

from __future__ import annotations

import csv
import math
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from seglight.errors import ConfigError, SeglightError

# The stages import seglight's heavier parts when they run, so --help and a wrong setting
# answer at once.
HERE = Path(__file__).resolve().parent

SEG = "_struct_segmentation"
FINISHED = "`Trainer.fit` stopped"  # Lightning's last line of a training that ran to its end


def load_setting(argv: list[str]) -> DictConfig:
    """``setting=<name>`` picks ``<name>.yaml`` here; other ``key=value`` override it."""
    overrides = [a for a in argv if not a.startswith("setting=")]
    names = [a.split("=", 1)[1] for a in argv if a.startswith("setting=")] or ["small"]
    path = HERE / f"{names[-1]}.yaml"
    if not path.is_file():
        choices = sorted(p.stem for p in HERE.glob("*.yaml"))
        raise ConfigError(f"setting={names[-1]}: no {path.name} in {HERE}; choose one of {choices}")
    bad = [a for a in overrides if "=" not in a]
    if bad:
        raise ConfigError(f"{bad[0]!r}: write overrides as key=value (see --help)")
    setting = OmegaConf.load(path)
    if "base" in setting:  # a setting written as changes to another
        setting = OmegaConf.merge(OmegaConf.load(HERE / f"{setting.base}.yaml"), setting)
    cfg = OmegaConf.merge(setting, OmegaConf.from_dotlist(overrides))
    cfg.setting = names[-1]
    return cfg


def thread_env(cfg: DictConfig) -> dict[str, str]:
    """``threads``: CPU threads of every training and prediction (OpenMP's busy-waiting makes
    two threads cost about twice the CPU time of one on a loaded 2-core machine)."""
    n = str(cfg.get("threads") or os.cpu_count())
    return {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n}


def _done(folder: Path, n: int) -> bool:
    if not folder.is_dir():
        return False
    return len([p for p in folder.iterdir() if p.suffix in {".tif", ".tiff"}]) >= n


def _cpu_s() -> float:
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def prepare_data(cfg: DictConfig, out: Path) -> dict[str, dict[str, Path | None]]:
    """The pool and held-out folders (``raw``, ``truth``, optional ``cells`` and ``kinds``)."""
    if cfg.data.pool:
        sets = {}
        for split in ("pool", "heldout"):
            root = Path(cfg.data[split])
            missing = [p for p in ("raw", "truth") if not (root / p).is_dir()]
            if missing:
                raise ConfigError(f"data.{split}={root}: needs the folders {missing} "
                                  "(raw images, and true masks of the same names)")
            cells = root / "cells"
            sets[split] = {"raw": root / "raw", "truth": root / "truth",
                           "cells": cells if cells.is_dir() else None,
                           "kinds": root / "cells.csv"}
        return sets
    from seglight.data.benchmark import write_benchmark

    bench = cfg.data.benchmark
    root = write_benchmark(out / "data", bench.n_pool, bench.n_heldout, list(bench.shape_zyx),
                           bench.seed)
    return {split: {"raw": root / split / "raw", "truth": root / split / "truth",
                    "cells": root / split / "cells", "kinds": root / split / "cells.csv"}
            for split in ("pool", "heldout")}


def binarize(raw: Path, out: Path, cfg: DictConfig, model: str | None = None,
             ckpt: Path | None = None, min_size: int = 0) -> Path:
    """``seglight.predict_files`` unless every image already has its mask."""
    import seglight

    if not _done(out, len(_images(raw))):
        kwargs = {"model": model} if model else {"ckpt_path": ckpt,
                                                 "inference": dict(cfg.inference)}
        summary = seglight.predict_files(raw, out, progress=False, min_size=min_size, **kwargs)
        if summary.failed:
            raise SeglightError(f"{out}: {summary.failed} image(s) failed: {summary.errors[0]}")
    return out


def train(curated: Path, run_dir: Path, net_overrides: list[str], cfg: DictConfig) -> Path:
    """``python -m seglight.train`` on a curated folder; returns the best checkpoint."""
    best, log_path = run_dir / "checkpoints" / "best.ckpt", run_dir / "train.log"
    if log_path.is_file() and FINISHED in log_path.read_text(errors="replace") and best.is_file():
        return best
    if run_dir.exists():  # a killed run: its checkpoints are not the setting's, start again
        shutil.rmtree(run_dir)
    command = [sys.executable, "-m", "seglight.train", f"data.path={curated}",
               f"hydra.run.dir={run_dir}", f"seed={cfg.seed}", *cfg.train, *net_overrides]
    (run_dir).mkdir(parents=True, exist_ok=True)
    (run_dir / "command.txt").write_text(" ".join(command[1:]) + "\n")
    env = {**os.environ, **thread_env(cfg)}
    cpu_before = _cpu_s()
    with open(log_path, "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    (run_dir / "cpu_s.txt").write_text(f"{_cpu_s() - cpu_before:.1f}\n")  # training alone
    if done.returncode or not best.is_file():
        raise SeglightError(f"training failed (exit {done.returncode}); "
                            f"see {run_dir / 'train.log'}")
    return best


def curate_round(data: dict, seg_dirs: list[Path], out: Path, cfg: DictConfig) -> Path:
    """The person's judgments, then ``seglight.curate`` (take-all, or merging with two)."""
    sys.path.insert(0, str(HERE))
    from person import curate_like_a_person

    from seglight.curate import curate

    curated = out / "curated"
    if _done(curated, 2 * len(_images(data["raw"]))):
        return curated
    person = out / "person"
    counts = curate_like_a_person(data["raw"], seg_dirs, data["truth"], data["cells"],
                                  data["kinds"], person, cfg.curation.min_dice,
                                  cfg.curation.margin, cfg.curation.tile_yx)
    print(f"  {out.name}: person: {counts}", flush=True)
    if len(seg_dirs) == 1:
        config = {"mode": "takeall", "seg": str(seg_dirs[0])}
    else:
        config = {"mode": "merging", "seg1": str(seg_dirs[0]), "seg2": str(seg_dirs[1]),
                  "merge_mask": str(person / "merge")}
    summary = curate({**config, "raw": str(data["raw"]), "out": str(curated),
                      "mask": str(person / "mask")}, progress=False)
    if summary.failed:
        raise SeglightError(f"{curated}: curation failed: {summary.failures[0]}")
    return curated


def objects_of(mask: np.ndarray, kind: str) -> np.ndarray:
    """What counts as an object of a shell-like mask for object F1.

    ``filled``: the mask with its holes filled slice by slice (a lamina becomes its nucleus,
    so a one-voxel shift of a thin envelope does not undo a match); ``enclosed``: the
    regions the mask encloses (cell walls become cells); ``mask``: the mask itself.
    """
    from scipy import ndimage as ndi

    mask = mask > 0
    if kind == "filled":
        return np.stack([ndi.binary_fill_holes(s) for s in mask])
    if kind == "enclosed":
        return ~ndi.binary_dilation(mask)  # a wall voxel's neighbours do not join two cells
    return mask


def evaluate(pred_dir: Path, truth_dir: Path, objects: str,
             min_object_size: int = 0) -> dict[str, float]:
    """Scores of a folder of masks against the true masks (``seglight.evaluation.evaluate``,
    pooled over the images; its CSV and chart go next to the masks).

    Dice, HD95 and ``object_f1`` compare the masks (objects: their 26-connected
    components); ``object_f1_<objects>`` compares the objects of :func:`objects_of`, written
    as masks into ``<pred_dir>/objects`` and ``<truth_dir>/../objects_<objects>`` first;
    ``object_f1_<objects>_<N>vx`` the same without the objects under ``min_object_size``
    voxels (in both).
    """
    import seglight.evaluation
    from seglight.io import read_image, write_ome_tiff

    voxels = seglight.evaluation.evaluate(pred_dir, truth_dir, out=pred_dir / "evaluation",
                                          log=lambda line: None)
    folders = {pred_dir: pred_dir / "objects", truth_dir: truth_dir.parent / f"objects_{objects}"}
    for source, target in folders.items():
        for path in _images(source):
            if not (target / path.name).exists():
                image = read_image(path)
                write_ome_tiff(target / path.name, objects_of(image.data, objects),
                               image.spacing_um)
    # Cells enclosed by walls touch each other through the wall's diagonal gaps unless
    # only faces connect.
    cells = seglight.evaluation.evaluate(*folders.values(),
                                         connectivity=1 if objects == "enclosed" else None,
                                         out=pred_dir / "evaluation_objects", log=lambda line: None)
    failures = voxels.failures + cells.failures
    if failures:
        raise SeglightError(f"{pred_dir}: {failures[0]}")
    scores = {"dice": voxels.overall["dice"], "object_f1": voxels.overall["object_f1"],
              f"object_f1_{objects}": cells.overall["object_f1"]}
    if min_object_size:
        scores[f"object_f1_{objects}_{min_object_size}vx"] = pooled_object_f1(
            *map(_read_masks, folders.values()), objects, min_object_size)[0]
    return {**scores, "hd95_um": voxels.overall["hd95_um"]}


def pooled_object_f1(preds: dict[str, np.ndarray], truths: dict[str, np.ndarray], objects: str,
                     min_size: int = 0) -> tuple[float, int]:
    """Object F1 pooled over images (name -> object mask, as :func:`objects_of` gives),
    objects under ``min_size`` voxels left out (``seglight.evaluate``'s ``min_object_size``,
    without its surface distances); and the number of true objects counted."""
    from seglight.evaluation.objects import match_objects

    matched = counted = n_true = 0
    for key, truth in truths.items():
        found = match_objects(preds[key], truth, min_size=min_size,
                              connectivity=1 if objects == "enclosed" else None)
        matched, counted = matched + found.n_matched, counted + found.n_pred + found.n_gt
        n_true += found.n_gt
    return (2 * matched / counted if counted else 1.0), n_true


def _objects(cfg: DictConfig) -> tuple[str, int]:
    return cfg.evaluation.objects, int(cfg.evaluation.get("min_object_size") or 0)


def _read_masks(folder: Path) -> dict[str, np.ndarray]:
    from seglight.io import image_stem, read_image

    return {image_stem(p).removesuffix(SEG): read_image(p).data > 0 for p in _images(folder)
            if p.suffix in {".tif", ".tiff"}}


def choose_min_size(pool_pred: Path, pool_truth: Path, cfg: DictConfig, log: Path) -> int:
    """``postprocess.min_size``: a number of voxels, or ``pool``: of ``postprocess.candidates``
    the one whose masks of the TRAINING POOL score the best object F1 (then Dice) against
    the pool's truth. The held-out images never take part in the choice."""
    choice = cfg.postprocess.min_size
    if choice != "pool":
        return int(choice)
    if log.is_file():
        with open(log, newline="") as f:
            return int(next(r for r in csv.DictReader(f) if r["chosen"] == "1")["min_size"])
    from seglight.predict.runner import drop_objects_below  # what the runner's min_size does

    objects = cfg.evaluation.objects
    preds, truths = _read_masks(pool_pred), _read_masks(pool_truth)
    truth_objects = {k: objects_of(t, objects) for k, t in truths.items()}
    scores = []
    for size in cfg.postprocess.candidates:
        kept = {key: drop_objects_below(pred > 0, int(size)) for key, pred in preds.items()}
        inter = sum(int(np.logical_and(kept[k], truths[k]).sum()) for k in kept)
        total = sum(int(kept[k].sum() + truths[k].sum()) for k in kept)
        f1, _ = pooled_object_f1({k: objects_of(m, objects) for k, m in kept.items()},
                                 {k: truth_objects[k] for k in kept}, objects)
        scores.append((f1, 2 * inter / total if total else 1.0, int(size)))
    best = max(scores, key=lambda s: (round(s[0], 6), round(s[1], 6), -s[2]))
    rows = [{"min_size": s[2], "pool_object_f1": f"{s[0]:.4f}", "pool_dice": f"{s[1]:.4f}",
             "chosen": int(s is best)} for s in scores]
    with open(log, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return best[2]


def kind_dice(pred_dir: Path, data: dict) -> dict[str, float]:
    """Dice per kind of cell (benchmark only): pooled over the zones (cells grown by
    ``curation.margin``) of each kind, the way the person judges a cell."""
    if data.get("cells") is None or not Path(data["kinds"]).is_file():
        return {}
    sys.path.insert(0, str(HERE))
    from person import zones_of

    from seglight.io import read_image

    kinds: dict[tuple[str, int], str] = {}
    with open(data["kinds"], newline="") as f:
        for row in csv.DictReader(f):
            kinds[(row["image"], int(row["label"]))] = row["kind"]
    preds, truths = _read_masks(pred_dir), _read_masks(data["truth"])
    sums: dict[str, list[int]] = {}
    for path in _images(data["cells"]):
        key = path.name.split(".")[0]
        cells = read_image(path).data
        zones = zones_of(cells, truths[key], 3, 32)
        pred, truth = preds[key], truths[key]
        for label in np.unique(cells[cells > 0]):
            kind = kinds.get((key, int(label)))
            if kind is None:
                continue
            zone = zones == label
            p, t = pred[zone], truth[zone]
            acc = sums.setdefault(kind, [0, 0])
            acc[0] += 2 * int(np.logical_and(p, t).sum())
            acc[1] += int(p.sum() + t.sum())
    return {f"dice_{kind}": (a / b if b else 1.0) for kind, (a, b) in sorted(sums.items())}


def score(pred_dir: Path, data: dict, cfg: DictConfig) -> dict[str, float]:
    """Every column of the table for a folder of masks of ``data``'s images."""
    return {**evaluate(pred_dir, data["truth"], *_objects(cfg)), **kind_dice(pred_dir, data)}


def curves(runs: dict[str, Path], path: Path) -> None:
    """Validation Dice (against the curated labels) per epoch of every training run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, run_dir in runs.items():
        with open(run_dir / "csv" / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        for ax, key in zip(axes, ("val/dice", "train/loss_epoch"), strict=True):
            points = [(float(r["epoch"]), float(r[key])) for r in rows if r.get(key)]
            if points:
                ax.plot(*zip(*points, strict=True), marker=".", label=name)
    for ax, title in zip(axes, ("validation Dice (curated labels)", "training loss"), strict=True):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def panels(raw_dir: Path, truth_dir: Path, stages: dict[str, Path], path: Path,
           n_images: int = 3) -> None:
    """Middle slices of the first held-out images: raw, truth and every stage's mask."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seglight.io import read_image

    raws = _images(raw_dir)[:n_images]
    columns = {"raw": raw_dir, "truth": truth_dir, **stages}
    fig, axes = plt.subplots(len(raws), len(columns), figsize=(2.2 * len(columns),
                                                                2.2 * len(raws)), squeeze=False)
    for row, raw in enumerate(raws):
        stem = raw.name.split(".")[0]
        for col, (title, folder) in enumerate(columns.items()):
            name = raw.name if title in ("raw", "truth") else f"{stem}{SEG}.tiff"
            image = read_image(folder / name).data
            axes[row, col].imshow(image[image.shape[0] // 2], cmap="gray")
            axes[row, col].set_axis_off()
            if row == 0:
                axes[row, col].set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def curation_summary(out: Path) -> list[str]:
    """Markdown: what the person did in each round, cells counted by kind and action."""
    lines = ["| round | kind | take | merge | exclude |", "|---|---|---|---|---|"]
    for decisions in sorted(out.glob("round*/**/person/decisions.csv")):
        counts: dict[str, dict[str, int]] = {}
        with open(decisions, newline="") as f:
            for row in csv.DictReader(f):
                if row["zone"] != "0":
                    action = counts.setdefault(row["kind"], {})
                    action[row["action"]] = action.get(row["action"], 0) + 1
        where = decisions.parent.parent.relative_to(out).as_posix()
        lines += [f"| {where} | {kind} | {c.get('take', 0)} | {c.get('merge', 0)} | "
                  f"{c.get('exclude', 0)} |" for kind, c in sorted(counts.items())]
    return lines


def _objects_title(key: str) -> str:
    """``object_f1_filled_50vx`` -> ``filled, >= 50 voxels``."""
    kind, _, size = key.removeprefix("object_f1_").partition("_")
    return f"{kind}, ≥ {size.removesuffix('vx')} voxels" if size else kind


def write_tables(rows: list[dict], out: Path, curation: bool = True) -> None:
    """``results.csv`` and ``results.md`` (with what the person did, when ``curation``)."""
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    extra = [key for key in rows[0] if key.startswith("object_f1_")]
    kinds = [key for key in rows[0] if key.startswith("dice_")]
    lines = ["| stage | network | min_size | Dice | object F1 | " + "".join(
        f"object F1 ({_objects_title(key)}) | " for key in extra) + "HD95 (µm) | "
        + "".join(f"Dice {key.removeprefix('dice_')} | " for key in kinds),
        "|---|---|---|---|---|" + "---|" * (len(extra) + 1 + len(kinds))]
    lines += [f"| {r['stage']} | {r['network']} | {r['min_size']} | {r['dice']:.3f} | "
              f"{r['object_f1']:.3f} | " + "".join(f"{r[key]:.3f} | " for key in extra)
              + f"{r['hd95_um']:.2f} | " + "".join(f"{r[key]:.3f} | " for key in kinds)
              for r in rows]
    if curation:
        lines += ["", "Cells judged by the scripted person (person.py):", "",
                  *curation_summary(out)]
    (out / "results.md").write_text("\n".join(lines) + "\n")


def train_and_score(cfg: DictConfig, where: Path, curated: Path, overrides: list[str],
                    pool: dict, held: dict) -> dict:
    """Train on ``curated`` into ``where/train``; predict the pool (round 2's curation and the
    choice of ``min_size``: never the held-out images) and then the held-out images; score."""
    ckpt = train(curated, where / "train", overrides, cfg)
    binarize(pool["raw"], where / "pool", cfg, ckpt=ckpt)
    min_size = choose_min_size(where / "pool", pool["truth"], cfg, where / "min_size.csv")
    binarize(held["raw"], where / "heldout", cfg, ckpt=ckpt, min_size=min_size)
    return {"min_size": min_size,
            **score(where / "heldout", held, cfg)}


def round2_training(cfg: DictConfig, round1: Path, overrides: list[str]
                    ) -> tuple[DictConfig, list[str]]:
    """Round 2's setting and overrides: with ``round2.init=scratch`` it trains anew with the
    whole recipe, as round 1 did; with ``round2.init=round1`` it fine-tunes the round-1
    network (``init_from=``) for ``round2.epochs`` (default: a quarter of the recipe's, under a
    third of its CPU time once start-up and validation are counted) at
    ``round2.lr`` (default: the recipe's), with ``round2.train``'s overrides added (e.g.
    ``init.shrink``/``init.perturb``: shrink and perturb)."""
    r2 = cfg.get("round2") or {}
    init = str(r2.get("init", "scratch"))
    if init == "scratch":
        return cfg, overrides
    if init != "round1":
        raise ConfigError(f"round2.init={init}: use round1 (fine-tune) or scratch")
    fine = cfg.copy()
    fine.recipe.epochs = int(r2.get("epochs") or max(1, round(int(cfg.recipe.epochs) / 4)))
    if r2.get("lr"):
        fine.recipe.lr = float(r2.lr)
    ckpt = round1 / "train" / "checkpoints" / "best.ckpt"
    return fine, [*overrides, f"init_from={ckpt}", *(r2.get("train") or [])]


def run(cfg: DictConfig) -> list[dict]:
    """Every stage; returns the result rows (also written to ``cfg.out``)."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    import torch

    torch.set_num_threads(int(thread_env(cfg)["OMP_NUM_THREADS"]))
    (out / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    start = _cpu_s()
    data = prepare_data(cfg, out)
    pool, held = data["pool"], data["heldout"]
    first = binarize(pool["raw"], out / "classic" / "pool", cfg, model=cfg.classic.first)
    binarize(held["raw"], out / "classic" / "heldout", cfg, model=cfg.classic.first)
    second = (binarize(pool["raw"], out / "classic2" / "pool", cfg, model=cfg.classic.second)
              if cfg.classic.second else first)
    rows = [{"stage": "classic", "network": cfg.classic.first, "min_size": 0,
             **score(out / "classic" / "heldout", held, cfg)}]
    print(f"classic: {rows[-1]}", flush=True)
    round1 = curate_round(pool, [first], out / "round1", cfg)
    runs = {}

    def network_stage(stage: str, net: str, curated: Path, overrides: list[str],
                      stage_cfg: DictConfig = cfg) -> None:
        runs[f"{stage} {net}"] = out / stage / net / "train"
        rows.append({"stage": stage, "network": net, **train_and_score(
            stage_cfg, out / stage / net, curated, overrides, pool, held)})
        print(f"{stage} {net}: {rows[-1]}", flush=True)

    for net, overrides in cfg.networks.items():
        if overrides is None:  # a network of the base setting left out
            continue
        network_stage("round1", net, round1, list(overrides))
        r1_pool = out / "round1" / net / "pool"
        round2 = curate_round(pool, [r1_pool, second], out / "round2" / net, cfg)
        r2_cfg, r2_overrides = round2_training(cfg, out / "round1" / net, list(overrides))
        network_stage("round2", net, round2, r2_overrides, r2_cfg)
    write_tables(rows, out)
    curves(runs, out / "curves.png")
    stages = {"classic": out / "classic" / "heldout"}
    stages.update({name: out / name.split()[0] / name.split()[1] / "heldout" for name in runs})
    panels(held["raw"], held["truth"], stages, out / "panels.png")
    print(f"CPU time of this run (training subprocesses included): {_cpu_s() - start:.0f} s")
    print((out / "results.md").read_text())
    return rows


def main(argv: list[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        print("Settings: " + ", ".join(sorted(p.stem for p in HERE.glob("*.yaml"))))
        print(OmegaConf.to_yaml(load_setting(["setting=small"])))
        return 0
    try:
        rows = run(load_setting(argv))
    except SeglightError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0 if all(math.isfinite(r["dice"]) for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
