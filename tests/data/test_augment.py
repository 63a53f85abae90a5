import numpy as np

from seglight.data.augment import Augmentation


def _volumes(rng):
    image = rng.random((4, 24, 24)).astype(np.float32)
    gt = (image > 0.7).astype(np.uint8)
    return image, gt, np.ones_like(image)


def test_geometric_transforms_move_image_and_masks_together(rng):
    image, gt, cm = _volumes(rng)
    aug = Augmentation(rotate_prob=0, intensity_scale=0, intensity_shift=0, noise_std=0)
    for seed in range(8):
        out_image, out_gt, _ = aug(image, gt, cm, np.random.default_rng(seed))
        np.testing.assert_array_equal(out_gt, (out_image > 0.7).astype(np.uint8))


def test_free_rotation_stays_float_and_keeps_masks_binary(rng):
    image, gt, cm = _volumes(rng)
    image = image * 1e-3  # tiny values: an 8-bit round trip would flatten them to a few levels
    aug = Augmentation(flip=False, rot90=False, intensity_scale=0, intensity_shift=0,
                       noise_std=0)
    out_image, out_gt, out_cm = aug(image, gt, cm, rng, angle=33.0)
    assert out_image.dtype == np.float32
    assert len(np.unique(out_image[:, 8:16, 8:16])) > 200
    assert set(np.unique(out_gt)) <= {0, 1} and set(np.unique(out_cm)) <= {0.0, 1.0}
    assert not np.array_equal(out_gt, gt)


def test_intensity_transforms_touch_only_the_image(rng):
    image, gt, cm = _volumes(rng)
    aug = Augmentation(flip=False, rot90=False, rotate_prob=0, intensity_scale=0.5,
                       intensity_shift=0.5, noise_std=0.1)
    out_image, out_gt, out_cm = aug(image, gt, cm, rng)
    assert not np.allclose(out_image, image)
    np.testing.assert_array_equal(out_gt, gt)
    np.testing.assert_array_equal(out_cm, cm)
