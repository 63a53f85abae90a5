"""The planning rules on fingerprints with known values (no training)."""

from __future__ import annotations

import math

import pytest

from seglight.errors import ConfigError
from seglight.networks import UNetXY
from seglight.planning import rules
from seglight.planning.fingerprint import Fingerprint, IntensityStats


def fingerprint(spacing=(0.29, 0.108, 0.108), shape=(32, 128, 128), extent=(5.5, 4.4, 4.4),
                thickness=0.3, kind="shell", fg=0.03, n=8, **kw) -> Fingerprint:
    stats = dict(fg=IntensityStats(800, 1200, 1700, 1200, 190, 1000),
                 bg=IntensityStats(350, 480, 1000, 500, 95, 1000))
    values = dict(
        path="x", n_images=n, spacing_um=list(spacing), spacing_known=True,
        spacings_differ=False, median_shape=list(shape), min_shape=list(shape),
        total_voxels=n * math.prod(shape), dtype="uint16", foreground_fraction=fg,
        costmap_coverage=1.0, foreground=stats["fg"], background=stats["bg"],
        background_unevenness=0.5, thickness_um=thickness,
        thickness_vox=[thickness / s for s in spacing], extent_um=list(extent),
        n_objects=10, kind=kind, fill_ratio=3.0)
    values.update(kw)
    return Fingerprint(**values)


def test_receptive_field_of_unet_xy():
    # two 3x3x3 convolutions per level, down and up, pooling xy three times: z is never pooled
    assert rules.unet_xy_topology().receptive_field() == [29, 96, 96]
    assert rules.unet_xy_topology(zoom=2).receptive_field() == [29, 192, 192]


def test_anisotropic_pooling_pools_xy_first():
    topo = rules.pooled_topology([1.0, 0.25, 0.25], [32, 256, 256])
    assert topo.strides[1] == [1, 2, 2]            # z 4x coarser: xy only
    assert topo.kernels[0] == [1, 3, 3]            # no mixing across the coarse z yet
    assert [2, 2, 2] in topo.strides               # once xy reaches z's spacing, all axes
    iso = rules.pooled_topology([0.2, 0.2, 0.2], [64, 64, 64])
    assert all(s == [2, 2, 2] for s in iso.strides[1:])
    assert iso.divisor == [16, 16, 16]             # down to 4 voxels per axis


def test_anisotropic_data_get_the_xy_pooling_network():
    _, _, rows = rules.decide_geometry(fingerprint())
    assert {r.key: r.value for r in rows}["model"] == "unet_xy_padded"
    _, _, rows = rules.decide_geometry(fingerprint(spacing=(0.2, 0.2, 0.2), shape=(64, 128, 128),
                                                   extent=(6, 6, 6), kind="blob",
                                                   thickness=5.0))
    assert {r.key: r.value for r in rows}["model"] == "dynunet"


def test_large_objects_zoom_unless_thin():
    blob = fingerprint(spacing=(0.5, 0.1, 0.1), extent=(5, 20, 20), thickness=8.0, kind="blob")
    topo, _, _ = rules.decide_geometry(blob)
    assert topo.zoom == 2  # 200 px objects, over the 96 px receptive field
    thin = fingerprint(spacing=(0.5, 0.1, 0.1), extent=(5, 20, 20), thickness=0.2)
    topo, _, _ = rules.decide_geometry(thin)
    assert topo.zoom == 1  # 2 px walls would vanish when pooled first


def test_patches_are_valid_for_the_network():
    topo = rules.unet_xy_topology()
    net = UNetXY(width=4, padded=True)
    for target in ([5, 37, 51], [16, 48, 48], [40, 200, 300]):
        patch = rules.valid_patch(topo, target, [32, 128, 128])
        net.output_shape(patch)  # raises on an invalid size
        assert patch[1] <= 128 and patch[2] <= 128


def test_loss_and_sampling_follow_the_structure():
    assert rules.decide_loss(fingerprint(), 3)[0].value == "dice_ce"
    blobs = fingerprint(kind="blob", fg=0.3, thickness=4.0)
    assert rules.decide_loss(blobs, 1)[0].value == "ce"
    assert rules.decide_sampling(fingerprint(fg=0.005)).value == 0.67
    assert rules.decide_sampling(blobs).value == 0.33


def test_normalization_prefers_the_default():
    assert rules.decide_normalization(fingerprint())[0].value == "clipped_zscore"
    uneven = fingerprint(background_unevenness=3.0)
    assert rules.decide_normalization(uneven)[0].value == "clipped_zscore"  # flattening: no package
    scaled = fingerprint(dtype="float32", foreground=IntensityStats(0.3, 0.6, 0.95, 0.6, 0.1, 9),
                         background=IntensityStats(0.0, 0.1, 0.3, 0.1, 0.05, 9))
    assert rules.decide_normalization(scaled)[0].value == "none"


def test_augmentation_respects_anisotropy():
    rows = {r.key: r for r in rules.decide_augmentation(fingerprint(), [16, 48, 48])}
    assert rows["data.augmentation.rot90"].value is True
    assert "about z only" in rows["data.augmentation.rotate_prob"].reason
    skewed = fingerprint(spacing=(0.5, 0.1, 0.2))
    rows = {r.key: r for r in rules.decide_augmentation(skewed, [16, 48, 48])}
    assert rows["data.augmentation.rot90"].value is False
    assert rows["data.augmentation.rotate_prob"].value == 0.0


