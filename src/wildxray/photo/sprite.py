"""An object to be placed in a photo: albedo, height, coverage and how it reflects light.

Renderers draw objects upright in their own small canvas; the generator rotates and scales the
sprite, shades it with the scene's light and composites it. Keeping shading in one place makes
every object in a scene lit from the same side.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Sprite:
    """One object in its own canvas frame (x right, y down, pixels).

    albedo: float32 [h, w, 3] RGB reflectance in [0, 1].
    height: float32 [h, w] surface height in pixels (for normals; 0 outside the object).
    alpha:  float32 [h, w] coverage in [0, 1]; the visible footprint is ``alpha > 0.5``.
    gloss:  specular strength (0 matte fur/cloth .. 1 glazed ceramic).
    shininess: Blinn-Phong exponent (higher = tighter highlight).
    kind:   what it is, e.g. ``"ivory/bangle"`` or ``"lookalike/plush"``.
    """

    albedo: np.ndarray
    height: np.ndarray
    alpha: np.ndarray
    gloss: float = 0.1
    shininess: float = 20.0
    kind: str = ""

    def __post_init__(self) -> None:
        h, w = self.alpha.shape
        if self.albedo.shape != (h, w, 3) or self.height.shape != (h, w):
            raise ValueError(f"sprite {self.kind}: albedo {self.albedo.shape}, height {self.height.shape}, alpha {(h, w)}")


def dome(mask: np.ndarray, thickness: float, power: float = 0.5) -> np.ndarray:
    """Rounded height field over a binary ``mask`` (uint8/bool [h, w]): ``thickness * (d / d_max) ** power``.

    ``d`` is the distance to the outline, so long thin shapes become cylinders and blobs domes.
    """
    m = (mask > 0).astype(np.uint8)
    d = cv2.distanceTransform(m, cv2.DIST_L2, 3)
    dmax = float(d.max())
    if dmax <= 0:
        return np.zeros(mask.shape, np.float32)
    # The distance transform has a crease along the medial axis; a blur rounds it off so the
    # highlight does not show a seam down the middle of every object.
    d = cv2.GaussianBlur(d, (0, 0), max(0.5, dmax * 0.2)) * m
    dmax = float(d.max())
    return (thickness * (d / max(dmax, 1e-6)) ** power).astype(np.float32)


def transform_sprite(sprite: Sprite, angle_deg: float, scale: float = 1.0, flip: bool = False) -> Sprite:
    """Rotate (counter-clockwise, degrees) and scale a sprite into a canvas that just holds it."""
    albedo, height, alpha = sprite.albedo, sprite.height, sprite.alpha
    if flip:
        albedo, height, alpha = albedo[:, ::-1], height[:, ::-1], alpha[:, ::-1]
    h, w = alpha.shape
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle_deg, scale)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw = int(np.ceil(h * sin + w * cos)) + 2
    nh = int(np.ceil(h * cos + w * sin)) + 2
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    # One warp of a 5-channel stack keeps albedo, height and alpha exactly aligned.
    stack = np.dstack([albedo, height * scale, alpha]).astype(np.float32)
    out = cv2.warpAffine(stack, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return Sprite(
        np.ascontiguousarray(out[:, :, :3]),
        np.ascontiguousarray(out[:, :, 3]),
        np.ascontiguousarray(out[:, :, 4]),
        sprite.gloss,
        sprite.shininess,
        sprite.kind,
    )


def shade(sprite: Sprite, light: np.ndarray, ambient: float = 0.35, light_rgb: np.ndarray | None = None) -> np.ndarray:
    """Lit colour of a sprite: float32 [h, w, 3] in [0, 1+] (highlights may exceed 1 before clipping).

    ``light`` is a unit 3-vector (x right, y down, z towards the camera). Lambert diffuse plus a
    Blinn-Phong highlight with the viewer straight above.
    """
    gy, gx = np.gradient(sprite.height)
    n = np.dstack([-gx, -gy, np.ones_like(gx)])
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    diffuse = np.clip(n @ light.astype(np.float32), 0.0, 1.0)
    half = light + np.array([0.0, 0.0, 1.0])
    half = (half / np.linalg.norm(half)).astype(np.float32)
    spec = np.clip(n @ half, 0.0, 1.0) ** sprite.shininess * sprite.gloss
    tint = np.ones(3, np.float32) if light_rgb is None else light_rgb.astype(np.float32)
    lit = sprite.albedo * (ambient + (1.0 - ambient) * diffuse / max(float(light[2]), 0.3))[:, :, None] * tint
    return (lit + spec[:, :, None] * tint).astype(np.float32)


def build_sprite(
    albedo: np.ndarray, height: np.ndarray, alpha: np.ndarray, gloss: float, shininess: float, kind: str
) -> Sprite:
    """Crop a renderer's canvas to the object (``alpha > 0``) and package it as a :class:`Sprite`.

    ``alpha`` may be uint8 {0..255} (a drawn mask) or float in [0, 1].
    """
    a = alpha.astype(np.float32) / 255.0 if alpha.dtype == np.uint8 else alpha.astype(np.float32)
    ys, xs = np.nonzero(a > 0.0)
    if len(xs) == 0:
        raise ValueError(f"renderer for {kind} drew nothing")
    y0, y1 = max(0, ys.min() - 2), min(a.shape[0], ys.max() + 3)
    x0, x1 = max(0, xs.min() - 2), min(a.shape[1], xs.max() + 3)
    return Sprite(
        np.clip(albedo[y0:y1, x0:x1], 0.0, 1.0).astype(np.float32),
        height[y0:y1, x0:x1].astype(np.float32),
        a[y0:y1, x0:x1],
        gloss,
        shininess,
        kind,
    )
