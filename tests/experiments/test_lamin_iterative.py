"""The iterative-workflow experiment's one command, in its smoke setting: every stage runs
and the table has finite numbers (the margins need the small setting; see its README)."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "experiments" / "lamin_iterative" / "run.py"


@pytest.mark.slow
def test_smoke_setting_runs_every_stage(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, str(RUN), "setting=smoke", f"out={out}"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["stage"], r["network"]) for r in rows] == [
        ("classic", "classic/lmnb1_interphase"), ("round1", "unet_xy_tiny"),
        ("round2", "unet_xy_tiny")]
    for row in rows:
        assert all(math.isfinite(float(row[key])) for key in ("dice", "object_f1"))
    # object F1 without the objects under 50 voxels is seglight.evaluate's min_object_size=50
    # on the same object masks
    from seglight.evaluation import evaluate

    floored = evaluate(out / "round2" / "unet_xy_tiny" / "heldout" / "objects",
                       out / "data" / "heldout" / "objects_filled", min_object_size=50,
                       log=lambda line: None)
    assert float(rows[2]["object_f1_filled_50vx"]) == pytest.approx(
        floored.overall["object_f1"])
    assert (out / "curves.png").stat().st_size > 0 and (out / "config.yaml").is_file()
    # round 1 took all with excluding masks; round 2 merged the second workflow in
    assert list((out / "round1" / "curated").glob("*_GT.*"))
    decisions = (out / "round2" / "unet_xy_tiny" / "person" / "decisions.csv").read_text()
    assert decisions.splitlines()[0] == "image,zone,kind,dice_unet_xy_tiny,dice_classic2,action"
    for stage in ("round1", "round2"):
        assert (out / stage / "unet_xy_tiny" / "train" / "checkpoints" / "best.ckpt").is_file()
    # object F1 by object size over the run (one seed: its margins, no spread)
    sizes = subprocess.run([sys.executable, str(RUN.parent / "objects.py"), str(out)],
                           capture_output=True, text=True, cwd=tmp_path)
    assert sizes.returncode == 0, sizes.stderr[-2000:]
    floors = [line.split(" | ") for line in sizes.stdout.splitlines()
              if line.startswith(("| 0 |", "| 50 |"))]
    assert [(f[0], f[1]) for f in floors] == [("| 0", "filled"), ("| 50", "filled"),
                                              ("| 0", "mask"), ("| 50", "mask")]
    r1, r2 = float(rows[1]["object_f1_filled_50vx"]), float(rows[2]["object_f1_filled_50vx"])
    assert floors[1][3:6] == [f"{r1:.3f}", f"{r2:.3f}", f"{r2 - r1:+.3f}"]
    assert (out / "round2" / "unet_xy_tiny" / "heldout_min_size0").is_dir()
    # a rerun resumes: no stage runs again (the checkpoints stay), the table is the same
    table = (out / "results.csv").read_text()
    best = out / "round2" / "unet_xy_tiny" / "train" / "checkpoints" / "best.ckpt"
    mtime = best.stat().st_mtime_ns
    again = subprocess.run([sys.executable, str(RUN), "setting=smoke", f"out={out}"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "results.csv").read_text() == table and best.stat().st_mtime_ns == mtime
    # min_size was chosen on the pool's masks, and the table has a Dice per kind of cell
    assert (out / "round1" / "unet_xy_tiny" / "min_size.csv").is_file()
    assert {"dice_interphase", "dice_mitotic"} <= set(rows[0])
    # the curve's ends: k = 0 and k = 3 (the whole pool) are round 1 and round 2 (the points
    # between them train networks: test_the_curve_takes_round_2_curation... checks their sets)
    done = subprocess.run([sys.executable, str(RUN.parent / "curve.py"), "setting=smoke",
                           f"out={out}", "curve.orders=[uncertainty,disagreement,random]"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "curve" / "curve.csv", newline="") as f:
        points = {(r["order"], int(r["k"])): float(r["dice"]) for r in csv.DictReader(f)}
    ends = {0: float(rows[1]["dice"]), 3: float(rows[2]["dice"])}
    assert points == pytest.approx({(order, k): dice for order in
                                    ("uncertainty", "disagreement", "random")
                                    for k, dice in ends.items()})
    # every pool image got a score from the round-1 network (flip-TTA) and from its
    # disagreement with the classic mask, each order listed most uncertain first
    text = (out / "curve" / "curve.md").read_text()
    for title in ("Uncertainty order", "Disagreement order"):
        block = text.split(title, 1)[1].split("\n\n", 2)[1]
        scores = [float(line.rsplit(": ", 1)[1]) for line in block.splitlines()
                  if line[:1].isdigit() and ". pool_" in line]
        assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert (out / "curve" / "curve.png").stat().st_size > 0
    # the same networks on fresh images: none of the run's, nothing trained or chosen again
    done = subprocess.run([sys.executable, str(RUN.parent / "confirm.py"), str(out),
                           "images=2"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| round2 − round1 | dice |" in done.stdout
    fresh = sorted((tmp_path / "confirm_data" / "heldout" / "raw").iterdir())
    assert len(fresh) == 2
    from seglight.io import read_image

    olds = [read_image(p).data for p in sorted((out / "data" / "heldout" / "raw").iterdir())]
    olds += [read_image(p).data for p in sorted((out / "data" / "pool" / "raw").iterdir())]
    assert not any(np.array_equal(read_image(p).data, old) for p in fresh for old in olds)
    with open(out / "confirm" / "results.csv", newline="") as f:
        confirmed = list(csv.DictReader(f))
    assert [(r["stage"], r["network"], r["min_size"]) for r in confirmed] == [
        (r["stage"], r["network"], r["min_size"]) for r in rows]
    assert best.stat().st_mtime_ns == mtime
    assert len(list((out / "confirm" / "round2" / "unet_xy_tiny").glob("*.tiff"))) == 2


def test_help_lists_the_settings():
    done = subprocess.run([sys.executable, str(RUN), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "smoke" in done.stdout and "small" in done.stdout


def test_an_unknown_setting_is_one_line_naming_the_choices(tmp_path):
    done = subprocess.run([sys.executable, str(RUN), "setting=huge", f"out={tmp_path}"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "setting=huge" in done.stderr and "small" in done.stderr
    assert "Traceback" not in done.stderr


def _module(name: str):
    """One of the experiment's scripts, imported as a module."""
    import importlib

    sys.path.insert(0, str(RUN.parent))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(RUN.parent))


