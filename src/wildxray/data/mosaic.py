"""Mosaic augmentation (YOLOX / YOLOv8 style): four samples tiled 2 x 2 around a random centre.

``Mosaic(settings, size, fill)([(image, Target)] * 4, rng) -> (image SxSx3 uint8, Target)``: the
first tile is the sample being drawn, the other three come from the same dataset (or, for the
synthetic stream, from its last few scans). The result then goes through the usual
``DetectionTransform``, whose letterbox is the identity on an S x S image.

Geometry: each tile is scaled as the letterbox scales it (``core.letterbox``: long side S), so an
object keeps the size it has in a plain sample. The centre (cx, cy) is drawn uniformly in
``CENTRE_RANGE`` x S (whole pixels) and the tiles are dealt to the quadrants in a random order; a
tile meets the centre with its inner corner (the top-left tile with its bottom-right corner) and
what falls outside the canvas is cut off. Pixels no tile covers get ``fill``
(``augment.border_fill``: the empty belt for X-ray, not the letterbox's grey padding).

Boxes are shifted by whole pixels (exact) and clipped to their tile's visible part; a box keeping
less than ``min_visibility`` of its area, or narrower or lower than ``min_box_side`` px, is
dropped with its label, and its bit of the class map (``data.masks``) is cleared inside its box:
an item's mask lies in its tight box. Pixels also inside a kept box of the same class keep the
bit, as a class map cannot tell two items of one class apart. The mosaic has a class map only when
every tile has one (a tile without masks has no known item pixels). The parcel's classes
(``training.criterion.parcel_targets``) are the labels kept, so they follow the dropping. A clean
tile adds its pixels and no box.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import cv2
import numpy as np

from wildxray.core.letterbox import DEFAULT_PAD_VALUE, boxes_to_letterbox, letterbox, letterbox_shape
from wildxray.data.augment import MIN_BOX_SIDE_PX, MIN_VISIBILITY
from wildxray.types import Target

#: Range of the centre, as a fraction of S: every quadrant keeps at least a quarter of each side,
#: so no tile shrinks to a strip that holds only cut boxes.
CENTRE_RANGE = (0.25, 0.75)
#: Tiles in a mosaic: the sample being drawn and three others.
TILES = 4

Tile = tuple[np.ndarray, Target]


@dataclass(frozen=True)
class MosaicSettings:
    """The ``augment.mosaic_*`` config keys; ``prob`` 0 (every shipped preset) is no mosaic at all."""

    prob: float = 0.0
    min_visibility: float = MIN_VISIBILITY
    min_box_side: float = MIN_BOX_SIDE_PX

    def __post_init__(self) -> None:
        _check_range("augment.mosaic_prob", self.prob, 0.0, 1.0)
        _check_range("augment.mosaic_min_visibility", self.min_visibility, 0.0, 1.0)
        _check_range("augment.mosaic_min_box_side", self.min_box_side, 0.0, math.inf)

    @classmethod
    def from_config(cls, augment_cfg: Any) -> MosaicSettings:
        """From the ``augment`` config node; a key it lacks (a run saved before mosaic existed) is its default."""
        return cls(prob=augment_cfg.get("mosaic_prob", 0.0),
                   min_visibility=augment_cfg.get("mosaic_min_visibility", MIN_VISIBILITY),
                   min_box_side=augment_cfg.get("mosaic_min_box_side", MIN_BOX_SIDE_PX))


def _check_range(key: str, value: Any, low: float, high: float) -> None:
    # NaN fails both comparisons, so it is refused too.
    if isinstance(value, bool) or not isinstance(value, Real) or not low <= value <= high:
        raise ValueError(f"{key} must be a number in [{low}, {high}], got {value!r}")


class Mosaic:
    """One mosaic setting at one input size ``size`` with empty pixels ``fill``; see the module docstring."""

    def __init__(self, settings: MosaicSettings, size: int, fill: int = DEFAULT_PAD_VALUE):
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        self.settings, self.size, self.fill = settings, int(size), int(fill)

    def wanted(self, rng: np.random.Generator) -> bool:
        """Whether this sample becomes a mosaic (one draw from ``rng``)."""
        return bool(rng.random() < self.settings.prob)

    def __call__(self, tiles: Sequence[Tile], rng: np.random.Generator) -> Tile:
        """``tiles[0]`` (whose ``image_id`` the mosaic keeps) and three others -> one S x S sample."""
        if len(tiles) != TILES:
            raise ValueError(f"a mosaic takes {TILES} tiles, got {len(tiles)}")
        low, high = (round(f * self.size) for f in CENTRE_RANGE)
        cx, cy = (int(v) for v in rng.integers(low, high + 1, size=2))
        order = [int(i) for i in rng.permutation(TILES)]
        placed = [tiles[i] for i in order]
        image, boxes, labels, class_map = combine(placed, self.size, (cx, cy), self.fill,
                                                  self.settings.min_visibility, self.settings.min_box_side)
        meta = {"mosaic_of": [int(t.image_id) for _, t in placed]}
        return image, Target(boxes, labels, tiles[0][1].image_id, meta, class_map)


def build_mosaic(augment_cfg: Any, size: int, fill: int = DEFAULT_PAD_VALUE) -> Mosaic | None:
    """The training mosaic of the ``augment`` config node, or None when ``augment.mosaic_prob`` is 0:
    then nothing draws a number for it and the samples are exactly those of a run without it.
    A value out of range raises (``MosaicSettings``), whether or not it is 0."""
    settings = MosaicSettings.from_config(augment_cfg)
    return Mosaic(settings, size, fill) if settings.prob > 0 else None


def combine(
    tiles: Sequence[Tile], size: int, centre: tuple[int, int], fill: int = DEFAULT_PAD_VALUE,
    min_visibility: float = MIN_VISIBILITY, min_box_side: float = MIN_BOX_SIDE_PX,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Tile four ``(image HxWx3 uint8, Target in its pixels)`` in quadrant order (top-left, top-right,
    bottom-left, bottom-right) around the whole-pixel ``centre`` (cx, cy) of a ``size`` x ``size`` canvas.

    Returns (image SxSx3 uint8, boxes float32 [K, 4] xyxy canvas pixels, labels int64 [K], class map
    uint8 [S, S] or None).
    """
    cx, cy = centre
    if not (0 <= cx <= size and 0 <= cy <= size):
        raise ValueError(f"mosaic centre {centre} outside the {size} x {size} canvas")
    canvas = np.full((size, size, 3), fill, np.uint8)
    with_map = all(target.class_map is not None for _, target in tiles)
    class_map = np.zeros((size, size), np.uint8) if with_map else None
    all_boxes, all_labels = [], []
    for quadrant, (image, target) in enumerate(tiles):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"mosaic tile {quadrant}: expected an HxWx3 uint8 RGB image, "
                             f"got {image.shape} {image.dtype}")
        h, w = letterbox_shape(image.shape[0], image.shape[1], size)
        scaled, ratio = letterbox(image, size, fill)
        ox = cx if quadrant % 2 else cx - w  # the tile's top-left corner on the canvas
        oy = cy if quadrant // 2 else cy - h
        x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + w, size), min(oy + h, size)  # what shows
        canvas[y0:y1, x0:x1] = scaled[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
        tile_boxes = boxes_to_letterbox(target.boxes, ratio)  # [M, 4] tile pixels
        shifted = tile_boxes + np.array([ox, oy, ox, oy], np.float32)
        visible = shifted.copy()
        visible[:, [0, 2]] = visible[:, [0, 2]].clip(x0, x1)
        visible[:, [1, 3]] = visible[:, [1, 3]].clip(y0, y1)
        keep = _visible_enough(shifted, visible, min_visibility, min_box_side)
        if class_map is not None:
            if target.class_map.shape != image.shape[:2]:
                raise ValueError(f"mosaic tile {quadrant}: class map {target.class_map.shape} does not match "
                                 f"the image {image.shape[:2]}")
            tile_map = letterbox(target.class_map[:, :, None], size, 0, cv2.INTER_NEAREST)[0][:, :, 0]
            _clear_dropped(tile_map, tile_boxes, target.labels, keep)
            class_map[y0:y1, x0:x1] = tile_map[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
        all_boxes.append(visible[keep])
        all_labels.append(target.labels[keep])
    boxes = np.concatenate(all_boxes).astype(np.float32).reshape(-1, 4)
    labels = np.concatenate(all_labels).astype(np.int64).reshape(-1)
    return canvas, boxes, labels, class_map


def _visible_enough(boxes: np.ndarray, visible: np.ndarray, min_visibility: float, min_side: float) -> np.ndarray:
    """bool [M]: the clipped box ``visible`` is not empty, at least ``min_side`` px each way and keeps
    ``min_visibility`` of the area of ``boxes``."""
    area = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)
    vw, vh = visible[:, 2] - visible[:, 0], visible[:, 3] - visible[:, 1]
    return (vw > 0) & (vh > 0) & (vw >= min_side) & (vh >= min_side) & (vw * vh >= min_visibility * area)


def _clear_dropped(class_map: np.ndarray, boxes: np.ndarray, labels: np.ndarray, keep: np.ndarray) -> None:
    """Clear, in place, each dropped box's class bit inside it, except inside kept boxes of its class."""
    for label in np.unique(labels[~keep]):
        clear = np.zeros(class_map.shape, bool)
        for box in boxes[~keep & (labels == label)]:
            clear[_pixels(box)] = True
        for box in boxes[keep & (labels == label)]:
            clear[_pixels(box)] = False
        class_map[clear] &= np.uint8(0xFF ^ (1 << int(label)))


def _pixels(box: np.ndarray) -> tuple[slice, slice]:
    """(rows, columns) of every pixel an xyxy box touches (non-negative: a negative start would wrap)."""
    x0, y0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    return slice(y0, max(y0, math.ceil(box[3]))), slice(x0, max(x0, math.ceil(box[2])))
