"""wildxray.data.mosaic: boxes and masks move with the pixels, cut boxes are dropped, bad settings refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from wildxray.data.augment import XRAY_EMPTY_FILL, border_fill, build_transforms
from wildxray.data.masks import class_map_from_masks
from wildxray.data.mosaic import Mosaic, MosaicSettings, build_mosaic, combine
from wildxray.paths import config_dir
from wildxray.training.criterion import pad_targets, parcel_targets
from wildxray.types import Target

S = 128
AIR = XRAY_EMPTY_FILL
# Tile shapes (h, w) whose long side is S: the letterbox scale is 1, so every pixel is exact.
SHAPES = [(96, 128), (128, 80), (128, 128), (64, 128)]


def _colour(k: int) -> tuple[int, int, int]:
    """A distinct, fully saturated colour per box (never the air value, never one another)."""
    return (20 + 9 * k, 200 - 7 * k, (60 * k) % 256)


def _tiles(rng: np.random.Generator, with_masks: bool = False, discs: bool = False):
    """Four tiles of ``SHAPES`` on air, each with 0-3 boxes (tile 2 clean) drawn as solid rectangles
    (or discs inside their box) of a colour of their own. Returns (tiles, colour of each box id)."""
    tiles, colours, k = [], {}, 0
    for t, (h, w) in enumerate(SHAPES):
        image = np.full((h, w, 3), AIR, np.uint8)
        boxes, labels, masks = [], [], []
        for _ in range(0 if t == 2 else 3):
            bw, bh = int(rng.integers(6, w // 3)), int(rng.integers(6, h // 3))
            # boxes of one tile in separate thirds of its width, so they never overlap
            x0 = int(rng.integers(len(boxes) * (w // 3), (len(boxes) + 1) * (w // 3) - bw))
            y0 = int(rng.integers(0, h - bh))
            mask = np.zeros((h, w), bool)
            if discs:
                yy, xx = np.mgrid[:h, :w]
                cy, cx, ry, rx = y0 + bh / 2, x0 + bw / 2, bh / 2, bw / 2
                mask = ((yy + 0.5 - cy) / ry) ** 2 + ((xx + 0.5 - cx) / rx) ** 2 <= 1
                ys, xs = np.nonzero(mask)
                box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            else:
                mask[y0:y0 + bh, x0:x0 + bw] = True
                box = [x0, y0, x0 + bw, y0 + bh]
            image[mask] = _colour(k)
            colours[k] = _colour(k)
            boxes.append(box)
            labels.append(k % 6)
            masks.append(mask)
            k += 1
        labels_arr = np.array(labels, np.int64)
        class_map = None
        if with_masks:
            class_map = class_map_from_masks(np.array(masks, bool).reshape(-1, h, w), labels_arr, h, w)
        tiles.append((image, Target(np.array(boxes, np.float32).reshape(-1, 4), labels_arr, image_id=100 + t,
                                    class_map=class_map)))
    return tiles, colours


def _where(image: np.ndarray, colour) -> np.ndarray:
    return (image == np.array(colour, np.uint8)).all(axis=2)


def _box_of(pixels: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(pixels)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


@pytest.mark.parametrize("seed", range(6))
def test_each_kept_box_is_exactly_its_rectangle_and_cut_ones_are_dropped(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tiles, colours = _tiles(rng)
    originals = {k: float(np.prod(np.diff(b.reshape(2, 2), axis=0)))
                 for k, b in enumerate(np.concatenate([t.boxes for _, t in tiles]))}
    image, target = Mosaic(MosaicSettings(prob=1.0, min_visibility=0.25, min_box_side=2.0), S, AIR)(tiles, rng)
    assert image.shape == (S, S, 3) and image.dtype == np.uint8
    assert target.boxes.dtype == np.float32 and target.labels.dtype == np.int64 and target.class_map is None
    assert target.image_id == 100 and sorted(target.meta["mosaic_of"]) == [100, 101, 102, 103]
    kept = set()
    for box, label in zip(target.boxes, target.labels):
        x0, y0, x1, y1 = box.astype(int)
        assert np.array_equal(box, box.round()), "whole-pixel shift: boxes stay on the pixel grid"
        # the box holds one colour only, all over: the rectangle it was drawn as
        patch = image[y0:y1, x0:x1].reshape(-1, 3)
        (k,) = [k for k, c in colours.items() if (patch == c).all()]
        assert label == k % 6 and k not in kept
        kept.add(k)
        # and nothing of that colour lies outside it
        assert _box_of(_where(image, colours[k])) == box.tolist()
    for k, colour in colours.items():
        visible = _where(image, colour)
        area = int(visible.sum())
        # the visible part of a rectangle is a rectangle: its sides are the extents of its pixels
        sides = np.ptp(np.nonzero(visible), axis=1) + 1 if area else np.zeros(2)
        big_enough = area > 0 and area >= 0.25 * originals[k] and sides.min() >= 2
        assert (k in kept) == big_enough, f"box {k}: {area} of {originals[k]} px visible, sides {sides}"


def test_centre_and_quadrant_order_are_random_and_seeded() -> None:
    tiles, _ = _tiles(np.random.default_rng(0))
    mosaic = Mosaic(MosaicSettings(prob=1.0), S, AIR)
    draws = [mosaic(tiles, np.random.default_rng(s)) for s in range(8)]
    again = mosaic(tiles, np.random.default_rng(3))
    np.testing.assert_array_equal(again[0], draws[3][0])
    np.testing.assert_array_equal(again[1].boxes, draws[3][1].boxes)
    assert len({d[0].tobytes() for d in draws}) == 8
    assert len({tuple(d[1].meta["mosaic_of"]) for d in draws}) > 1


@pytest.mark.parametrize("seed", range(4))
def test_class_map_moves_with_the_pixels_and_loses_dropped_items(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tiles, colours = _tiles(rng, with_masks=True, discs=True)
    image, target = Mosaic(MosaicSettings(prob=1.0), S, AIR)(tiles, rng)
    assert target.class_map is not None and target.class_map.shape == (S, S)
    kept_colours = {}
    for box, label in zip(target.boxes, target.labels):
        x0, y0, x1, y1 = box.astype(int)
        patch = image[y0:y1, x0:x1].reshape(-1, 3)
        (k,) = [k for k, c in colours.items() if (patch == c).all(axis=1).any()]
        kept_colours[k] = label
    for c in range(6):
        expected = np.zeros((S, S), bool)
        for k, label in kept_colours.items():
            if label == c:
                expected |= _where(image, colours[k])
        # bit c is set exactly on the pixels of the kept items of class c: the map moved with the
        # image, and the slivers of dropped items (whose colour may still show) carry no bit
        np.testing.assert_array_equal((target.class_map >> c) & 1 == 1, expected)


def test_dropped_item_bit_is_kept_inside_a_kept_box_of_its_class() -> None:
    # One 128 x 128 tile (scale 1) top-left, centre (64, 64): canvas x = tile x - 64.
    h = w = S
    masks = np.zeros((2, h, w), bool)
    masks[0, 70:100, 40:70] = True  # item B: 6 of its 30 columns show (20 %): dropped
    masks[1, 66:110, 66:110] = True  # item A, same class, overlaps B's visible part: kept
    image = np.full((h, w, 3), AIR, np.uint8)
    image[masks.any(axis=0)] = (200, 90, 30)
    labels = np.array([0, 0])
    tile = (image, Target([[40, 70, 70, 100], [66, 66, 110, 110]], labels,
                          class_map=class_map_from_masks(masks, labels, h, w)))
    clean = (np.full((h, w, 3), AIR, np.uint8),
             Target(np.zeros((0, 4)), np.zeros(0), class_map=np.zeros((h, w), np.uint8)))
    _, boxes, kept, class_map = combine([tile, clean, clean, clean], S, (64, 64), AIR)
    np.testing.assert_array_equal(boxes, [[2, 2, 46, 46]])
    assert kept.tolist() == [0]
    expected = np.zeros((S, S), np.uint8)
    expected[2:46, 2:46] = 1  # A, including where B lay under it
    np.testing.assert_array_equal(class_map, expected)  # B's uncovered sliver (x 0..1, y 6..35) is cleared


def test_tiny_and_cut_boxes_are_dropped_by_the_stated_rules() -> None:
    image = np.full((S, S, 3), AIR, np.uint8)
    # top-left tile, centre (100, 128): the tile's columns 28..127 show at canvas x 0..99
    boxes = np.array([
        [14, 10, 38, 20],    # 10 of 24 px wide visible (42 %): kept, clipped to x = 0
        [13, 30, 33, 40],    # 5 of 20 (25 %): kept, exactly at the limit
        [12, 50, 32, 60],    # 4 of 20 (20 %): dropped
        [40, 70, 41.5, 90],  # wholly visible but 1.5 px wide: dropped at min_box_side 2
        [0, 100, 20, 110],   # wholly left of the canvas: nothing shows
    ], np.float32)
    tile = (image, Target(boxes, np.arange(5)))
    clean = (image, Target(np.zeros((0, 4)), np.zeros(0)))
    _, kept, labels, class_map = combine([tile, clean, clean, clean], S, (100, 128), AIR, 0.25, 2.0)
    assert labels.tolist() == [0, 1] and class_map is None
    np.testing.assert_array_equal(kept, [[0, 10, 10, 20], [0, 30, 5, 40]])
    # with the side rule at 1 px the 1.5 px box stays; with visibility 0.2 the 20 % one does too
    assert combine([tile, clean, clean, clean], S, (100, 128), AIR, 0.2, 1.0)[2].tolist() == [0, 1, 2, 3]
    # centred at the corner the tile shows whole: nothing is dropped, nothing moves
    _, kept, labels, _ = combine([tile, clean, clean, clean], S, (128, 128), AIR, 0.25, 1.0)
    assert labels.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(kept, boxes)


def test_parcel_classes_follow_the_boxes_that_survive() -> None:
    image = np.full((S, S, 3), AIR, np.uint8)
    cut = (image, Target([[0, 0, 20, 20]], [1]))  # top-left tile, centre (64, 64): wholly cut off
    whole = (image, Target([[10, 80, 40, 110]], [4]))  # top-right tile: shows at [74, 16, 104, 46]
    clean = (image, Target(np.zeros((0, 4)), np.zeros(0)))
    _, boxes, labels, _ = combine([cut, whole, clean, clean], S, (64, 64), AIR)
    targets = [{"boxes": torch.from_numpy(boxes), "labels": torch.from_numpy(labels)}]
    gt_labels, _, gt_mask = pad_targets(targets, 6, torch.device("cpu"))
    assert parcel_targets(gt_labels, gt_mask, 6).tolist() == [[0, 0, 0, 0, 1, 0]]  # horn gone, bone arrived


def test_all_clean_tiles_give_a_clean_air_filled_sample() -> None:
    tiles = [(np.full((h, w, 3), 200, np.uint8),
              Target(np.zeros((0, 4)), np.zeros(0), class_map=np.zeros((h, w), np.uint8)))
             for h, w in [(20, 100), (100, 20), (16, 128), (128, 10)]]  # narrower than any quadrant
    image, target = Mosaic(MosaicSettings(prob=1.0), S, AIR)(tiles, np.random.default_rng(0))
    assert target.is_clean and target.boxes.shape == (0, 4) and not target.class_map.any()
    assert (image == AIR).any() and (image == 200).any()  # small tiles leave air round them, not 114
    assert not (image == 114).all(axis=2).any()
    out, boxes, labels, class_map = build_transforms("xray", S, train=True, seed=0).transform_with_map(
        image, target.boxes, target.labels, target.class_map)
    assert out.shape == (S, S, 3) and boxes.shape == (0, 4) and not class_map.any()


def test_a_tile_without_masks_leaves_the_mosaic_without_a_class_map() -> None:
    tiles, _ = _tiles(np.random.default_rng(1), with_masks=True)
    image, target = tiles[1]
    tiles[1] = (image, Target(target.boxes, target.labels, target.image_id))
    assert Mosaic(MosaicSettings(prob=1.0), S)(tiles, np.random.default_rng(0))[1].class_map is None


def test_scaled_tiles_keep_their_boxes_on_the_object() -> None:
    # Long sides 2 x S and S / 2: the letterbox scale (0.5, 2) applies to pixels and boxes alike.
    big = np.full((256, 200, 3), AIR, np.uint8)
    big[40:120, 60:140] = (30, 60, 220)
    small = np.full((64, 48, 3), AIR, np.uint8)
    small[10:30, 8:40] = (220, 60, 30)
    tiles = [(big, Target([[60, 40, 140, 120]], [0])), (small, Target([[8, 10, 40, 30]], [1]))] * 2
    image, boxes, labels, _ = combine(tiles, S, (100, 110), AIR, 0.0, 0.0)
    for box, label in zip(boxes, labels):
        chroma = image[..., 2].astype(int) - image[..., 0].astype(int)
        drawn = (chroma > 95) if label == 0 else (chroma < -95)
        x0, y0, x1, y1 = np.floor(box[:2]).astype(int).tolist() + np.ceil(box[2:]).astype(int).tolist()
        region = np.zeros_like(drawn)
        region[y0:y1, x0:x1] = True
        quadrant = np.zeros_like(drawn)  # each object appears in two tiles: look in this box's tile only
        qx, qy = box[0] >= 100, box[1] >= 110
        quadrant[110 if qy else 0:S if qy else 110, 100 if qx else 0:S if qx else 100] = True
        np.testing.assert_allclose(_box_of(drawn & quadrant), box, atol=1.0)
        assert not (drawn & quadrant & ~region).any()


def test_settings_out_of_range_fail_naming_the_key() -> None:
    for bad in (1.5, -0.1, float("nan"), "0.5", True):
        with pytest.raises(ValueError, match=r"augment\.mosaic_prob must be a number in \[0\.0, 1\.0\]"):
            MosaicSettings(prob=bad)
    with pytest.raises(ValueError, match=r"augment\.mosaic_min_visibility"):
        MosaicSettings(min_visibility=2)
    with pytest.raises(ValueError, match=r"augment\.mosaic_min_box_side"):
        MosaicSettings(min_box_side=-1)
    with pytest.raises(ValueError, match=r"augment\.mosaic_prob.*got 1\.2"):
        build_mosaic(OmegaConf.create({"preset": "xray", "mosaic_prob": 1.2}), S)
    with pytest.raises(ValueError, match="4 tiles, got 3"):
        Mosaic(MosaicSettings(prob=1.0), S)(_tiles(np.random.default_rng(0))[0][:3], np.random.default_rng(0))


def test_every_shipped_preset_has_the_mosaic_off() -> None:
    presets = sorted((config_dir() / "augment").glob("*.yaml"))
    assert presets
    for path in presets:
        node = OmegaConf.load(path)
        assert node.mosaic_prob == 0.0, path.name  # stated, not only defaulted
        assert build_mosaic(node, S) is None
        assert MosaicSettings.from_config(node) == MosaicSettings()
    assert build_mosaic(OmegaConf.create({"preset": "none"}), S) is None  # a run saved before mosaic existed
    assert border_fill("xray") == AIR and border_fill("photo", 114) == 114