def _person():
    return _module("person")


def test_the_person_takes_right_cells_merges_the_better_second_and_excludes_the_rest():

    person = _person()
    truth = np.zeros((4, 20, 30), bool)
    zones = np.zeros(truth.shape, np.int32)
    for zone, x in enumerate((2, 12, 22), start=1):
        zones[:, 2:18, x:x + 6] = zone
        truth[:, 5:15, x + 2] = True
    first, second = truth.copy(), truth.copy()
    first[:, :, 12:18] = False     # zone 2: the first segmentation misses it, the second has it
    first[:, :, 22:28] = False     # zone 3: both miss it
    second[:, :, 22:28] = False
    first[0, 19, 0] = True         # a spurious voxel outside every cell
    excluded, from_second, rows = person.judge([first, second], truth, zones, min_dice=0.5)
    assert [(zone, action) for zone, action, _ in rows[:3]] == [
        (1, "take"), (2, "merge"), (3, "exclude")]
    assert from_second[zones == 2].all() and not from_second[zones != 2].any()
    assert excluded[zones == 3].all() and excluded[0, 19, 0]
    assert not excluded[zones == 1].any()


def _experiment():
    sys.path.insert(0, str(RUN.parent))
    try:
        import run
    finally:
        sys.path.remove(str(RUN.parent))
    return run


def _write(folder, name, array):

    from seglight.io import write_ome_tiff

    write_ome_tiff(folder / name, np.asarray(array, np.uint8), (1.0, 1.0, 1.0))


