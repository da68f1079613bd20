"""Tiling of tall or long conveyor scans, so long parcels keep their resolution.

A 600 x 4000 px belt scan letterboxed whole to 640 px would shrink every object ~6x. Instead the scan
is cut along its long axis into square tiles (side = the short side) that overlap by
``overlap`` (default 25 %) of a tile, each tile is predicted at full model resolution, and the boxes
are merged with class-aware NMS together with one whole-image (low-resolution) pass.

Why these choices:
- 25 % overlap: every object no longer than a quarter tile along the belt lies whole inside at least
  one tile, for 1.33x the tiles of a no-overlap cut (50 % would double the cost).
- A tile box touching an *interior* cut edge is most likely a piece of a cut object; it is dropped.
  The whole object is then found whole in the neighbouring tile (if it fits the overlap) or by the
  whole-image pass (objects larger than the overlap are large enough to survive the downscale).
- From the whole-image pass only boxes longer (along the belt) than the overlap are kept: smaller
  objects are always whole inside some tile, where they are seen at full resolution, and the
  coarse low-resolution box would only duplicate them.
- Class-aware NMS (OpenCV's ``NMSBoxesBatched``) removes the duplicates from overlaps and the
  whole-image pass, keeping the highest score.
- At most ``DEFAULT_MAX_TILES`` tiles: every tile of a scan goes to the model in one batch, and a
  1 x 300 px image cut into one-pixel squares asked onnxruntime for 3.3 GB. Past the bound the tiles
  grow along the long axis (no longer square, so a little resolution is lost) instead of multiplying.
  16 keeps square tiles for every scan up to 12:1 (a 2,000 x 24,000 px belt scan); the station
  refuses scans more extreme than ``wildxray.runtime.scan.DEFAULT_MAX_ASPECT`` outright.

All boxes here are xyxy float32 in ORIGINAL image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from wildxray.types import Detections

DEFAULT_TILE_ASPECT = 2.5
DEFAULT_OVERLAP = 0.25
DEFAULT_MAX_TILES = 16
EDGE_TOLERANCE_PX = 2.0


@dataclass(frozen=True)
class Tile:
    """One window of the image: rows ``y0:y1``, columns ``x0:x1`` (original pixels)."""

    x0: int
    y0: int
    x1: int
    y1: int


def needs_tiling(height: int, width: int, max_aspect: float) -> bool:
    """True when the long side exceeds ``max_aspect`` times the short side."""
    return max(height, width) > max_aspect * min(height, width)


def windows(length: int, tile: int, overlap: float = DEFAULT_OVERLAP,
            max_windows: int | None = None) -> list[tuple[int, int]]:
    """Start/end pairs covering ``0..length`` with windows of ``tile`` overlapping by >= ``overlap``.

    The first window starts at 0, the last ends at ``length``; starts are evenly spaced so that the
    overlap is never below the requested fraction. With ``max_windows``, windows longer than
    ``tile`` are used where ``tile``-long ones would be more than that many.
    """
    if tile <= 0 or length <= 0:
        raise ValueError(f"length and tile must be positive, got {length}, {tile}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if max_windows is not None and max_windows < 1:
        raise ValueError(f"max_windows must be at least 1, got {max_windows}")
    if max_windows is not None and max_windows > 1:
        # n windows of side t with stride t(1 - overlap) reach t (1 + (n - 1)(1 - overlap)).
        tile = max(tile, int(np.ceil(length / (1.0 + (max_windows - 1) * (1.0 - overlap)))))
    elif max_windows == 1:
        tile = max(tile, length)
    while True:
        if length <= tile:
            return [(0, length)]
        stride = max(1, int(tile * (1.0 - overlap)))
        n = int(np.ceil((length - tile) / stride)) + 1
        if max_windows is None or n <= max_windows:
            break
        tile += 1  # int() rounding of the stride can leave one window too many
    starts = np.linspace(0, length - tile, n).round().astype(int)
    return [(int(s), int(s) + tile) for s in starts]


def tiles_for(height: int, width: int, overlap: float = DEFAULT_OVERLAP,
              max_tiles: int | None = DEFAULT_MAX_TILES) -> list[Tile]:
    """Tiles along the long axis of an ``height x width`` image: squares (side = short side), or
    longer than wide where squares would be more than ``max_tiles``."""
    if height >= width:
        return [Tile(0, y0, width, y1) for y0, y1 in windows(height, width, overlap, max_tiles)]
    return [Tile(x0, 0, x1, height) for x0, x1 in windows(width, height, overlap, max_tiles)]


def drop_cut_boxes(dets: Detections, tile: Tile, height: int, width: int) -> Detections:
    """Drop boxes (tile frame) touching a tile edge that is an interior cut of the full image."""
    if len(dets) == 0:
        return dets
    b = dets.boxes
    tol = EDGE_TOLERANCE_PX
    cut = np.zeros(len(dets), bool)
    if tile.y0 > 0:
        cut |= b[:, 1] <= tol
    if tile.y1 < height:
        cut |= b[:, 3] >= (tile.y1 - tile.y0) - tol
    if tile.x0 > 0:
        cut |= b[:, 0] <= tol
    if tile.x1 < width:
        cut |= b[:, 2] >= (tile.x1 - tile.x0) - tol
    keep = ~cut
    return Detections(dets.boxes[keep], dets.scores[keep], dets.labels[keep])


def long_boxes_only(dets: Detections, min_extent: float, vertical: bool) -> Detections:
    """Keep boxes whose extent along the long axis (y when ``vertical``) exceeds ``min_extent`` px."""
    if len(dets) == 0:
        return dets
    b = dets.boxes
    extent = (b[:, 3] - b[:, 1]) if vertical else (b[:, 2] - b[:, 0])
    keep = extent > min_extent
    return Detections(dets.boxes[keep], dets.scores[keep], dets.labels[keep])


def shift(dets: Detections, tile: Tile) -> Detections:
    """Tile-frame boxes -> full-image boxes."""
    offset = np.array([tile.x0, tile.y0, tile.x0, tile.y0], np.float32)
    return Detections(dets.boxes + offset, dets.scores, dets.labels)


def merge_detections(parts: list[Detections], iou_threshold: float = 0.5,
                     max_detections: int | None = None) -> Detections:
    """Concatenate detections (same frame) and apply class-aware NMS; sorted by score, descending."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Detections.empty()
    boxes = np.concatenate([p.boxes for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    labels = np.concatenate([p.labels for p in parts])
    xywh = np.column_stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]])
    keep = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), labels.tolist(), 0.0, float(iou_threshold))
    keep = np.asarray(keep, dtype=np.int64).reshape(-1)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    if max_detections is not None:
        keep = keep[:max_detections]
    return Detections(boxes[keep], scores[keep], labels[keep])
