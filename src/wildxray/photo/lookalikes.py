"""Look-alikes that must never carry a box: wood carvings and bangles, resin/plastic bangles,
leather goods, plush toys and ceramics.

Several reuse a contraband silhouette (figurine, bangle, a tiger coat on a toy) so that only the
material tells them apart. Renderers follow :mod:`wildxray.photo.carvings`.
"""

from __future__ import annotations

import cv2
import numpy as np

from wildxray.photo import shapes
from wildxray.photo.carvings import bangle_shape, engrave, figurine_mask
from wildxray.photo.hides import coat_albedo
from wildxray.photo.noise import fractal_noise, speckle
from wildxray.photo.sprite import Sprite, build_sprite, dome
from wildxray.photo.textures import fur, mix, rgb, wood_grain

WOODS = (((150, 96, 52), (96, 58, 30)), ((196, 150, 96), (150, 104, 60)), ((66, 40, 26), (36, 22, 16)), ((214, 180, 132), (176, 136, 90)))


def wood_albedo(rng: np.random.Generator, shape: tuple[int, int], period: float) -> np.ndarray:
    light, dark = WOODS[rng.integers(len(WOODS))]
    return mix(wood_grain(rng, shape, period), rgb(light, rng, 0.06), rgb(dark, rng, 0.06))


def wood_carving(rng: np.random.Generator, size: int) -> Sprite:
    mask = figurine_mask(rng, size)
    alb = np.ascontiguousarray(wood_albedo(rng, mask.shape[::-1], period=rng.uniform(4, 9)).transpose(1, 0, 2))
    grooves = engrave(rng, mask, int(rng.integers(6, 14)))
    alb *= (1 - 0.4 * grooves)[:, :, None]
    return build_sprite(alb, dome(mask, size * 0.12) - 2.0 * grooves, mask, 0.2, 14, "lookalike/wood_carving")


def bangle(rng: np.random.Generator, size: int) -> Sprite:
    """Resin, plastic or wooden bangle; cream resin is the hard case next to ivory."""
    mask, height, rho = bangle_shape(rng, size)
    kind = ("resin", "plastic", "wood")[rng.integers(3)]
    if kind == "wood":
        alb = wood_albedo(rng, mask.shape, period=rng.uniform(3, 6))
        gloss = 0.25
    elif kind == "resin":  # swirled, translucent-looking, no grain
        a = rgb(((238, 226, 196), (190, 120, 50), (120, 30, 40), (40, 110, 90))[rng.integers(4)], rng, 0.05)
        alb = mix(fractal_noise(rng, mask.shape, cells=2, octaves=2) * 0.4, a, a * 0.8)
        gloss = 0.7
    else:
        alb = np.broadcast_to(rgb(((240, 240, 235), (30, 30, 30), (220, 40, 60), (40, 90, 200), (240, 210, 60))[rng.integers(5)], rng, 0.05), mask.shape + (3,)).copy()
        gloss = 0.9
    return build_sprite(alb, height, mask, gloss, 40, f"lookalike/{kind}_bangle")


