"""The runs' networks on a second, fresh held-out set: is the table more than its 8 images?

    python experiments/lamin_iterative/confirm.py runs/lamin_iterative/small_seed{0,1,2}
    python experiments/lamin_iterative/confirm.py RUN [RUN ...] images=24 offset=200000

``run.py`` chose what it reports (the ``min_size`` candidates, the object definitions, the
50-voxel floor) while its authors looked at its held-out images. This script asks the same
question of images nobody has looked at: ``images`` new benchmark images (same generator,
seed and shape as the runs' ``config.yaml``; indices from ``offset``, so none is a pool or
held-out image of the runs), segmented by the classic workflow and by every run's round-1
and round-2 networks exactly as ``run.py`` did (its checkpoints ``best.ckpt``, its
pool-chosen ``min_size``), scored with ``run.py``'s metrics. Nothing is trained or chosen
here.

The question, fixed before the first run of this script (commit "confirm.py: ..."): on the
fresh images, does round 1 beat the classic workflow and round 2 beat round 1 in Dice,
object F1 on filled objects and object F1 on filled objects of at least
``evaluation.min_object_size`` voxels, with the smallest margin over the seeds larger than
the larger seed-to-seed spread of the two stages?

Writes the images once into ``data`` (default: ``<parent of the first run>/confirm_data``),
the classic masks into ``<data>/classic``, each run's masks and ``results.csv`` into
``<run>/confirm/``; prints ``seeds.py``'s table of the runs. Each step is skipped when its
outputs exist, so a killed run resumes with the same command.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as experiment  # noqa: E402
import seeds  # noqa: E402

from seglight.errors import ConfigError, SeglightError  # noqa: E402

STAGES = ("round1", "round2")


def _options(argv: list[str]) -> tuple[list[Path], dict]:
    runs = [Path(a) for a in argv if "=" not in a]
    given = dict(a.split("=", 1) for a in argv if "=" in a)
    unknown = set(given) - {"images", "offset", "data"}
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}=: not an option; the options are images=, "
                          "offset= and data= (see --help)")
    options: dict = {"data": Path(given["data"]) if "data" in given else None}
    for key, default in (("images", 24), ("offset", 200_000)):
        value = given.get(key, str(default))
        if not value.isdigit() or (key == "images" and int(value) == 0):
            raise ConfigError(f"{key}={value}: give a whole number (default {default})")
        options[key] = int(value)
    if not runs:
        raise ConfigError("name at least one run folder of run.py (see --help)")
    for folder in runs:
        if not (folder / "config.yaml").is_file() or not (folder / "results.csv").is_file():
            raise ConfigError(f"{folder}: not a finished run of run.py (no config.yaml and "
                              "results.csv); run run.py first")
    return runs, options


def _benchmark(cfgs: list[DictConfig]) -> DictConfig:
    """The runs' benchmark settings; they must agree (one fresh set serves every run)."""
    if any(cfg.data.pool for cfg in cfgs):
        raise ConfigError("confirm.py draws new benchmark images; a run on your own data "
                          "(data.pool=...) has no generator to draw from")
    bench = [OmegaConf.to_container(cfg.data.benchmark) for cfg in cfgs]
    keys = ("shape_zyx", "seed")
    if any({k: b[k] for k in keys} != {k: bench[0][k] for k in keys} for b in bench):
        raise ConfigError("the runs were made on different benchmarks (data.benchmark.seed or "
                          "shape_zyx differ); confirm them separately")
    # the indices the runs used: the largest pool and held-out set of them
    largest = {key: max(int(b[key]) for b in bench) for key in ("n_pool", "n_heldout")}
    return OmegaConf.merge(cfgs[0].data.benchmark, largest)


def fresh_set(folder: Path, bench: DictConfig, images: int, offset: int) -> dict:
    from seglight.data.benchmark import write_benchmark

    try:
        root = write_benchmark(folder, 0, images, list(bench.shape_zyx), int(bench.seed),
                               heldout_offset=offset)
    except ValueError as err:  # the folder holds other images
        raise ConfigError(str(err)) from None
    split = root / "heldout"
    return {"raw": split / "raw", "truth": split / "truth", "cells": split / "cells",
            "kinds": split / "cells.csv"}


def _row(stage: str, network: str, min_size: int, pred: Path, held: dict,
         cfg: DictConfig) -> dict:
    return {"stage": stage, "network": network, "min_size": min_size,
            **experiment.score(pred, held, cfg)}


def confirm(runs: list[Path], images: int = 24, offset: int = 200_000,
            data: Path | None = None) -> list[Path]:
    """Score every run on the fresh set; returns the folders of their ``results.csv``."""
    cfgs = [OmegaConf.load(folder / "config.yaml") for folder in runs]
    bench = _benchmark(cfgs)
    from seglight.data.benchmark import HELDOUT_OFFSET

    used = {"pool": (0, int(bench.n_pool)),  # the runs' images: indices [start, end)
            "held-out": (HELDOUT_OFFSET, HELDOUT_OFFSET + int(bench.n_heldout))}
    for split, (start, end) in used.items():
        if offset < end and start < offset + images:
            raise ConfigError(f"offset={offset}: images {offset}..{offset + images - 1} would "
                              f"repeat the runs' {split} images ({start}..{end - 1}); "
                              "use offset=200000")
    data = (data or runs[0].parent / "confirm_data").resolve()
    source = f"data={data} images={images} offset={offset}\n"  # what the masks are of
    for folder in [data, *(run / "confirm" for run in runs)]:
        seen = folder / "source.txt"
        if seen.is_file() and seen.read_text() != source:
            raise ConfigError(f"{folder}: made with {seen.read_text().strip()}, not "
                              f"{source.strip()}; give those options, or delete {folder}")
    held = fresh_set(data, bench, images, offset)
    (data / "source.txt").write_text(source)
    classic = experiment.binarize(held["raw"], data / "classic", cfgs[0],
                                  model=cfgs[0].classic.first)
    classic_row = _row("classic", cfgs[0].classic.first, 0, classic, held, cfgs[0])
    folders = []
    for folder, cfg in zip(runs, cfgs, strict=True):
        rows = [classic_row]
        (folder / "confirm").mkdir(exist_ok=True)
        (folder / "confirm" / "source.txt").write_text(source)
        for net, overrides in cfg.networks.items():
            if overrides is None:
                continue
            for stage in STAGES:
                where = folder / stage / net
                ckpt = where / "train" / "checkpoints" / "best.ckpt"
                if not ckpt.is_file():
                    raise ConfigError(f"{ckpt}: missing; finish the run with run.py first")
                # the size run.py chose on the pool (its min_size.csv), not chosen again
                min_size = experiment.choose_min_size(where / "pool", folder / "data" / "pool"
                                                      / "truth", cfg, where / "min_size.csv")
                pred = experiment.binarize(held["raw"], folder / "confirm" / stage / net, cfg,
                                           ckpt=ckpt, min_size=min_size)
                rows.append(_row(stage, net, min_size, pred, held, cfg))
                print(f"{folder.name} {stage} {net}: dice {rows[-1]['dice']:.3f}", flush=True)
        experiment.write_tables(rows, folder / "confirm", curation=False)
        folders.append(folder / "confirm")
    return folders


def main(argv: list[str]) -> int:
    if not argv or {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    try:
        runs, options = _options(argv)
        folders = confirm(runs, **options)
    except SeglightError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(seeds.table(folders, names=[r.name for r in runs]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
