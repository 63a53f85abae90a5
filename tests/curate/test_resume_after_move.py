"""Resuming a curation after the raw (and segmentation) folders were moved or renamed."""

import csv
import shutil

import numpy as np

from seglight.curate import curate
from seglight.io import find_triplets, load_triplet

from .conftest import make_pair


def move_inputs(folders, *keys):
    """Rename each input folder (as a copy to a cluster or a new mount point would)."""
    moved = dict(folders)
    for key in keys:
        moved[key] = folders[key].rename(folders["tmp"] / f"{key}_moved")
    return moved


def triplet_files(out):
    return {p.name: p.stat().st_mtime_ns for p in out.glob("*.ome.tif")}


def write_decisions(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image", "decision"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_takeall_after_moving_raw_and_seg_writes_nothing_again(folders, rng):
    config = {"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"]}
    assert curate(config, progress=False).written == 3
    before = triplet_files(folders["out"])
    moved = move_inputs(folders, "raw", "seg")
    (moved["raw"] / "c1.tif").rename(moved["raw"] / "renamed.tif")
    (moved["seg"] / "c1_struct_segmentation.tiff").rename(
        moved["seg"] / "renamed_struct_segmentation.tiff")
    config = {"raw": moved["raw"], "seg": moved["seg"], "out": folders["out"]}
    again = curate(config, progress=False)
    assert (again.written, again.failed, again.already_done) == (0, 0, 3)
    assert str(again) == "0 written, 0 skipped, 0 failed (3 already done in an earlier session)"
    assert triplet_files(folders["out"]) == before  # no new triplet, none rewritten

    raw_new, seg_new = make_pair(moved["raw"], moved["seg"], "c3", rng)
    third = curate(config, progress=False)
    assert (third.written, third.already_done) == (1, 3)
    triplets = find_triplets(folders["out"])
    assert [t.name for t in triplets] == ["img_0", "img_1", "img_2", "img_3"]
    sample = load_triplet(triplets[-1])
    np.testing.assert_array_equal(sample.image, raw_new)
    np.testing.assert_array_equal(sample.gt, seg_new > 0)


def test_sorting_after_moving_keeps_written_and_rejected_and_offers_skipped(folders):
    decisions = write_decisions(folders["tmp"] / "d.csv", [
        {"image": "c0.tif", "decision": "good"},
        {"image": "c1.tif", "decision": "bad"},
        {"image": "c2.tif", "decision": "skip"},
    ])
    config = {"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
              "out": folders["out"], "decisions": decisions}
    first = curate(config, progress=False)
    assert (first.written, first.skipped) == (1, 2)
    before = triplet_files(folders["out"])
    moved = move_inputs(folders, "raw", "seg")
    config.update(raw=moved["raw"], seg=moved["seg"])
    second = curate(config, progress=False)
    # c0 (written) and c1 (rejected) are done; c2 was skipped, so it is offered again.
    assert (second.written, second.skipped, second.already_done) == (0, 1, 2)
    assert triplet_files(folders["out"]) == before

    write_decisions(decisions, [{"image": "c2.tif", "decision": "good"}])
    third = curate(config, progress=False, log=lambda line: None)
    assert (third.written, third.already_done) == (1, 2)
    assert [t.name for t in find_triplets(folders["out"])] == ["img_0", "img_1"]
    np.testing.assert_array_equal(load_triplet(find_triplets(folders["out"])[1]).image,
                                  folders["data"]["c2"][0])


def test_a_copy_to_a_new_place_resumes_while_the_original_stays(folders):
    curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"]},
           progress=False)
    copy = shutil.copytree(folders["raw"], folders["tmp"] / "cluster_raw")
    again = curate({"raw": copy, "seg": folders["seg"], "out": folders["out"]}, progress=False)
    assert (again.written, again.already_done) == (0, 3)
    assert len(find_triplets(folders["out"])) == 3


def test_an_old_log_without_fingerprints_resumes_by_path_then_survives_a_move(folders, rng):
    config = {"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"]}
    curate(config, progress=False)
    log = folders["out"] / "curation_log.csv"
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    old_columns = [c for c in rows[0] if c != "fingerprint"]
    with open(log, "w", newline="") as f:  # the log as an older seglight wrote it
        writer = csv.DictWriter(f, fieldnames=old_columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    make_pair(folders["raw"], folders["seg"], "c3", rng)

    second = curate(config, progress=False)
    assert (second.written, second.already_done) == (1, 3)  # resumed by path
    with open(log, newline="") as f:
        upgraded = list(csv.DictReader(f))
    assert len(upgraded) == len(rows) + 2  # c3: writing, written
    assert all(r["fingerprint"] for r in upgraded)

    moved = move_inputs(folders, "raw", "seg")
    third = curate({"raw": moved["raw"], "seg": moved["seg"], "out": folders["out"]},
                   progress=False)
    assert (third.written, third.already_done) == (0, 4)
    assert [t.name for t in find_triplets(folders["out"])] == ["img_0", "img_1", "img_2",
                                                               "img_3"]


def test_a_write_killed_before_the_move_is_redone_under_its_name(folders):
    from seglight.curate.decision_log import DecisionLog, Entry

    log = DecisionLog(folders["out"] / "curation_log.csv")
    log.append(Entry(image="c0.tif", raw=str(folders["raw"] / "c0.tif"), decision="take",
                     status="writing", output="img_5"))
    moved = move_inputs(folders, "raw")
    summary = curate({"raw": moved["raw"], "seg": folders["seg"], "out": folders["out"]},
                     progress=False)
    assert (summary.written, summary.already_done) == (3, 0)
    assert [t.name for t in find_triplets(folders["out"])] == ["img_5", "img_6", "img_7"]
    np.testing.assert_array_equal(load_triplet(find_triplets(folders["out"])[0]).image,
                                  folders["data"]["c0"][0])
