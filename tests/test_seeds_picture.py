"""scripts/seeds_picture.py as a user runs it: real checkpoints, a real PNG."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile
from skimage.io import imread

REPO = Path(__file__).resolve().parents[1]


def test_the_picture_shows_each_network_with_its_held_out_dice(tiny_ckpt, tmp_path):
    rng = np.random.default_rng(0)
    image = rng.normal(100, 10, (16, 64, 64)).astype(np.float32)
    truth = np.zeros(image.shape, np.uint8)
    truth[:, 20:40, 20:40] = 1
    image[truth > 0] += 60
    tifffile.imwrite(tmp_path / "raw.tif", image)
    tifffile.imwrite(tmp_path / "truth.tif", truth)
    out = tmp_path / "seeds.png"
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "seeds_picture.py"), "--image",
         str(tmp_path / "raw.tif"), "--truth", str(tmp_path / "truth.tif"), "--labels",
         str(tmp_path / "truth.tif"), "--ckpt", str(tiny_ckpt), str(tiny_ckpt), "--names", "a",
         "b", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    scores = [float(line.split("Dice ")[1].split()[0]) for line in lines[:2]]
    assert lines[0].startswith("a: ") and lines[1].startswith("b: ")
    assert scores[0] == scores[1] and 0 <= scores[0] <= 1  # one checkpoint, one score
    assert lines[2].startswith("slice z=") and 0 <= int(lines[2].split("=")[1]) < 16
    picture = imread(out)
    assert picture.ndim == 3 and picture.shape[1] > 4 * picture.shape[0]  # five panels in a row
