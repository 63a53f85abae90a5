import csv

import numpy as np
import pytest
import tifffile

from seglight.curate import (
    CurateConfig,
    Curator,
    curate,
)
from seglight.errors import SeglightError
from seglight.io import find_triplets, load_triplet, read_image, write_ome_tiff, write_triplet

from .conftest import SHAPE, SPACING


def write_decisions(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image", "decision", "exclude", "merge"])
        writer.writeheader()
        for row in rows:
            writer.writerow({"exclude": "", "merge": "", **row})
    return path


def log_rows(out):
    with open(out / "curation_log.csv", newline="") as f:
        return list(csv.DictReader(f))


# --- modes -----------------------------------------------------------------------------


def test_takeall_writes_raw_images_and_binary_gt_loadable_by_the_trainer(folders):
    summary = curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"]},
                     progress=False)
    assert (summary.written, summary.skipped, summary.failed) == (3, 0, 0)
    triplets = find_triplets(folders["out"])
    assert [t.name for t in triplets] == ["img_0", "img_1", "img_2"]
    for triplet, (raw, seg, _) in zip(triplets, folders["data"].values(), strict=True):
        assert triplet.costmap is None  # nothing excluded: costmap absent means all ones
        sample = load_triplet(triplet)
        np.testing.assert_array_equal(sample.image, raw)  # raw, not normalized
        np.testing.assert_array_equal(sample.gt, seg > 0)
        assert sample.spacing_um == pytest.approx(SPACING)
    assert read_image(triplets[0].image).data.dtype == np.uint16


def test_takeall_with_mask_files_zeroes_the_costmap(folders):
    mask_dir = folders["tmp"] / "masks"
    mask3d = np.zeros(SHAPE, np.uint8)
    mask3d[2:4, 10:20, 10:20] = 1
    write_ome_tiff(mask_dir / "c0_mask.tif", mask3d)
    mask2d = np.zeros((1, *SHAPE[1:]), np.uint8)
    mask2d[0, :5, :] = 255
    tifffile.imwrite(mask_dir / "c1_mask.tif", mask2d[0])  # a YX mask applies through z
    curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"],
            "mask": mask_dir}, progress=False)
    t0, t1, t2 = find_triplets(folders["out"])
    np.testing.assert_array_equal(load_triplet(t0).costmap, 1 - mask3d)
    cm1 = load_triplet(t1).costmap
    assert (cm1[:, :5, :] == 0).all() and (cm1[:, 5:, :] == 1).all()
    assert t2.costmap is None


def test_empty_mask_is_reported_and_the_image_still_written(folders):
    mask_dir = folders["tmp"] / "masks"
    write_ome_tiff(mask_dir / "c0_mask.tif", np.zeros(SHAPE, np.uint8))
    lines = []
    summary = curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"],
                      "mask": mask_dir}, progress=False, log=lines.append)
    assert summary.written == 3
    assert any("c0_mask.tif: the excluding mask is empty" in line for line in lines)


def test_sorting_writes_good_rejects_bad_and_applies_polygons(folders):
    decisions = write_decisions(folders["tmp"] / "d.csv", [
        {"image": "c0.tif", "decision": "good", "exclude": "all: 0,0 0,10 10,10 10,0"},
        {"image": "c1", "decision": "bad"},
        {"image": "c2.tif", "decision": "good", "exclude": "2: 20,20 20,30 30,30 30,20"},
    ])
    summary = curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
                      "out": folders["out"], "decisions": decisions}, progress=False)
    assert (summary.written, summary.skipped, summary.failed) == (2, 1, 0)
    t0, t1 = find_triplets(folders["out"])
    cm0 = load_triplet(t0).costmap
    assert (cm0[:, 5, 5] == 0).all() and (cm0[:, 40, 40] == 1).all()
    cm1 = load_triplet(t1).costmap
    assert cm1[2, 25, 25] == 0 and cm1[1, 25, 25] == 1 and cm1[3, 25, 25] == 1
    np.testing.assert_array_equal(load_triplet(t1).image, folders["data"]["c2"][0])
    by_image = {r["image"]: r for r in log_rows(folders["out"])}
    assert by_image["c1.tif"]["status"] == "rejected"
    assert by_image["c2.tif"]["output"] == "img_1"


