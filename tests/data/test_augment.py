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


def test_gamma_changes_faint_relative_to_bright_and_keeps_the_range(rng):
    image, gt, cm = _volumes(rng)
    image = image * 3 + 1  # not [0, 1]: the change works on the patch's own range
    plain = dict(flip=False, rot90=False, rotate_prob=0, intensity_scale=0, intensity_shift=0,
                 noise_std=0)
    out, out_gt, _ = Augmentation(**plain, gamma=0.4, gamma_prob=1.0)(image, gt, cm, rng)
    assert np.isclose(out.min(), image.min()) and np.isclose(out.max(), image.max())
    assert not np.allclose(out, image)
    order = np.argsort(image, axis=None)
    assert np.all(np.diff(out.ravel()[order]) >= -1e-5)  # monotonic: ranks kept
    np.testing.assert_array_equal(out_gt, gt)