def leather_goods(rng: np.random.Generator, size: int) -> Sprite:
    """A wallet, a handbag or a coiled belt in pebbled leather with stitching."""
    item = ("wallet", "handbag", "belt")[rng.integers(3)]
    colour = rgb(((110, 66, 36), (40, 30, 26), (170, 116, 70), (120, 30, 30))[rng.integers(4)], rng, 0.08)
    if item == "belt":
        h = int(size * 0.16) + 6
        mask = shapes.blank((h, size + 6))
        shapes.polygon(mask, np.array([[3, 3], [size + 3, 3], [size + 3, h - 3], [3, h - 3]]))
    else:
        h = int(size * (0.62 if item == "wallet" else 0.8)) + 6
        mask = shapes.blank((h, size + 6))
        top = size * (0.0 if item == "wallet" else 0.12)
        shapes.polygon(mask, np.array([[3 + top, h * 0.25], [size + 3 - top, h * 0.25], [size + 3, h - 3], [3, h - 3]]) if item == "handbag" else np.array([[3, 3], [size + 3, 3], [size + 3, h - 3], [3, h - 3]]))
        if item == "handbag":
            shapes.polyline(mask, shapes.arc_centreline(size * 0.5, -0.4, 20, origin=(size * 0.25 + 3, h * 0.26)), max(2, int(size * 0.03)))
    grain = speckle(rng, mask.shape, density=0.08, blur=0.8)
    alb = mix(np.clip(grain * 0.5 + fractal_noise(rng, mask.shape, 4, 2) * 0.3, 0, 1), colour, colour * 0.75)
    inner = (mask > 128).astype(np.uint8) * 255
    stitch = np.zeros(mask.shape, np.uint8)
    contours, _ = cv2.findContours(inner, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    for c in contours:
        pts = c[:, 0, :].astype(np.float32)
        centre = pts.mean(axis=0)
        pts = centre + (pts - centre) * 0.93  # a stitch line just inside the edge
        for i in range(0, len(pts) - 4, 8):
            cv2.line(stitch, tuple(int(v) for v in pts[i]), tuple(int(v) for v in pts[i + 3]), 255, 1, cv2.LINE_AA)
    st = (stitch.astype(np.float32) / 255.0)[:, :, None]
    alb = alb * (1 - st) + rgb((220, 200, 160)) * st
    if item == "belt":  # metal buckle
        bx = int(size * 0.1)
        alb[:, 3 : 3 + bx] = rgb((190, 180, 150))
    return build_sprite(alb, dome(mask, 4.0, 0.3) + grain * 0.6, mask, 0.3, 15, f"lookalike/leather_{item}")


def plush_toy(rng: np.random.Generator, size: int) -> Sprite:
    """A fuzzy teddy-like toy; sometimes tiger-striped (a hard negative next to a tiger skin)."""
    ht = size + 6
    canvas = (ht, int(size * 0.8) + 6)
    cx = canvas[1] / 2
    m = shapes.blank(canvas)
    shapes.ellipse(m, (cx, ht * 0.64), (size * 0.3, size * 0.3))  # body
    shapes.ellipse(m, (cx, ht * 0.28), (size * 0.22, size * 0.2))  # head
    for s in (-1, 1):
        shapes.ellipse(m, (cx + s * size * 0.17, ht * 0.1), (size * 0.07, size * 0.07))  # ears
        shapes.ellipse(m, (cx + s * size * 0.3, ht * 0.55), (size * 0.08, size * 0.14), s * 30)  # arms
        shapes.ellipse(m, (cx + s * size * 0.18, ht * 0.9), (size * 0.1, size * 0.08))  # feet
    if rng.random() < 0.3:
        alb, _ = coat_albedo(rng, canvas, "tiger", size * 1.5)
        kind = "lookalike/plush_tiger"
    else:
        c = rgb(((170, 120, 70), (236, 220, 196), (220, 140, 170), (120, 170, 220), (250, 250, 250))[rng.integers(5)], rng, 0.06)
        alb = mix(fur(rng, canvas, 1.6), c * 0.9, c * 1.05)
        kind = "lookalike/plush"
    for s in (-1, 1):  # button eyes
        eye = shapes.ellipse(shapes.blank(canvas), (cx + s * size * 0.08, ht * 0.26), (size * 0.025, size * 0.025))
        alb[eye > 128] = rgb((12, 12, 12))
    return build_sprite(alb, dome(m, size * 0.15) + 0.4 * fur(rng, canvas, 1.5), shapes.ragged_alpha(m, rng, 1.8), 0.02, 6, kind)


def ceramic(rng: np.random.Generator, size: int) -> Sprite:
    """A glazed bowl (from above) or vase (from the side), with painted motifs."""
    glaze = rgb(((244, 242, 236), (170, 200, 176), (236, 226, 200), (40, 70, 140))[rng.integers(4)], rng, 0.04)
    paint = rgb(((30, 60, 150), (150, 40, 30), (40, 100, 60))[rng.integers(3)], rng, 0.08)
    if rng.random() < 0.5:
        s = size + 4
        mask = shapes.ellipse(shapes.blank((s, s)), (s / 2, s / 2), (size / 2, size / 2 * rng.uniform(0.8, 1.0)))
        yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
        r = np.sqrt((xx - s / 2) ** 2 + (yy - s / 2) ** 2) / (size / 2)
        height = (size * 0.25 * (r**2)).astype(np.float32) * (mask > 0)  # concave bowl: rim high, centre low
        motif = ((np.sin(np.arctan2(yy - s / 2, xx - s / 2) * int(rng.integers(5, 12))) > 0.6) & (r > 0.7) & (r < 0.85)).astype(np.float32)
        kind = "lookalike/ceramic_bowl"
    else:
        ht = size + 4
        wmax = size * rng.uniform(0.25, 0.35)
        y = np.linspace(3, ht - 3, 30)
        prof = wmax * (0.55 + 0.45 * np.sin(np.linspace(0.2, np.pi - 0.3, 30)) ** 1.5)
        w = int(2 * wmax) + 8
        pts = np.concatenate([np.stack([w / 2 + prof, y], 1), np.stack([w / 2 - prof, y], 1)[::-1]])
        mask = shapes.polygon(shapes.blank((ht, w)), pts)
        height = dome(mask, wmax, 0.5)
        motif = (fractal_noise(rng, mask.shape, cells=5, octaves=2) > 0.62).astype(np.float32)
        kind = "lookalike/ceramic_vase"
    alb = mix(motif, glaze, paint)
    return build_sprite(alb, height, mask, 0.8, 45, kind)