def test_merging_takes_second_segmentation_inside_regions(folders):
    decisions = write_decisions(folders["tmp"] / "d.csv", [
        {"image": "c0.tif", "decision": "good", "merge": "all: 0,0 0,31.5 63,31.5 63,0"},
        {"image": "c1.tif", "decision": "bad"},
    ])
    summary = curate({"mode": "merging", "raw": folders["raw"], "seg1": folders["seg"],
                      "seg2": folders["seg2"], "out": folders["out"], "decisions": decisions},
                     progress=False)
    assert (summary.written, summary.skipped, summary.failed) == (1, 2, 0)  # c2 undecided
    (triplet,) = find_triplets(folders["out"])
    _, seg1, seg2 = folders["data"]["c0"]
    gt = load_triplet(triplet).gt
    np.testing.assert_array_equal(gt[:, :, :32], seg2[:, :, :32] > 0)
    np.testing.assert_array_equal(gt[:, :, 32:], seg1[:, :, 32:] > 0)


def test_numbering_continues_in_a_folder_with_triplets(folders):
    zeros = np.zeros(SHAPE, np.uint8)
    write_triplet(folders["out"], "old_7", zeros, zeros)
    curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"]}, progress=False)
    names = [t.name for t in find_triplets(folders["out"])]
    assert names == ["img_10", "img_8", "img_9", "old_7"]


# --- bad input and resuming ------------------------------------------------------------


def test_bad_inputs_fail_one_by_one_and_the_rest_continues(folders, rng):
    (folders["seg"] / "c1_struct_segmentation.tiff").unlink()
    write_ome_tiff(folders["seg"] / "c2_struct_segmentation.tiff", np.zeros((8, 64, 60), np.uint8))
    summary = curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"]},
                     progress=False)
    assert (summary.written, summary.failed) == (1, 2)
    assert "c1.tif: no segmentation c1_struct_segmentation.tiff" in summary.failures[0]
    assert "shape (8, 64, 60) differs from its raw image c2.tif (8, 64, 64)" in summary.failures[1]
    assert [t.name for t in find_triplets(folders["out"])] == ["img_0"]


def test_polygon_outside_fails_that_image_only(folders):
    decisions = write_decisions(folders["tmp"] / "d.csv", [
        {"image": "c0.tif", "decision": "good", "exclude": "all: 100,100 100,120 120,120"},
        {"image": "c1.tif", "decision": "good"},
    ])
    summary = curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
                      "out": folders["out"], "decisions": decisions}, progress=False)
    assert (summary.written, summary.failed) == (1, 1)
    assert "c0.tif: excluding polygon" in summary.failures[0]


def test_rerun_resumes_without_redoing_or_losing_work(folders):
    config = {"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"]}
    seg_c2 = folders["seg"] / "c2_struct_segmentation.tiff"
    moved = seg_c2.rename(folders["tmp"] / seg_c2.name)
    first = curate(config, progress=False)
    assert (first.written, first.failed) == (2, 1)
    written = {p.name: p.stat().st_mtime_ns for p in folders["out"].glob("*.ome.tif")}
    moved.rename(seg_c2)
    second = curate(config, progress=False)
    assert (second.written, second.failed, second.already_done) == (1, 0, 2)
    assert [t.name for t in find_triplets(folders["out"])] == ["img_0", "img_1", "img_2"]
    for name, mtime in written.items():
        assert (folders["out"] / name).stat().st_mtime_ns == mtime  # untouched
    third = curate(config, progress=False)
    assert (third.written, third.already_done) == (0, 3)


def test_a_killed_write_is_redone_under_the_same_name(folders):
    config = CurateConfig(raw=str(folders["raw"]), seg=str(folders["seg"]), out=str(folders["out"]))
    curator = Curator(config)
    item = curator.items[0]
    # What a run killed mid-write leaves: a 'writing' row and a ground truth without image.
    from seglight.curate.decision_log import Entry

    curator.decision_log.append(Entry(image=item.raw.name, raw=str(item.raw), decision="take",
                                status="writing", output="img_5"))
    write_ome_tiff(folders["out"] / "img_5_GT.ome.tif", np.zeros(SHAPE, np.uint8))
    summary = Curator(config).run(progress=False)
    assert summary.written == 3
    assert [t.name for t in find_triplets(folders["out"])] == ["img_5", "img_6", "img_7"]
    np.testing.assert_array_equal(
        load_triplet(find_triplets(folders["out"])[0]).gt, folders["data"]["c0"][1] > 0)


