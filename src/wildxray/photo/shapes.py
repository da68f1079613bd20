"""Silhouette primitives for object renderers: masks are uint8 ``[h, w]`` in {0, 255}, antialiased edges.

Coordinates are (x, y) pixels in the renderer's canvas (x right, y down).
"""

from __future__ import annotations

import cv2
import numpy as np

_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT


def _fx(v: float) -> int:
    return int(round(v * _ONE))


def blank(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros(shape, np.uint8)


def ellipse(mask: np.ndarray, centre: tuple[float, float], axes: tuple[float, float], angle: float = 0.0, value: int = 255) -> np.ndarray:
    """Fill an ellipse (semi-axes in pixels, angle in degrees) into ``mask`` in place."""
    cv2.ellipse(
        mask, (_fx(centre[0]), _fx(centre[1])), (_fx(max(axes[0], 0.5)), _fx(max(axes[1], 0.5))),
        angle, 0, 360, value, -1, cv2.LINE_AA, _SHIFT,
    )
    return mask


def polygon(mask: np.ndarray, pts: np.ndarray, value: int = 255) -> np.ndarray:
    """Fill a polygon given as float ``[P, 2]`` (x, y) into ``mask`` in place."""
    p = np.round(np.asarray(pts, np.float64) * _ONE).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(mask, [p], value, cv2.LINE_AA, _SHIFT)
    return mask


def polyline(mask: np.ndarray, pts: np.ndarray, thickness: int, value: int = 255) -> np.ndarray:
    """Draw an open polyline (float ``[P, 2]``) of integer ``thickness`` into ``mask`` in place."""
    p = np.round(np.asarray(pts, np.float64) * _ONE).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(mask, [p], False, value, max(1, int(thickness)), cv2.LINE_AA, _SHIFT)
    return mask


def tube_outline(centre: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Closed outline of a tube of half-width ``widths[i]`` around centreline points ``centre`` ``[P, 2]``."""
    c = np.asarray(centre, np.float64)
    d = np.gradient(c, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-9
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1)
    left = c + normal * widths[:, None]
    right = c - normal * widths[:, None]
    return np.concatenate([left, right[::-1]], axis=0)


def tube(mask: np.ndarray, centre: np.ndarray, widths: np.ndarray, value: int = 255) -> np.ndarray:
    """Fill a tapered tube (with round caps) into ``mask`` in place."""
    polygon(mask, tube_outline(centre, np.asarray(widths, np.float64)), value)
    for i in (0, -1):
        ellipse(mask, tuple(centre[i]), (widths[i], widths[i]), 0, value)
    return mask


def arc_centreline(length: float, bend: float, n: int = 32, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """A gently curved centreline along +x of ``length`` pixels; ``bend`` = sagitta / length (signed)."""
    t = np.linspace(0.0, 1.0, n)
    x = origin[0] + t * length
    y = origin[1] + 4.0 * bend * length * t * (1.0 - t)
    return np.stack([x, y], axis=1)


def ragged_alpha(mask: np.ndarray, rng: np.random.Generator, fuzz: float) -> np.ndarray:
    """Turn a hard mask into a fuzzy coverage (fur, plush): float32 [h, w] in [0, 1].

    The outline is blurred by ``fuzz`` pixels and thresholded at 0.5 against per-pixel noise,
    so hair-like stragglers reach about ``fuzz`` pixels either side of the outline, no further.
    """
    m = mask.astype(np.float32) / 255.0
    if fuzz <= 0:
        return m
    soft = cv2.GaussianBlur(m, (0, 0), fuzz)
    hairs = cv2.GaussianBlur(rng.random(mask.shape, dtype=np.float32), (0, 0), 0.5)
    hairs = (hairs - hairs.mean()) / (hairs.std() + 1e-6)  # unit variance noise
    edge = np.clip((soft - 0.5 + 0.12 * hairs) * 6.0 + 0.5, 0.0, 1.0)
    return np.where((soft > 0.02) & (soft < 0.98), edge, m).astype(np.float32)
