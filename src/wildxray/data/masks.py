"""Per-item masks as the trainer uses them: COCO ``segmentation`` decoding and the class map.

The class map is one ``uint8 [H, W]`` image whose bit ``c`` is set where an item of label ``c``
lies (6 classes fit one byte; overlapping items of two classes set both bits). It is what the
augmentation moves with the pixels (nearest-neighbour, so bits never blend) and what the dense
head is supervised with (``training.criterion.dense_targets``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Labels that fit one byte of the class map.
MAX_MAP_CLASSES = 8


def class_map_from_masks(masks: np.ndarray, labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """``masks`` bool [M, H, W], ``labels`` int64 [M] -> class map uint8 [H, W] (bit c = label c)."""
    masks = np.asarray(masks, dtype=bool).reshape(-1, height, width)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(masks) != len(labels):
        raise ValueError(f"class map: {len(masks)} masks but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= MAX_MAP_CLASSES):
        raise ValueError(f"class map holds labels 0..{MAX_MAP_CLASSES - 1}, got {sorted(set(labels.tolist()))}")
    out = np.zeros((height, width), np.uint8)
    for mask, label in zip(masks, labels):
        out[mask] |= np.uint8(1 << int(label))
    return out


def decode_segmentation(segmentation: Any, height: int, width: int) -> np.ndarray:
    """A COCO ``segmentation`` (RLE dict with str or list counts, or polygons) -> bool [H, W]."""
    # Here, not at the top: keeps pycocotools (a training extra) out of the station, whose viewer
    # imports data.coco (and so this module) but never reads a mask.
    from pycocotools import mask as mask_utils

    if isinstance(segmentation, list):  # polygons
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), list):  # uncompressed RLE
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = dict(segmentation)
        if isinstance(rle.get("counts"), str):
            rle["counts"] = rle["counts"].encode("ascii")
    return mask_utils.decode(rle).astype(bool)


def encode_mask(mask: np.ndarray) -> dict:
    """bool [H, W] -> COCO RLE ``{"size": [H, W], "counts": str}`` (JSON-ready)."""
    from pycocotools import mask as mask_utils  # out of the station: as in decode_segmentation

    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
