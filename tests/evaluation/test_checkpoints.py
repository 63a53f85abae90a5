"""Held-out evaluation of checkpoints: a sweep's checkpoints scored on their test images."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from seglight.evaluation import evaluate_checkpoints, score_masks
from seglight.evaluation.checkpoints import find_checkpoints
from seglight.io import read_image
from seglight.io.checkpoint import load_checkpoint
from seglight.io.curated import find_triplets
from seglight.predict.network import NetworkBinarizer
from tests.helpers.cli_utils import run_module

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / \
    "unet_xy_tiny_w2_before_training_move.ckpt"


#: the sweep's job folders, named by the values the sweep varies
J0, J1 = "0_lr=0.001", "1_lr=0.003"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A real 2-job sweep of tiny runs on the demo data, holding a quarter of it out."""
    root = tmp_path_factory.mktemp("research")
    result = run_module(
        "seglight.train", "-m", "model.optimizer.lr=1e-3,3e-3", "model.net.width=2",
        "data.test_fraction=0.25", "data.demo.shape_zyx=[16,64,64]", "data.patch_zyx=[8,32,32]",
        "data.samples_per_epoch=4", "data.batch_size=2", "trainer.max_steps=4",
        "trainer.precision=32-true", "trainer.accelerator=cpu", "logger=csv",
        "hydra.sweep.dir=sweep", cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def _by_hand(ckpt: Path, names: list[str], folder: Path) -> dict[str, dict]:
    """Predict and score each image as a user would without the command."""
    binarizer = NetworkBinarizer.from_checkpoint(ckpt, device="cpu")
    triplets = {t.name: t for t in find_triplets(folder)}
    scores = {}
    for name in names:
        image = read_image(triplets[name].image)
        mask = binarizer.predict_proba(image.data) > binarizer.threshold
        scores[name] = score_masks(mask, read_image(triplets[name].gt).data,
                                   read_image(triplets[name].costmap).data, image.spacing_um)
    return scores


@pytest.mark.slow  # trains networks and runs the commands
def test_sweep_folder_gives_a_row_per_checkpoint_that_matches_scoring_by_hand(sweep):
    demo = sweep / "data" / "demo"
    result = run_module("seglight.evaluate", "ckpt_path=sweep", f"data.path={demo}",
                        "split=test", cwd=sweep)
    assert result.returncode == 0, result.stderr
    table = result.stdout.splitlines()
    assert table[0].split()[:4] == ["model", "images", "Dice", "IoU"]
    assert sorted(line.split()[0] for line in table[1:]) == [f"{J0}/checkpoints/best.ckpt",
                                                             f"{J1}/checkpoints/best.ckpt"]
    assert all("++model.optimizer.lr=" in line for line in table[1:])  # what differs
    out = sweep / "sweep" / "evaluation_test"
    assert (out / "evaluation.png").read_bytes()[:4] == b"\x89PNG"
    with open(out / "evaluation.csv", newline="") as f:
        rows = list(csv.DictReader(f))

    # The split: recorded in the run folder and the checkpoint, the test images held out.
    ckpt = sweep / "sweep" / J0 / "checkpoints" / "best.ckpt"
    split = json.loads((sweep / "sweep" / J0 / "split.json").read_text())
    assert load_checkpoint(ckpt)["seglight_split"] == split
    assert len(split["test"]) == 2 and not set(split["test"]) & {*split["train"], *split["val"]}

    mine = [r for r in rows if r["model"] == f"{J0}/checkpoints/best.ckpt"]
    model = next(r for r in mine if r["image"] == "overall")
    images = {r["image"]: r for r in mine if r["image"] != "overall"}
    assert sorted(images) == split["test"]  # only the test images, not the rest of the folder
    hand = _by_hand(ckpt, split["test"], demo)
    for name, scores in hand.items():
        for key in ("tp_voxels", "fp_voxels", "fn_voxels", "n_matched_objects"):
            assert float(images[name][key]) == scores[key], (name, key)
        assert float(images[name]["dice"]) == pytest.approx(scores["dice"])
        assert float(images[name]["hd95_um"]) == pytest.approx(scores["hd95_um"])
    tp, fp, fn = (sum(s[k] for s in hand.values()) for k in ("tp_voxels", "fp_voxels",
                                                            "fn_voxels"))
    assert float(model["dice"]) == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert model["n_images"] == "2" and model["checkpoint"].endswith(f"{J0}/checkpoints/best.ckpt")


@pytest.mark.slow
def test_checkpoints_without_a_test_split_are_one_line_rows(sweep, tmp_path):
    demo = sweep / "data" / "demo"
    lines = []
    report = evaluate_checkpoints([FIXTURE, sweep / "sweep" / J1 / "checkpoints" /
                                   "last.ckpt"], data_path=demo, split="test",
                                  out=tmp_path / "out", device="cpu", log_line=lines.append)
    failed = report.models[-1]
    assert failed["model"].endswith("unet_xy_tiny_w2_before_training_move.ckpt")
    assert failed["error"] == (f"{FIXTURE}: no split recorded (trained before seglight "
                               "recorded splits); use split=all, or retrain")
    assert lines == [failed["error"]]
    assert math.isfinite(report.models[0]["dice"])  # the other checkpoint is scored
    # split=all scores every image of the folder, with any checkpoint.
    report = evaluate_checkpoints(FIXTURE, data_path=demo, split="all", out=tmp_path / "all",
                                  device="cpu")
    assert report.models[0]["n_images"] == len(find_triplets(demo)) == 8
    assert np.isfinite(report.models[0]["dice"])


def test_find_checkpoints_prefers_best_per_run(tmp_path):
    for run, names in (("0", ("best.ckpt", "last.ckpt")), ("10", ("last.ckpt",)),
                       ("2", ("best.ckpt",))):
        (tmp_path / run / "checkpoints").mkdir(parents=True)
        for name in names:
            (tmp_path / run / "checkpoints" / name).touch()
    found = [p.relative_to(tmp_path).as_posix() for p in find_checkpoints(tmp_path)]
    assert found == ["0/checkpoints/best.ckpt", "2/checkpoints/best.ckpt",
                     "10/checkpoints/last.ckpt"]