def test_min_size_is_chosen_on_the_pool_by_object_f1_and_logged(tmp_path):

    run = _experiment()
    truth = np.zeros((6, 40, 40), bool)
    truth[1:5, 5:15, 5:15] = True              # one nucleus-like solid object
    pred = truth.copy()
    pred[2, 30, 30] = pred[2, 30:32, 34] = True  # two specks: 1 and 2 voxels
    (tmp_path / "pred").mkdir()
    (tmp_path / "truth").mkdir()
    _write(tmp_path / "pred", f"a{run.SEG}.tiff", pred)
    _write(tmp_path / "truth", "a.ome.tif", truth)
    cfg = run.OmegaConf.create({"postprocess": {"min_size": "pool", "candidates": [0, 2, 3, 500]},
                                "evaluation": {"objects": "mask"}})
    log = tmp_path / "min_size.csv"
    # 0: 3 objects for 1 true (F1 0.5); 2 keeps one speck (F1 2/3); 3 keeps only the nucleus
    # (F1 1); 500 removes it too (F1 0)
    assert run.choose_min_size(tmp_path / "pred", tmp_path / "truth", cfg, log) == 3
    with open(log, newline="") as f:
        rows = {int(r["min_size"]): r for r in csv.DictReader(f)}
    assert [rows[s]["pool_object_f1"] for s in (0, 2, 3, 500)] == [
        "0.5000", "0.6667", "1.0000", "0.0000"]
    assert [rows[s]["chosen"] for s in (0, 2, 3, 500)] == ["0", "0", "1", "0"]
    # a number is used as given; a logged choice is read back
    assert run.choose_min_size(tmp_path / "pred", tmp_path / "truth", cfg, log) == 3
    fixed = run.OmegaConf.create({"postprocess": {"min_size": 7},
                                  "evaluation": {"objects": "mask"}})
    assert run.choose_min_size(tmp_path / "pred", tmp_path / "truth", fixed, log) == 7


def test_the_curve_takes_round_2_curation_for_the_first_k_images_only(tmp_path):
    sys.path.insert(0, str(RUN.parent))
    try:
        import curve
    finally:
        sys.path.remove(str(RUN.parent))
    round1, round2, raws = tmp_path / "r1", tmp_path / "r2", []
    stems = ("pool_0", "pool_1", "pool_2")
    # the Curator names its triplets img_<n> in the order it wrote them: not the same in
    # the two rounds, so the curve must go through each folder's curation log
    names = {round1: ("img_0", "img_1", "img_2"), round2: ("img_2", "img_0", "img_1")}
    for folder, outputs in names.items():
        folder.mkdir()
        log = ["image,status,output"]
        for stem, name in zip(stems, outputs, strict=True):
            log += [f"{stem}.ome.tif,writing,{name}", f"{stem}.ome.tif,written,{name}"]
            for suffix in ("", "_GT", "_CM"):
                (folder / f"{name}{suffix}.ome.tif").write_text(f"{folder.name} {stem}{suffix}")
        (folder / "curation_log.csv").write_text("\n".join(log) + "\n")
    raws = [tmp_path / f"{stem}.ome.tif" for stem in stems]
    out = curve.mixed_curation([raws[2], raws[0], raws[1]], 2, round1, round2, tmp_path / "mix")
    text = {p.name: p.read_text() for p in out.iterdir() if p.name.endswith(".ome.tif")}
    assert len(text) == 9
    assert text["pool_2_GT.ome.tif"] == "r2 pool_2_GT"
    assert text["pool_0_CM.ome.tif"] == "r2 pool_0_CM"
    assert text["pool_1.ome.tif"] == "r1 pool_1" and text["pool_1_GT.ome.tif"] == "r1 pool_1_GT"
    assert (out / "chosen.txt").read_text() == "pool_2\npool_0\n"


