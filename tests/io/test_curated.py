import numpy as np
import pytest
import tifffile

from seglight.errors import SeglightError
from seglight.io import find_triplets, load_triplet, next_index, write_triplet


def test_write_then_find_and_load_triplets(tmp_path, rng):
    img = rng.random((4, 10, 10)).astype(np.float32)
    gt = (img > 0.5).astype(np.uint8) * 255
    cm = np.ones_like(img)
    cm[0] = 0
    write_triplet(tmp_path, "img_0", img, gt, cm, (0.3, 0.1, 0.1))
    write_triplet(tmp_path, "img_1", img, gt)  # no costmap
    triplets = find_triplets(tmp_path)
    assert [t.name for t in triplets] == ["img_0", "img_1"]
    assert triplets[1].costmap is None
    sample = load_triplet(triplets[0])
    assert set(np.unique(sample.gt)) == {0, 1}
    np.testing.assert_array_equal(sample.costmap, cm)
    assert sample.spacing_um == pytest.approx((0.3, 0.1, 0.1))
    assert load_triplet(triplets[1]).costmap.min() == 1.0
    assert next_index(tmp_path) == 2


def test_plain_tif_triplets_are_found(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((5, 8, 8), np.uint16))
    tifffile.imwrite(tmp_path / "a_GT.tif", np.zeros((5, 8, 8), np.uint8))
    assert [t.name for t in find_triplets(tmp_path)] == ["a"]


def test_shape_mismatch_names_the_file(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((5, 8, 8), np.uint16))
    tifffile.imwrite(tmp_path / "a_GT.tif", np.zeros((5, 8, 9), np.uint8))
    with pytest.raises(SeglightError, match=r"a_GT.tif: shape \(5, 8, 9\) differs"):
        load_triplet(find_triplets(tmp_path)[0])


def test_image_without_ground_truth_is_an_error(tmp_path):
    tifffile.imwrite(tmp_path / "lonely.tif", np.zeros((5, 8, 8), np.uint16))
    with pytest.raises(SeglightError, match="lonely.tif: image without ground truth"):
        find_triplets(tmp_path)
