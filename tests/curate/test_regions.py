"""Regions: polygon text, rasterizing, and the ground truth a merging region gives."""

import numpy as np
import pytest

from seglight.curate.regions import (
    Polygon,
    format_polygons,
    merge_segmentations,
    parse_polygons,
    rasterize,
)
from seglight.errors import SeglightError

# --- polygons --------------------------------------------------------------------------


def test_polygon_text_round_trips():
    polys = parse_polygons("all: 0,0 0,20 20,20 | 3: 5,5 5,9.5 9,9")
    assert [p.z for p in polys] == [None, 3]
    np.testing.assert_array_equal(polys[1].yx, [[5, 5], [5, 9.5], [9, 9]])
    again = parse_polygons(format_polygons(polys))
    assert [p.z for p in again] == [None, 3]
    np.testing.assert_array_equal(again[1].yx, polys[1].yx)
    assert parse_polygons("") == []


@pytest.mark.parametrize(
    "text", ["3 5,5 5,9 9,9", "all: 1,2 3,4", "x: 1,1 2,2 3,3", "all: 1,a 2,2 3,3"]
)
def test_bad_polygon_text_is_a_clear_error(text):
    with pytest.raises(SeglightError, match="cannot be read; write 'Z: y,x"):
        parse_polygons(text)


def test_rasterize_fills_one_slice_or_all_slices():
    square = np.array([[2, 2], [2, 5], [5, 5], [5, 2]], float)
    one = rasterize([Polygon(square, z=1)], (3, 10, 10), "t")
    assert one[1].sum() > 0 and one[0].sum() == 0 and one[2].sum() == 0
    assert one[1, 3, 3] and not one[1, 8, 8]
    every = rasterize([Polygon(square)], (3, 10, 10), "t")
    assert all(every[z, 3, 3] for z in range(3))


def test_polygon_outside_the_image_or_stack_is_an_error():
    far = np.array([[50, 50], [50, 60], [60, 60]], float)
    with pytest.raises(SeglightError, match="lies outside the image"):
        rasterize([Polygon(far, z=0)], (3, 10, 10), "c0.tif: excluding")
    inside = np.array([[1, 1], [1, 5], [5, 5]], float)
    with pytest.raises(SeglightError, match=r"slice z=7 is outside the stack \(0..2\)"):
        rasterize([Polygon(inside, z=7)], (3, 10, 10), "c0.tif: excluding")


def test_polygon_partly_outside_is_clipped_with_a_line():
    lines = []
    big = np.array([[-5, -5], [-5, 5], [5, 5], [5, -5]], float)
    mask = rasterize([Polygon(big)], (2, 10, 10), "c0.tif: excluding", lines.append)
    assert mask[:, 0, 0].all() and not mask[:, 8, 8].any()
    assert len(lines) == 1 and "partly outside" in lines[0]


def test_merge_takes_second_inside_region():
    seg1 = np.zeros((1, 2, 2), np.uint8)
    seg2 = np.full((1, 2, 2), 255, np.uint8)
    region = np.array([[[True, False], [False, False]]])
    np.testing.assert_array_equal(merge_segmentations(seg1, seg2, region), [[[1, 0], [0, 0]]])
