import numpy as np

from seglight.data.demo import DEMO_SPACING_UM, ensure_demo_dataset, make_demo_image
from seglight.io import find_triplets, load_triplet


def test_demo_image_is_deterministic_and_lamin_like():
    image, gt, costmap = make_demo_image(0, (24, 96, 96))
    again = make_demo_image(0, (24, 96, 96))
    np.testing.assert_array_equal(image, again[0])
    assert image.dtype == np.uint16 and gt.dtype == np.uint8
    # a thin shell: a few percent of the volume, brighter than the background on average
    assert 0.005 < gt.mean() < 0.1
    assert image[gt > 0].mean() > 1.5 * image[gt == 0].mean()
    # index 0 carries an excluded box around an unlabelled blob
    assert (costmap == 0).any() and (costmap == 1).mean() > 0.8


def test_ensure_demo_dataset_writes_triplets_once(tmp_path):
    folder = ensure_demo_dataset(tmp_path / "demo", n_images=2, shape_zyx=(16, 64, 64))
    triplets = find_triplets(folder)
    assert [t.name for t in triplets] == ["demo_00", "demo_01"]
    sample = load_triplet(triplets[0])
    assert sample.spacing_um == DEMO_SPACING_UM
    mtime = triplets[0].image.stat().st_mtime_ns
    ensure_demo_dataset(folder, n_images=2, shape_zyx=(16, 64, 64))
    assert triplets[0].image.stat().st_mtime_ns == mtime