def test_seeds_table_has_per_seed_values_mean_spread_and_paired_margins(tmp_path):
    header = "stage,network,min_size,dice,hd95_um\n"
    runs = []
    for seed, (r1, r2) in enumerate([(0.70, 0.78), (0.68, 0.75), (0.72, 0.76)]):
        folder = tmp_path / f"seed{seed}"
        folder.mkdir()
        (folder / "results.csv").write_text(
            header + f"classic,c,0,0.5,4.0\nround1,n,10,{r1},0.3\nround2,n,300,{r2},0.2\n")
        runs.append(str(folder))
    done = subprocess.run([sys.executable, str(RUN.parent / "seeds.py"), *runs],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "| round1 | dice | 0.700 | 0.680 | 0.720 | 0.700 | 0.040 |" in lines
    # margins per seed; the smallest, and the larger spread of the two stages (0.040 vs 0.030)
    assert "| round2 − round1 | dice | +0.080 | +0.070 | +0.040 | +0.040 | 0.040 |" in lines
    # a distance: smaller is better, so a drop of HD95 is a positive margin
    assert "| round2 − round1 | hd95_um | +0.100 | +0.100 | +0.100 | +0.100 | 0.000 |" in lines


def test_confirm_refuses_the_runs_own_images_and_masks_of_other_images(tmp_path):
    run = tmp_path / "small_seed0"
    run.mkdir()
    (run / "results.csv").write_text("stage,network,min_size,dice\n")
    (run / "config.yaml").write_text(
        "data:\n  pool: null\n  benchmark: {n_pool: 16, n_heldout: 8, shape_zyx: [8, 32, 32], "
        "seed: 0}\n")
    confirm = [sys.executable, str(RUN.parent / "confirm.py"), str(run)]
    for offset, split in (("10", "pool images (0..15)"), ("99990", "held-out images")):
        done = subprocess.run([*confirm, f"offset={offset}"], capture_output=True, text=True)
        assert done.returncode == 2 and split in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    # masks made of other fresh images are never mixed with new ones
    (run / "confirm").mkdir()
    (run / "confirm" / "source.txt").write_text("data=/elsewhere images=4 offset=300000\n")
    done = subprocess.run([*confirm, "images=2"], capture_output=True, text=True)
    assert done.returncode == 2 and "made with data=/elsewhere" in done.stderr, done.stderr
    assert not (tmp_path / "confirm_data").exists()


def test_a_fine_tuned_round_2_starts_from_round_1_with_its_own_length_rate_and_options():
    run = _module("run")
    round1 = Path("/out/round1/net")
    default = run.load_setting(["setting=small"])  # shrink and perturb, as measured
    assert default.round2.init == "round1"
    assert list(default.round2.train) == ["init.shrink=0.6", "init.perturb=0.1"]
    cfg = run.load_setting(["setting=small", "round2.init=scratch"])
    assert run.round2_training(cfg, round1, ["model=x"]) == (cfg, ["model=x"])
    cfg = run.load_setting(["setting=small", "round2.init=round1", "round2.epochs=4",
                            "round2.lr=0.001", "round2.train=[init.shrink=0.4,freeze=encoder]"])
    fine, overrides = run.round2_training(cfg, round1, ["model=x"])
    assert overrides == ["model=x", f"init_from={round1}/train/checkpoints/best.ckpt",
                         "init.shrink=0.4", "freeze=encoder"]
    train = list(fine.train)  # the recipe's interpolations follow round 2's length and rate
    assert "trainer.max_epochs=4" in train and "model.optimizer.lr=0.001" in train
    assert any("max_lr:0.001,total_steps:4" in t for t in train)
    assert cfg.recipe.epochs == 16 and "trainer.max_epochs=16" in list(cfg.train)
    fine, _ = run.round2_training(run.load_setting(["round2.init=round1"]), round1, [])
    assert fine.recipe.epochs == 4  # a quarter of the recipe's 16: under a third of its CPU
    with pytest.raises(run.ConfigError, match="round2.init=round3"):
        run.round2_training(run.load_setting(["round2.init=round3"]), round1, [])


def test_round2_init_tables_dice_and_the_cpu_ratio_and_refuses_a_folder_without_a_run(
        tmp_path):
    text = _module("round2_init").table({"scratch": {"dice": 0.758, "train_cpu_s": 175.2},
                              "default": {"dice": 0.7923, "train_cpu_s": 46.8}})
    assert "| scratch | 0.758 | 175 | 1.00 |" in text
    assert "| default | 0.792 | 47 | 0.27 |" in text
    done = subprocess.run([sys.executable, str(RUN.parent / "round2_init.py"), str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "no config.yaml" in done.stderr
    assert "Traceback" not in done.stderr
    (tmp_path / "config.yaml").write_text("setting: smoke\nseed: 0\n")
    done = subprocess.run([sys.executable, str(RUN.parent / "round2_init.py"), str(tmp_path),
                           "variants=scratch,best"], capture_output=True, text=True)
    assert done.returncode == 2 and "unknown ['best']" in done.stderr