def _cost(bytes_per_voxel=1000.0, seconds_per_voxel=1e-7):
    def cost(width, batch, patch):
        voxels = batch * math.prod(patch)
        return seconds_per_voxel * voxels * width, 1e8 + bytes_per_voxel * voxels * width / 4
    return cost


def _size(fp, memory, budget=600.0, **cost):
    topo, target, _ = rules.decide_geometry(fp)
    request = rules.Request(budget, "cuda", memory, "test")
    return rules.decide_size(fp, topo, target, request, _cost(**cost), overhead_s=0.0)


def test_a_generous_device_gets_a_wide_network_and_a_large_batch():
    width, batch, patch, _ = _size(fingerprint(shape=(48, 192, 192)), memory=80e9,
                                   seconds_per_voxel=1e-9)
    assert width == 32 and batch == 8
    assert patch[1] >= 96  # objects x2 for context


def test_memory_at_the_edge_shrinks_and_fits():
    fp = fingerprint(shape=(48, 192, 192))
    roomy = _size(fp, memory=80e9)
    # memory for about one small patch: the plan shrinks the patch and the batch to fit it
    tight_memory = 1e8 + 1000 * 2 * 16 * 40 * 40
    width, batch, patch, rows = _size(fp, memory=tight_memory)
    need = _cost()(width, batch, patch)[1]
    assert need <= tight_memory
    assert batch * math.prod(patch) < roomy[1] * math.prod(roomy[2])
    assert any("shrunk" in r.reason for r in rows)


def test_memory_below_the_smallest_plan_is_refused_in_one_line():
    with pytest.raises(ConfigError, match=r"memory: the smallest plan .* needs") as err:
        _size(fingerprint(), memory=1.01e8)
    assert "\n" not in str(err.value)


def test_a_short_budget_gets_fewer_steps_narrower_and_smaller():
    long = _size(fingerprint(), memory=80e9, budget=36000.0)
    short = _size(fingerprint(), memory=80e9, budget=60.0)
    assert short[0] <= long[0]
    assert short[1] * math.prod(short[2]) <= long[1] * math.prod(long[2])


def test_the_weight_average_spans_a_tenth_of_the_run_from_the_end_of_the_warm_up():
    from seglight.planning.rules import decide_weight_average

    d = decide_weight_average(steps=400, warmup=40)
    assert d.key == "callbacks.ema"
    assert d.value["_target_"] == "lightning.pytorch.callbacks.EMAWeightAveraging"
    assert d.value["decay"] == 1 - 1 / 40 and d.value["update_starting_at_step"] == 40
    assert decide_weight_average(steps=50, warmup=5).value["decay"] == 0.9  # 10 steps at least


def test_a_patch_never_covers_more_than_half_of_the_smallest_image():
    """Whole-image patches give every step the same view: the ovule's quadrants."""
    fp = fingerprint(spacing=(0.235, 0.15, 0.15), shape=(32, 64, 64), extent=(7.3, 9.6, 9.6))
    _, _, patch, rows = _size(fp, memory=80e9, seconds_per_voxel=1e-9)
    assert math.prod(patch) <= rules.MAX_PATCH_SHARE * 32 * 64 * 64
    assert patch[1] == patch[2] and patch[1] % 8 == 0
    assert any("random crops differ" in r.reason for r in rows)


def test_a_patch_leaves_random_crops_room_along_every_axis():
    """The ovule's quadrants: 28 of 32 slices passed the volume rule and left crops 4
    positions in z; every axis is now at most 3/4 of the smallest image's."""
    fp = fingerprint(spacing=(0.235, 0.15, 0.15), shape=(32, 64, 64), extent=(7.3, 9.6, 9.6))
    _, _, patch, rows = _size(fp, memory=80e9, seconds_per_voxel=1e-9)
    assert patch == [24, 48, 48]
    assert any("along each axis" in r.reason for r in rows if r.key == "data.patch_zyx")
    # the benchmark's shells with all the time in the world: the whole 32 slices no more
    _, _, patch, _ = _size(fingerprint(), memory=80e9, seconds_per_voxel=1e-9)
    assert patch == [24, 88, 88]


def test_the_zscore_window_is_fitted_to_the_data():
    # the ovule: walls 12 % of the voxels, uint8 near its top: a narrow window
    walls = fingerprint(fg=0.12, foreground=IntensityStats(120, 210, 254, 205, 35, 1000),
                        background=IntensityStats(20, 110, 200, 105, 45, 1000))
    window = rules.fit_zscore_window(walls).value[0]
    assert window["op"] == "clipped_zscore"
    assert (window["lower_std"], window["upper_std"]) == (2.0, 3.0)
    # a sparse bright structure far above a dim background: the default's wide upper clip
    lamin = fingerprint(fg=0.02, foreground=IntensityStats(700, 1100, 2000, 1150, 250, 1000),
                        background=IntensityStats(300, 480, 700, 490, 80, 1000))
    window = rules.fit_zscore_window(lamin).value[0]
    assert window["upper_std"] == 10.0 and 1.0 <= window["lower_std"] <= 2.5
