import csv

import numpy as np
import pytest
from scipy import ndimage as ndi

import seglight
from seglight.data.benchmark import KINDS, make_benchmark_image, write_benchmark
from seglight.io import read_image


def test_benchmark_image_is_deterministic_by_seed_and_index():
    a = make_benchmark_image(3, seed=0)
    np.testing.assert_array_equal(a.image, make_benchmark_image(3, seed=0).image)
    assert not np.array_equal(a.image, make_benchmark_image(3, seed=1).image)
    assert not np.array_equal(a.image, make_benchmark_image(4, seed=0).image)


def test_every_cell_has_truth_inside_its_region_and_a_known_kind():
    for index in range(4):
        sample = make_benchmark_image(index)
        assert set(sample.kinds) <= set(KINDS) and sample.kinds[0] == "interphase"
        assert sample.truth.dtype == np.uint8 and 0.005 < sample.truth.mean() < 0.1
        assert not (sample.truth.astype(bool) & (sample.cells == 0)).any()
        for label in range(1, len(sample.kinds) + 1):
            assert sample.truth[sample.cells == label].any()


def _first(kind):
    for index in range(50):
        sample = make_benchmark_image(index)
        if kind in sample.kinds:
            return sample, sample.kinds.index(kind) + 1
    raise AssertionError(kind)


def test_dim_cells_are_dimmer_and_mitotic_laminas_are_open():
    sample, label = _first("dim")
    bright = sample.image[(sample.truth > 0) & (sample.cells == 1)].mean()
    dim = sample.image[(sample.truth > 0) & (sample.cells == label)].mean()
    assert dim < 0.8 * bright
    sample, label = _first("mitotic")
    lamina = (sample.truth > 0) & (sample.cells == label)
    # no closed ring on the middle slice: filling holes adds (almost) nothing
    z = int(np.median(np.nonzero(lamina)[0]))
    assert ndi.binary_fill_holes(lamina[z]).sum() < 1.5 * lamina[z].sum()


def test_the_classic_workflow_misses_mitotic_cells_but_finds_bright_nuclei():
    sample, label = _first("mitotic")
    mask = seglight.binarize(sample.image, "classic/lmnb1_interphase") > 0
    grown = ndi.binary_dilation(sample.cells == label, iterations=2)
    assert mask[grown].sum() < 0.1 * sample.truth[grown].sum()
    grown = ndi.binary_dilation(sample.cells == 1, iterations=2)
    assert mask[grown & (sample.truth > 0)].mean() > 0.5


def test_write_benchmark_writes_both_sets_and_resumes(tmp_path):
    folder = write_benchmark(tmp_path, n_pool=2, n_heldout=1, shape_zyx=(16, 64, 64))
    raw = sorted((folder / "pool" / "raw").iterdir())
    assert [p.name for p in raw] == ["pool_000.ome.tif", "pool_001.ome.tif"]
    assert len(list((folder / "heldout" / "truth").iterdir())) == 1
    image = read_image(raw[0])
    truth = read_image(folder / "pool" / "truth" / "pool_000.ome.tif").data
    assert image.shape == truth.shape == (16, 64, 64)
    assert image.spacing_um == (0.29, 0.108, 0.108)
    with open(folder / "pool" / "cells.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["image"] for r in rows} == {"pool_000", "pool_001"}
    mtime = raw[0].stat().st_mtime_ns
    write_benchmark(tmp_path, n_pool=2, n_heldout=1, shape_zyx=(16, 64, 64))
    assert raw[0].stat().st_mtime_ns == mtime


def test_a_fresh_heldout_set_shares_no_image_with_the_first(tmp_path):
    first = write_benchmark(tmp_path / "a", n_pool=0, n_heldout=2, shape_zyx=(16, 64, 64))
    fresh = write_benchmark(tmp_path / "b", n_pool=0, n_heldout=2, shape_zyx=(16, 64, 64),
                            heldout_offset=200_000)
    assert not (first / "pool").exists()  # a set of no images is not written
    for name in ("heldout_000.ome.tif", "heldout_001.ome.tif"):
        a = read_image(first / "heldout" / "raw" / name).data
        b = read_image(fresh / "heldout" / "raw" / name).data
        assert a.shape == b.shape and not np.array_equal(a, b)
    same = read_image(write_benchmark(tmp_path / "c", n_pool=0, n_heldout=1,
                                      shape_zyx=(16, 64, 64), heldout_offset=200_000)
                      / "heldout" / "raw" / "heldout_000.ome.tif").data
    assert np.array_equal(same, read_image(fresh / "heldout" / "raw" / "heldout_000.ome.tif").data)
    # a folder of other images is refused, not mixed: its kinds still describe its images
    table = (fresh / "heldout" / "cells.csv").read_text()
    with pytest.raises(ValueError, match="heldout_000.ome.tif: not image 20 of this benchmark"):
        write_benchmark(fresh, n_pool=0, n_heldout=2, shape_zyx=(16, 64, 64), heldout_offset=20)
    assert (fresh / "heldout" / "cells.csv").read_text() == table


def test_a_heldout_offset_inside_the_pool_is_refused(tmp_path):
    with pytest.raises(ValueError, match="heldout_offset=3"):
        write_benchmark(tmp_path, n_pool=4, n_heldout=1, heldout_offset=3)

