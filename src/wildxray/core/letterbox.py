"""The one letterbox implementation (training, evaluation, export parity and the station use it).

Geometry (DESIGN.md, "The ONNX model"): an ``h x w`` image is scaled by ``r = S / max(h, w)``
with its aspect kept (bilinear), placed at the top-left corner of an ``S x S`` canvas and the
rest filled with ``pad_value``. A box in the canvas maps back to the original by dividing by r.
"""

from __future__ import annotations

import cv2
import numpy as np

DEFAULT_PAD_VALUE = 114


def letterbox_ratio(height: int, width: int, size: int) -> float:
    """Scale factor r that fits an ``height x width`` image into ``size x size``."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    return size / max(height, width)


def letterbox_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """(height, width) in pixels of the scaled image inside the ``size x size`` canvas."""
    r = letterbox_ratio(height, width, size)
    # Round, then clamp: the longer side must land exactly on ``size``.
    return min(size, max(1, int(round(height * r)))), min(size, max(1, int(round(width * r))))


def letterbox(image: np.ndarray, size: int, pad_value: int = DEFAULT_PAD_VALUE,
              interpolation: int = cv2.INTER_LINEAR) -> tuple[np.ndarray, float]:
    """Letterbox an HxWxC uint8 image to ``size x size`` (top-left placement).

    Returns the canvas (uint8 [size, size, C]) and the ratio r (canvas pixels per original pixel).
    ``interpolation=cv2.INTER_NEAREST`` letterboxes a label map (training's class masks) onto
    exactly the pixels the image lands on.
    """
    if image.ndim != 3:
        raise ValueError(f"letterbox expects HxWxC, got shape {image.shape}")
    h, w, c = image.shape
    r = letterbox_ratio(h, w, size)
    new_h, new_w = letterbox_shape(h, w, size)
    if (new_h, new_w) != (h, w):
        resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        if resized.ndim == 2:  # cv2 drops a singleton channel axis
            resized = resized[:, :, None]
    else:
        resized = image
    canvas = np.full((size, size, c), pad_value, dtype=image.dtype)
    canvas[:new_h, :new_w] = resized
    return canvas, r


def boxes_to_letterbox(boxes: np.ndarray, ratio: float) -> np.ndarray:
    """Map xyxy boxes from original pixels into the letterboxed canvas."""
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4) * np.float32(ratio)


def boxes_to_original(boxes: np.ndarray, ratio: float, image_hw: tuple[int, int]) -> np.ndarray:
    """Map xyxy boxes from the letterboxed canvas back to original pixels, clipped to the image."""
    h, w = image_hw
    out = np.asarray(boxes, dtype=np.float32).reshape(-1, 4) / np.float32(ratio)
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, w)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, h)
    return out
