"""Skins and scales: tiger- and leopard-patterned furs, reptile skins (flat or rolled) and piles of
pangolin scales (loose or in a plastic bag).

Renderers follow :mod:`wildxray.photo.carvings`: ``render(rng, size) -> Sprite``, drawn upright.
The coat patterns are exposed (``coat_albedo``) because the plush-toy look-alike reuses the tiger
coat on a toy's outline.
"""

from __future__ import annotations

import cv2
import numpy as np

from wildxray.photo import shapes
from wildxray.photo.noise import fractal_noise
from wildxray.photo.sprite import Sprite, build_sprite, dome
from wildxray.photo.textures import fur, mix, reptile_scales, rgb, rosettes, tiger_stripes

COATS = ("tiger", "leopard", "python", "crocodile")


def coat_albedo(rng: np.random.Generator, shape: tuple[int, int], coat: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Albedo float32 ``[h, w, 3]`` and a small height bump ``[h, w]`` for a coat; spine along x.

    ``scale`` is the animal's size in pixels (sets stripe period, rosette and scale spacing).
    """
    h, w = shape
    if coat in ("tiger", "leopard"):
        yy = np.abs(np.linspace(-1, 1, h, dtype=np.float32))[:, None] * np.ones((1, w), np.float32)
        belly = np.clip((yy - 0.62 + 0.25 * (fractal_noise(rng, shape, 4, 2) - 0.5)) * 5, 0, 1)
        if coat == "tiger":
            base = rgb((206, 112, 38), rng, 0.08)
            alb = mix(belly, base, rgb((236, 226, 206), rng, 0.03))
            alb = _overlay(alb, tiger_stripes(rng, shape, scale * rng.uniform(0.07, 0.11)), rgb((28, 20, 16)))
        else:
            base = rgb((212, 166, 86), rng, 0.07)
            alb = mix(belly, base, rgb((234, 222, 196), rng, 0.03))
            ring, inner = rosettes(rng, shape, spacing=scale * rng.uniform(0.08, 0.12))
            alb = _overlay(alb, inner * 0.5, rgb((170, 108, 45)))
            alb = _overlay(alb, ring, rgb((32, 24, 18)))
        hair = fur(rng, shape, hair=2.0)
        alb *= (0.82 + 0.36 * hair)[:, :, None]
        return alb, hair * 0.8
    spacing = scale * (rng.uniform(0.025, 0.04) if coat == "python" else rng.uniform(0.045, 0.07))
    tone, bump, groove = reptile_scales(rng, shape, spacing, stretch=1.3 if coat == "crocodile" else 1.0)
    if coat == "python":
        base, blot_c = rgb((176, 150, 104), rng, 0.1), rgb((74, 52, 34), rng, 0.1)
        blotch = np.clip((fractal_noise(rng, shape, cells=7, octaves=2) - 0.52) * 8, 0, 1)
    else:
        base, blot_c = rgb((96, 92, 62), rng, 0.12), rgb((48, 44, 32), rng, 0.1)
        blotch = np.clip((fractal_noise(rng, shape, cells=4, octaves=2) - 0.55) * 5, 0, 1)
    alb = _overlay(mix(tone * 0.35, base, base * 0.75), blotch, blot_c)
    alb *= (1 - 0.55 * groove)[:, :, None]
    return alb, bump * 2.0


def _overlay(alb: np.ndarray, field: np.ndarray, colour: np.ndarray) -> np.ndarray:
    f = field[:, :, None]
    return (alb * (1 - f) + colour[None, None, :] * f).astype(np.float32)


def _pelt_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    """A flat hide: body, four leg flaps, a tail and sometimes the head (spine along x)."""
    ht = int(size * rng.uniform(0.55, 0.75))
    body_a, body_b = size * 0.33, ht * 0.3
    canvas = (ht + 8, size + 8)
    m = shapes.blank(canvas)
    cx, cy = canvas[1] / 2, canvas[0] / 2
    shapes.ellipse(m, (cx, cy), (body_a, body_b))
    for sx in (-1, 1):
        for sy in (-1, 1):
            root = np.array([cx + sx * body_a * 0.6, cy + sy * body_b * 0.6])
            tip = root + [sx * size * rng.uniform(0.05, 0.12), sy * ht * rng.uniform(0.28, 0.36)]
            shapes.tube(m, np.linspace(root, tip, 8), np.linspace(size * 0.06, size * 0.035, 8))
    tail = shapes.arc_centreline(size * 0.14, rng.uniform(-0.3, 0.3), 12, origin=(cx - body_a * 1.4, cy))
    shapes.tube(m, tail, np.full(12, size * 0.018))
    if rng.random() < 0.5:
        shapes.ellipse(m, (cx + body_a * 1.05, cy), (size * 0.09, size * 0.08))
    return m


def flat_fur(rng: np.random.Generator, size: int) -> Sprite:
    coat = ("tiger", "leopard")[rng.integers(2)]
    mask = _pelt_mask(rng, size)
    alb, bump = coat_albedo(rng, mask.shape, coat, size)
    alpha = shapes.ragged_alpha(mask, rng, fuzz=1.2)
    return build_sprite(alb, dome(mask, 4.0, 0.3) + bump, alpha, 0.04, 8, f"skin/{coat}_flat")


def reptile_hide(rng: np.random.Generator, size: int) -> Sprite:
    coat = ("python", "crocodile")[rng.integers(2)]
    wmax = size * rng.uniform(0.1, 0.16)
    h = int(2 * wmax + 8)
    t = np.linspace(0, 1, 30)
    widths = wmax * np.clip(np.sin(np.pi * (0.15 + 0.85 * t)) ** 0.6, 0.08, 1) * (1 + 0.08 * np.sin(t * 40))
    mask = shapes.tube(shapes.blank((h, size + 4)), np.stack([2 + wmax * 0.2 + t * (size - wmax * 0.4), np.full(30, h / 2)], 1), widths)
    alb, bump = coat_albedo(rng, mask.shape, coat, size * 1.6)
    return build_sprite(alb, dome(mask, 3.0, 0.3) + bump, mask, 0.25, 18, f"skin/{coat}_flat")


def rolled_skin(rng: np.random.Generator, size: int) -> Sprite:
    """A skin rolled into a cylinder and tied, seen from the side, with the spiral end showing."""
    coat = COATS[rng.integers(len(COATS))]
    d = int(size * rng.uniform(0.22, 0.38))
    canvas = (d + 6, size + 6)
    mask = shapes.blank(canvas)
    shapes.polygon(mask, np.array([[3 + d * 0.2, 3], [size + 3, 3], [size + 3, d + 3], [3 + d * 0.2, d + 3]]))
    end = shapes.ellipse(shapes.blank(canvas), (3 + d * 0.2, 3 + d / 2), (d * 0.2, d / 2))
    mask |= end
    alb, bump = coat_albedo(rng, canvas, coat, size * 2.0)
    yy, xx = np.mgrid[0 : canvas[0], 0 : canvas[1]].astype(np.float32)
    rr = np.sqrt(((xx - 3 - d * 0.2) / 0.4) ** 2 + (yy - 3 - d / 2) ** 2)
    spiral = 0.5 + 0.5 * np.sin(rr * 2 * np.pi / max(3.0, d / 7) + np.arctan2(yy - 3 - d / 2, xx - 3 - d * 0.2))
    leather = mix(spiral, rgb((222, 206, 178)), rgb((120, 90, 60)))
    e = (end > 0)[:, :, None]
    alb = np.where(e, leather, alb)
    height = np.sqrt(np.clip(1 - ((yy - 3 - d / 2) / (d / 2)) ** 2, 0, None)) * d * 0.5
    for x in rng.uniform(0.3, 0.85, int(rng.integers(1, 3))) * size:  # ties
        alb[:, int(x) : int(x) + max(2, d // 10)] = rgb((60, 50, 40))
    height = np.where(e[:, :, 0], d * 0.45, height + bump).astype(np.float32)
    alpha = shapes.ragged_alpha(mask, rng, fuzz=0.8 if coat in ("tiger", "leopard") else 0.0)
    return build_sprite(alb, height, alpha, 0.08, 10, f"skin/{coat}_rolled")


def _scale_template(rng: np.random.Generator, s: int) -> np.ndarray:
    """One pangolin scale, free edge to the right: float32 ``[s, s, 5]`` = (albedo RGB, height, alpha).

    A fan: narrow where it grows from the skin (left), broad and rounded at the free edge, with
    fine striations running from base to edge.
    """
    m = shapes.blank((s, s))
    ang = np.linspace(-np.pi / 2, np.pi / 2, 24)
    edge = np.stack([s * 0.5 + s * 0.42 * np.cos(ang) ** 0.7, s / 2 + s * 0.46 * np.sin(ang)], 1)
    base = np.array([[s * 0.12, s * 0.62], [s * 0.08, s * 0.5], [s * 0.12, s * 0.38]])
    shapes.polygon(m, np.concatenate([edge, base]))
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    fan = np.arctan2(yy - s / 2, xx + s * 0.3)  # striations fan out from behind the base
    ridges = 0.5 + 0.5 * np.sin(fan * s * 0.55)
    t = xx / s
    tone = rgb((128, 86, 52), rng, 0.06)
    alb = mix(np.clip(t * 0.9 + 0.15 * (ridges - 0.5), 0, 1), tone * 0.65, tone * 1.35)
    rim = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(np.float32) / 255.0
    alb *= (1 - 0.5 * rim)[:, :, None]
    height = dome(m, s * 0.1) + ridges * 0.5
    return np.dstack([alb, height, m.astype(np.float32) / 255.0]).astype(np.float32)


def scale_pile(rng: np.random.Generator, size: int) -> Sprite:
    """Overlapping pangolin scales heaped in an oval, sometimes inside a clear plastic bag."""
    ht = int(size * rng.uniform(0.55, 0.85))
    canvas = (ht + 8, size + 8)
    s = int(size * rng.uniform(0.14, 0.2))
    tpl = _scale_template(rng, s)
    alb = np.zeros(canvas + (3,), np.float32)
    height = np.zeros(canvas, np.float32)
    alpha = np.zeros(canvas, np.float32)
    n = int(size * ht / (s * s) * 2.2)
    cx, cy = canvas[1] / 2, canvas[0] / 2
    flow = rng.uniform(0, 360)
    for _ in range(n):
        rho, phi = np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
        x = cx + rho * np.cos(phi) * (size / 2 - s * 0.6)
        y = cy + rho * np.sin(phi) * (ht / 2 - s * 0.6)
        k = rng.uniform(0.85, 1.15)
        win = int(s * k * 1.5) + 2
        x0 = int(np.clip(x - win / 2, 0, canvas[1] - win))
        y0 = int(np.clip(y - win / 2, 0, canvas[0] - win))
        m = cv2.getRotationMatrix2D((s / 2, s / 2), float(flow + rng.normal(0, 50)), k)
        m[:, 2] += [x - s / 2 - x0, y - s / 2 - y0]
        # Warp into a small window around the scale only: a full-canvas warp per scale is slow.
        layer = cv2.warpAffine(tpl, m, (win, win), flags=cv2.INTER_LINEAR)
        a = layer[:, :, 4]
        sl = (slice(y0, y0 + win), slice(x0, x0 + win))
        tone = 1.0 + rng.uniform(-0.15, 0.15)
        alb[sl] = alb[sl] * (1 - a[:, :, None]) + layer[:, :, :3] * tone * a[:, :, None]
        lift = (1.0 - rho) * s * 0.5  # the heap is higher in the middle
        height[sl] = height[sl] * (1 - a) + (layer[:, :, 3] + lift) * a
        alpha[sl] = np.maximum(alpha[sl], a)
    kind = "scales/pile"
    if rng.random() < 0.4:
        bag = shapes.ellipse(shapes.blank(canvas), (cx, cy), (size / 2 + 2, ht / 2 + 2)).astype(np.float32) / 255.0
        film = bag * (1 - alpha) * 0.3  # stays below the 0.5 footprint threshold: the box is the scales
        alb = alb * (1 - film[:, :, None]) + rgb((235, 238, 240)) * film[:, :, None]
        alb = np.where((bag * alpha > 0)[:, :, None], alb * 0.9 + 0.08, alb)  # sheen of the film
        alpha = np.maximum(alpha, film)
        kind = "scales/bagged"
    return build_sprite(alb, height, alpha, 0.3, 14, kind)