def test_inputs_are_never_modified(folders):
    before = {p: p.read_bytes() for d in ("raw", "seg") for p in folders[d].iterdir()}
    curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"]}, progress=False)
    after = {p: p.read_bytes() for d in ("raw", "seg") for p in folders[d].iterdir()}
    assert before == after


def test_normalize_true_writes_the_recipe_output(folders):
    recipe = [{"op": "min_max"}]
    curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"],
            "normalize": True, "normalization": recipe}, progress=False)
    image = load_triplet(find_triplets(folders["out"])[0]).image
    assert image.min() == pytest.approx(0, abs=1e-6) and image.max() == pytest.approx(1, abs=1e-6)


def test_merging_from_mask_files_alone_merges_every_image(folders):
    merge_dir = folders["tmp"] / "merge"
    region = np.zeros(SHAPE, np.uint8)
    region[:, 32:, :] = 1
    for stem in ("c0", "c1", "c2"):
        write_ome_tiff(merge_dir / f"{stem}_merge.tif", region)
    summary = curate({"mode": "merging", "raw": folders["raw"], "seg1": folders["seg"],
                      "seg2": folders["seg2"], "out": folders["out"], "merge_mask": merge_dir},
                     progress=False)
    assert summary.written == 3
    _, seg1, seg2 = folders["data"]["c1"]
    gt = load_triplet(find_triplets(folders["out"])[1]).gt
    np.testing.assert_array_equal(gt[:, 32:], seg2[:, 32:] > 0)
    np.testing.assert_array_equal(gt[:, :32], seg1[:, :32] > 0)


def test_takeall_uses_exclude_polygons_from_a_decisions_file(folders):
    decisions = write_decisions(folders["tmp"] / "d.csv", [
        {"image": "c1.tif", "decision": "good", "exclude": "0: 0,0 0,63 63,63 63,0"},
    ])
    curate({"raw": folders["raw"], "seg": folders["seg"], "out": folders["out"],
            "decisions": decisions}, progress=False)
    t0, t1, _ = find_triplets(folders["out"])
    assert t0.costmap is None
    cm = load_triplet(t1).costmap
    assert (cm[0] == 0).all() and (cm[1:] == 1).all()


def test_excluding_everything_fails_with_advice(folders):
    decisions = write_decisions(folders["tmp"] / "d.csv", [
        {"image": "c0.tif", "decision": "good", "exclude": "all: -1,-1 -1,70 70,70 70,-1"},
    ])
    summary = curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
                      "out": folders["out"], "decisions": decisions}, progress=False,
                     log=lambda line: None)
    assert summary.failed == 1
    assert "cover the whole image" in summary.failures[0] and "reject it" in summary.failures[0]


def test_malformed_decisions_file_is_refused_before_any_work(folders):
    bad = folders["tmp"] / "d.csv"
    bad.write_text("image,decision,exclude\nc0.tif,good,\"all 1,1 2,2 3,3\"\n")
    with pytest.raises(SeglightError, match=r"d.csv, image c0, exclude: polygon 'all 1,1"):
        curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
                "out": folders["out"], "decisions": bad}, progress=False)
    bad.write_text("image,decision\nc0.tif,maybe\n")
    with pytest.raises(SeglightError, match="decision 'maybe' is not one of good, bad, skip"):
        curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
                "out": folders["out"], "decisions": bad}, progress=False)
    bad.write_text("name,verdict\nc0.tif,good\n")
    with pytest.raises(SeglightError, match=r"missing column\(s\) \['image', 'decision'\]"):
        curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
                "out": folders["out"], "decisions": bad}, progress=False)
    assert not folders["out"].exists()


def test_a_napari_log_replays_as_a_decisions_file(folders):
    decisions = write_decisions(folders["tmp"] / "d.csv", [
        {"image": "c0.tif", "decision": "good", "exclude": "3: 1,1 1,9 9,9 9,1"},
        {"image": "c1.tif", "decision": "bad"},
        {"image": "c2.tif", "decision": "good"},
    ])
    first = folders["tmp"] / "first"
    curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"], "out": first,
            "decisions": decisions}, progress=False)
    curate({"mode": "sorting", "raw": folders["raw"], "seg": folders["seg"],
            "out": folders["out"], "decisions": first / "curation_log.csv"}, progress=False)
    for a, b in zip(find_triplets(first), find_triplets(folders["out"]), strict=True):
        sa, sb = load_triplet(a), load_triplet(b)
        np.testing.assert_array_equal(sa.costmap, sb.costmap)
        np.testing.assert_array_equal(sa.gt, sb.gt)
