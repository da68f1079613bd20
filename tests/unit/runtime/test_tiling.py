"""Tiling geometry and the class-aware merge."""

from __future__ import annotations

import numpy as np
import pytest

from wildxray.runtime.tiling import (
    DEFAULT_MAX_TILES,
    DEFAULT_OVERLAP,
    Tile,
    drop_cut_boxes,
    merge_detections,
    needs_tiling,
    tiles_for,
    windows,
)
from wildxray.types import Detections


@pytest.mark.parametrize("length, tile, overlap", [(1000, 300, 0.25), (301, 300, 0.25), (4000, 600, 0.5), (900, 300, 0.0)])
def test_windows_cover_the_length_with_the_requested_overlap(length, tile, overlap):
    w = windows(length, tile, overlap)
    assert w[0][0] == 0 and w[-1][1] == length
    assert all(e - s == tile for s, e in w)
    for (s0, e0), (s1, _) in zip(w, w[1:]):
        assert e0 - s1 >= int(tile * overlap)  # overlap never below the request
        assert s1 > s0


def test_short_length_is_one_window():
    assert windows(200, 300) == [(0, 200)]


def test_tiles_follow_the_long_axis():
    tall = tiles_for(1000, 200)
    assert all(t.x0 == 0 and t.x1 == 200 and t.y1 - t.y0 == 200 for t in tall)
    wide = tiles_for(200, 1000)
    assert all(t.y0 == 0 and t.y1 == 200 and t.x1 - t.x0 == 200 for t in wide)
    assert needs_tiling(1000, 200, 2.5) and not needs_tiling(400, 200, 2.5)


def test_boxes_on_interior_cuts_are_dropped_outer_edges_kept():
    tile = Tile(0, 100, 200, 300)  # rows 100..300 of a 500-row image: both y edges are cuts
    d = Detections([[10, 0, 50, 40], [10, 150, 50, 200], [0, 50, 30, 80], [60, 60, 90, 90]],
                   [0.9, 0.8, 0.7, 0.6], [0, 0, 0, 0])
    kept = drop_cut_boxes(d, tile, 500, 200)
    # top-cut and bottom-cut boxes dropped; a box on the image's own left edge stays
    np.testing.assert_array_equal(kept.scores, np.float32([0.7, 0.6]))


def test_merge_is_class_aware_and_sorted():
    a = Detections([[0, 0, 10, 10]], [0.6], [0])
    b = Detections([[0, 0, 10, 11], [0, 0, 10, 10]], [0.9, 0.8], [0, 1])  # dup of a (class 0), other class
    m = merge_detections([a, b, Detections.empty()], iou_threshold=0.5)
    assert m.labels.tolist() == [0, 1]
    np.testing.assert_allclose(m.scores, [0.9, 0.8])
    assert len(merge_detections([Detections.empty()])) == 0


@pytest.mark.parametrize("height, width", [(1, 300), (300, 1), (1, 60_000), (13, 416), (40, 1280)])
def test_tile_count_is_bounded_and_still_covers_the_image(height, width):
    """A 1 x 300 px image used to be cut into ~300 one-pixel tiles, all sent to the model as one batch."""
    tiles = tiles_for(height, width)
    assert 1 <= len(tiles) <= DEFAULT_MAX_TILES
    vertical = height >= width
    spans = [(t.y0, t.y1) if vertical else (t.x0, t.x1) for t in tiles]
    length = max(height, width)
    assert spans[0][0] == 0 and spans[-1][1] == length
    for (s0, e0), (s1, e1) in zip(spans, spans[1:]):
        assert e0 - s1 >= int((e0 - s0) * DEFAULT_OVERLAP)  # the overlap holds for the longer tiles too
    assert all(t.x1 - t.x0 == width for t in tiles) if vertical else all(t.y1 - t.y0 == height for t in tiles)


def test_ordinary_belt_scans_keep_square_full_resolution_tiles():
    for height, width in [(4_000, 600), (24_000, 2_000)]:  # 12:1 is the longest that stays square
        tiles = tiles_for(height, width)
        assert len(tiles) <= DEFAULT_MAX_TILES and all(t.y1 - t.y0 == width for t in tiles)
    with pytest.raises(ValueError, match="max_windows"):
        windows(100, 10, max_windows=0)
