import numpy as np
import pytest
import tifffile

from seglight.errors import SeglightError
from seglight.io import image_stem, read_image, write_ome_tiff


def test_ome_tiff_roundtrip_keeps_voxels_and_spacing(tmp_path, rng):
    data = rng.integers(0, 4000, (6, 20, 24), dtype=np.uint16)
    path = write_ome_tiff(tmp_path / "cell.ome.tif", data, (0.29, 0.108, 0.108), "lamin")
    img = read_image(path)
    np.testing.assert_array_equal(img.data, data)
    assert img.spacing_um == pytest.approx((0.29, 0.108, 0.108))
    assert img.channel_name == "lamin"
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_plain_tiff_is_read_as_zyx(tmp_path, rng):
    data = rng.random((5, 16, 12)).astype(np.float32)
    tifffile.imwrite(tmp_path / "a.tif", data)
    img = read_image(tmp_path / "a.tif")
    assert img.shape == (5, 16, 12)
    np.testing.assert_array_equal(img.data, data)


def test_channel_by_index_and_name(tmp_path, rng):
    from bioio_ome_tiff.writers import OmeTiffWriter

    data = rng.integers(0, 255, (2, 4, 8, 8), dtype=np.uint8)  # CZYX
    OmeTiffWriter.save(data, tmp_path / "two.ome.tif", dim_order="CZYX",
                       channel_names=["dna", "lamin"])
    assert np.array_equal(read_image(tmp_path / "two.ome.tif", channel=1).data, data[1])
    assert np.array_equal(read_image(tmp_path / "two.ome.tif", channel="lamin").data, data[1])
    with pytest.raises(SeglightError, match=r"channel 2 is out of range.*channel=0..1"):
        read_image(tmp_path / "two.ome.tif", channel=2)
    with pytest.raises(SeglightError, match="no channel named 'golgi'"):
        read_image(tmp_path / "two.ome.tif", channel="golgi")


def test_2d_image_is_refused_with_a_clear_message(tmp_path):
    tifffile.imwrite(tmp_path / "flat.tif", np.zeros((32, 32), np.uint8))
    with pytest.raises(SeglightError, match=r"flat.tif: the image is 2D"):
        read_image(tmp_path / "flat.tif")


def test_unreadable_and_missing_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"this is not a tiff")
    with pytest.raises(SeglightError, match="broken.tif"):
        read_image(bad)
    with pytest.raises(SeglightError, match="no such file"):
        read_image(tmp_path / "missing.tif")


def test_image_stem_strips_double_suffixes():
    assert image_stem("a/cell_01.ome.tif") == "cell_01"
    assert image_stem("cell.TIFF") == "cell"
    assert image_stem("x.czi") == "x"


def test_written_files_are_readable_by_others(tmp_path):
    import stat

    path = write_ome_tiff(tmp_path / "m.ome.tif", np.zeros((2, 4, 4), np.uint8))
    assert path.stat().st_mode & stat.S_IROTH


def test_czi_is_read_as_zyx_with_spacing_and_channel_name(tmp_path, rng):
    pyczi = pytest.importorskip("pylibCZIrw.czi")
    data = rng.integers(0, 255, (5, 32, 40), dtype=np.uint8)
    with pyczi.create_czi(str(tmp_path / "cell.czi"), exist_ok=True) as czi:
        for z in range(5):
            czi.write(data=data[z][..., None], plane={"Z": z, "C": 0, "T": 0})
        czi.write_metadata(document_name="cell", channel_names={0: "lamin"},
                           scale_x=0.108e-6, scale_y=0.108e-6, scale_z=0.29e-6)
    img = read_image(tmp_path / "cell.czi", channel="lamin")
    np.testing.assert_array_equal(img.data, data)
    assert img.spacing_um == pytest.approx((0.29, 0.108, 0.108))


def test_scene_and_timepoint_selection(tmp_path, rng):
    from bioio_ome_tiff.writers import OmeTiffWriter

    scenes = [rng.integers(0, 255, (2, 3, 8, 8), dtype=np.uint8) for _ in range(2)]  # TZYX
    OmeTiffWriter.save(scenes, tmp_path / "multi.ome.tif", dim_order="TZYX")
    img = read_image(tmp_path / "multi.ome.tif", scene=1, timepoint=1)
    np.testing.assert_array_equal(img.data, scenes[1][1])
    assert (img.scene, img.timepoint) == (1, 1)
    with pytest.raises(SeglightError, match=r"scene 2 is out of range.*scene=0..1"):
        read_image(tmp_path / "multi.ome.tif", scene=2)
    with pytest.raises(SeglightError, match=r"timepoint 5 is out of range.*timepoint=0..1"):
        read_image(tmp_path / "multi.ome.tif", timepoint=5)


def test_plain_and_imagej_tiffs_are_read_without_reader_fallback_noise(tmp_path, caplog):
    """bioio logs "Attempted file ... load with reader ... failed" when it has to guess the
    reader; seglight picks it, so a plain TIFF prints nothing a user would read as an error."""
    import logging

    import tifffile

    image = np.arange(5 * 8 * 8, dtype=np.uint16).reshape(5, 8, 8)
    tifffile.imwrite(tmp_path / "plain.tif", image)
    tifffile.imwrite(tmp_path / "imagej.tif", image, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "described.tiff", image, description="<?xml version='1.0'?><a/>")
    with caplog.at_level(logging.DEBUG):
        for name in ("plain.tif", "imagej.tif", "described.tiff"):
            np.testing.assert_array_equal(read_image(tmp_path / name).data, image)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_far_axes_are_those_beyond_the_factor_either_way_and_unknown_is_never_far():
    from seglight.io.image import far_axes

    reference = (0.29, 0.108, 0.108)
    assert far_axes((0.29 * 1.2, 0.108 / 1.2, 0.108), reference) == []
    assert far_axes((0.29 * 1.3, 0.108, 0.108 / 1.3), reference) == [0, 2]
    assert far_axes((None, 0.5, 0.108), (0.29, None, 0.108)) == []
    assert far_axes((0.29, 0.2, 0.2), reference, factor=2.0) == []
