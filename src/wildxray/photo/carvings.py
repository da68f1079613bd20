"""Hard-tissue objects: ivory (bangles, beads, chopsticks, tusk sections, carvings, cut slices),
rhino horn (whole horns, pieces) and bone (long bones, skulls, claws, teeth).

Each renderer is ``render(rng, size) -> Sprite`` with ``size`` the object's long side in pixels;
the object is drawn upright in its own canvas (see :mod:`wildxray.photo.sprite`). Silhouette
helpers (``bangle_shape``, ``figurine_mask``) are shared with the look-alikes, which differ in
material only, so a detector has to learn the material and not the outline.
"""

from __future__ import annotations

import cv2
import numpy as np

from wildxray.photo import shapes
from wildxray.photo.noise import fractal_noise, streak_noise
from wildxray.photo.sprite import Sprite, build_sprite, dome
from wildxray.photo.textures import mix, porous, rgb, schreger

IVORY_TONES = ((240, 230, 204), (233, 219, 184), (244, 237, 218), (228, 211, 172))
BONE_TONES = ((226, 216, 192), (214, 202, 172), (232, 226, 210))


def ivory_albedo(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Creamy ivory with growth streaks along x and a yellow-brown patina: float32 ``[h, w, 3]``."""
    base = rgb(IVORY_TONES[rng.integers(len(IVORY_TONES))], rng, 0.03)
    aged = base * np.array([0.9, 0.82, 0.66], np.float32)
    patina = fractal_noise(rng, shape, cells=3, octaves=3) ** 2
    streaks = streak_noise(rng, shape, across=max(4, shape[0] / 3), along=4)
    return mix(np.clip(0.7 * patina + 0.35 * (streaks - 0.5), 0, 1), base, aged)


def bangle_shape(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A bangle seen at a tilt: (mask uint8 ``[s, s]``, torus height float32, radial coord float32)."""
    s = size + 4
    c = s / 2.0
    ro = size / 2.0
    ri = ro * rng.uniform(0.6, 0.78)
    q = rng.uniform(0.55, 1.0)  # tilt squashes the ring into an ellipse
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    rho = np.sqrt((xx - c) ** 2 + ((yy - c) / q) ** 2)
    mid, half = (ro + ri) / 2, (ro - ri) / 2
    mask = shapes.blank((s, s))
    shapes.ellipse(mask, (c, c), (ro, ro * q))
    shapes.ellipse(mask, (c, c), (ri, ri * q), value=0)
    height = np.sqrt(np.clip(half**2 - (rho - mid) ** 2, 0, None)).astype(np.float32)
    return mask, height, rho


def figurine_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    """A standing carved figure on a plinth (height ``size``): uint8 mask ``[size+4, 0.65*size]``."""
    h, w = size + 4, int(size * 0.65) + 4
    m = shapes.blank((h, w))
    cx = w / 2
    plinth_h = size * rng.uniform(0.08, 0.14)
    shapes.polygon(m, np.array([[cx - w * 0.42, h - 2], [cx + w * 0.42, h - 2], [cx + w * 0.38, h - 2 - plinth_h], [cx - w * 0.38, h - 2 - plinth_h]]))
    body_h = size * rng.uniform(0.3, 0.42)
    body_y = h - 2 - plinth_h - body_h * 0.9
    shapes.ellipse(m, (cx, body_y), (w * rng.uniform(0.22, 0.34), body_h))
    head_r = size * rng.uniform(0.08, 0.12)
    head_y = max(head_r + 2, body_y - body_h - head_r * 0.6)
    shapes.ellipse(m, (cx + rng.uniform(-3, 3), head_y), (head_r, head_r * 1.1))
    for side in (-1, 1):  # arms / robe folds
        if rng.random() < 0.7:
            shapes.ellipse(m, (cx + side * w * 0.25, body_y - body_h * 0.2), (w * 0.08, body_h * 0.5), side * rng.uniform(10, 30))
    return m


def engrave(rng: np.random.Generator, mask: np.ndarray, count: int, width: int = 1) -> np.ndarray:
    """Carved grooves inside ``mask`` (robe folds, contours): smooth arcs, float32 field in [0, 1]."""
    g = shapes.blank(mask.shape)
    ys, xs = np.nonzero(mask > 128)
    if len(xs) == 0:
        return g.astype(np.float32)
    scale = max(mask.shape) / 8
    for _ in range(count):
        i = rng.integers(len(xs))
        axes = (int(scale * rng.uniform(0.4, 1.2)), int(scale * rng.uniform(0.2, 0.6)))
        start = float(rng.uniform(0, 360))
        cv2.ellipse(g, (int(xs[i]), int(ys[i])), axes, float(rng.uniform(0, 180)), start, start + rng.uniform(40, 140), 255, width, cv2.LINE_AA)
    return (g.astype(np.float32) / 255.0) * (mask > 128)


def ivory_bangle(rng: np.random.Generator, size: int) -> Sprite:
    mask, height, rho = bangle_shape(rng, size)
    alb = ivory_albedo(rng, mask.shape)
    alb *= (0.94 + 0.06 * np.sin(rho * 2.2))[:, :, None]  # faint concentric growth lines
    return build_sprite(alb, height, mask, 0.35, 25, "ivory/bangle")


def ivory_beads(rng: np.random.Generator, size: int) -> Sprite:
    s = size + 4
    r = size * rng.uniform(0.035, 0.06)
    big = size / 2 - r - 1
    span = rng.uniform(np.pi * 1.1, np.pi * 2)
    n = max(6, int(span * big / (2 * r * 1.02)))
    t0 = rng.uniform(0, 2 * np.pi)
    q = rng.uniform(0.5, 1.0)
    mask, height = shapes.blank((s, s)), np.zeros((s, s), np.float32)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    for t in t0 + np.linspace(0, span, n, endpoint=False):
        cx, cy = s / 2 + big * np.cos(t), s / 2 + big * q * np.sin(t)
        rb = r * rng.uniform(0.9, 1.1)
        shapes.ellipse(mask, (cx, cy), (rb, rb))
        y0, y1, x0, x1 = int(cy - rb - 1), int(cy + rb + 2), int(cx - rb - 1), int(cx + rb + 2)
        d2 = (xx[y0:y1, x0:x1] - cx) ** 2 + (yy[y0:y1, x0:x1] - cy) ** 2
        np.maximum(height[y0:y1, x0:x1], np.sqrt(np.clip(rb * rb - d2, 0, None)), out=height[y0:y1, x0:x1])
    return build_sprite(ivory_albedo(rng, (s, s)), height, mask, 0.45, 30, "ivory/beads")


def ivory_chopsticks(rng: np.random.Generator, size: int) -> Sprite:
    k = int(rng.integers(2, 5))
    w0 = size * rng.uniform(0.018, 0.026)
    h = int(k * w0 * 4 + 8)
    mask, height = shapes.blank((h, size + 4)), np.zeros((h, size + 4), np.float32)
    for i in range(k):
        y = 4 + w0 * 2 + i * w0 * 3.5
        one = shapes.blank(mask.shape)
        line = np.array([[2, y], [2 + size * rng.uniform(0.9, 1.0), y + rng.uniform(-w0, w0)]])
        pts = np.linspace(line[0], line[1], 12)
        shapes.tube(one, pts, np.linspace(w0, w0 * 0.6, 12))
        mask |= one
        height = np.maximum(height, dome(one, w0))
    alb = ivory_albedo(rng, mask.shape)
    if rng.random() < 0.5:  # carved band at the thick end
        alb[:, int(size * 0.05) : int(size * 0.12)] *= 0.82
    return build_sprite(alb, height, mask, 0.35, 25, "ivory/chopsticks")


def _tusk_face(rng: np.random.Generator, alb: np.ndarray, height: np.ndarray, mask: np.ndarray, at: tuple[float, float], half_width: float) -> None:
    """Paint a cut end showing Schreger lines and a darker cementum rim (in place)."""
    face = shapes.blank(mask.shape)
    axes = (half_width * rng.uniform(0.3, 0.5), half_width)
    shapes.ellipse(face, at, axes)
    f = face.astype(np.float32)[:, :, None] / 255.0
    pattern = schreger(mask.shape, at, rings=max(3.0, half_width / 4), arms=int(rng.integers(9, 15)))
    cut = mix(0.35 * pattern, rgb((246, 238, 220)), rgb((205, 190, 160)))
    rim = shapes.blank(mask.shape)
    shapes.ellipse(rim, at, (axes[0] + 1.5, axes[1] + 1.5))
    rim_f = ((rim > 0) & (face < 128)).astype(np.float32)[:, :, None]
    alb[:] = alb * (1 - f) + cut * f
    alb[:] = alb * (1 - rim_f) + rgb((150, 120, 85)) * rim_f
    height[:] = np.where(face > 0, height.max() * 0.8, height)
    mask |= face


def ivory_tusk(rng: np.random.Generator, size: int) -> Sprite:
    bend = rng.uniform(0.04, 0.14)
    wb = size * rng.uniform(0.08, 0.13)
    h = int(2 * wb + bend * size + 12)
    centre = shapes.arc_centreline(size * 0.92, bend, 40, origin=(wb * 0.5 + 3, wb + 5))
    tip = 0.05 if rng.random() < 0.4 else rng.uniform(0.45, 0.85)  # whole tip or cut section
    widths = wb * np.linspace(1.0, tip, 40) ** 0.8
    mask = shapes.tube(shapes.blank((h, size + 4)), centre, widths)
    height = dome(mask, wb)
    alb = ivory_albedo(rng, mask.shape)
    _tusk_face(rng, alb, height, mask, tuple(centre[0]), wb)
    if tip > 0.3 and rng.random() < 0.6:
        _tusk_face(rng, alb, height, mask, tuple(centre[-1]), widths[-1])
    return build_sprite(alb, height, mask, 0.3, 20, "ivory/tusk_section")


def ivory_carving(rng: np.random.Generator, size: int) -> Sprite:
    mask = figurine_mask(rng, size)
    alb = ivory_albedo(rng, mask.shape)
    grooves = engrave(rng, mask, int(rng.integers(6, 14)))
    alb *= (1 - 0.35 * grooves)[:, :, None]
    height = dome(mask, size * 0.12) - 2.0 * grooves
    return build_sprite(alb, height, mask, 0.3, 20, "ivory/carving")


def ivory_slice(rng: np.random.Generator, size: int) -> Sprite:
    """A polished cross-section (seal end, slab) where Schreger lines are plainly visible."""
    s = size + 4
    mask = shapes.blank((s, s))
    q = rng.uniform(0.75, 1.0)
    shapes.ellipse(mask, (s / 2, s / 2), (size / 2, size / 2 * q))
    pattern = schreger((s, s), (s / 2 + rng.uniform(-3, 3), s / 2), rings=size / rng.uniform(5, 9), arms=int(rng.integers(6, 11)))
    alb = mix(0.65 * pattern, rgb(IVORY_TONES[rng.integers(len(IVORY_TONES))], rng, 0.03), rgb((200, 182, 150)))
    height = dome(mask, size * 0.05, power=0.2)
    return build_sprite(alb, height, mask, 0.4, 30, "ivory/slice")


def horn_albedo(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Dark keratin with fibres running along x: float32 ``[h, w, 3]``."""
    dark = rgb((58, 50, 44), rng, 0.1)
    light = rgb((132, 114, 92), rng, 0.08)
    fibres = streak_noise(rng, shape, across=max(6, shape[0] / 2), along=5)
    blotch = fractal_noise(rng, shape, cells=3, octaves=2)
    return mix(np.clip(0.55 * fibres + 0.5 * blotch - 0.15, 0, 1), dark, light)


def rhino_horn(rng: np.random.Generator, size: int) -> Sprite:
    bend = rng.uniform(0.06, 0.2)
    wb = size * rng.uniform(0.14, 0.21)
    h = int(2 * wb + bend * size + 10)
    centre = shapes.arc_centreline(size * 0.95, -bend, 40, origin=(3, h - wb - 4))
    widths = wb * (1 - np.linspace(0, 1, 40)) ** 0.85 + 1.0
    mask = shapes.tube(shapes.blank((h, size + 6)), centre, widths)
    alb = horn_albedo(rng, mask.shape)
    base = np.clip(1 - np.arange(mask.shape[1], dtype=np.float32) / (wb * 0.8), 0, 1)[None, :, None]
    alb = alb * (1 - 0.4 * base) + rgb((95, 80, 62)) * 0.4 * base  # matted, hairy base
    height = dome(mask, wb * 0.8, 0.6) + streak_noise(rng, mask.shape, mask.shape[0] / 2, 5) * 1.5
    return build_sprite(alb, height, mask, 0.25, 12, "horn/whole")


def horn_pieces(rng: np.random.Generator, size: int) -> Sprite:
    h = int(size * 0.7) + 4
    mask = shapes.blank((h, size + 4))
    n = int(rng.integers(1, 4))
    height = np.zeros(mask.shape, np.float32)
    for _ in range(n):
        c = np.array([rng.uniform(0.2, 0.8) * size, rng.uniform(0.25, 0.75) * h])
        r = size * rng.uniform(0.16, 0.28)
        ang = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 8))))
        pts = c + np.stack([np.cos(ang), np.sin(ang) * 0.7], 1) * r * rng.uniform(0.7, 1.1, (len(ang), 1))
        one = shapes.polygon(shapes.blank(mask.shape), pts)
        mask |= one
        height = np.maximum(height, dome(one, r * 0.5, 0.35))
    return build_sprite(horn_albedo(rng, mask.shape), height, mask, 0.25, 12, "horn/pieces")


def bone_albedo(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    base = rgb(BONE_TONES[rng.integers(len(BONE_TONES))], rng, 0.04)
    return mix(porous(rng, shape), base, base * np.array([0.72, 0.66, 0.55], np.float32))


def long_bone(rng: np.random.Generator, size: int) -> Sprite:
    w = size * rng.uniform(0.045, 0.07)
    h = int(w * 6 + 8)
    mask = shapes.blank((h, size + 4))
    cy = h / 2
    shapes.tube(mask, shapes.arc_centreline(size - 6 * w, rng.uniform(-0.05, 0.05), 24, origin=(3 * w + 2, cy)), np.full(24, w))
    for x in (2.2 * w + 2, size + 2 - 2.2 * w):
        for dy in (-0.9, 0.9):
            shapes.ellipse(mask, (x, cy + dy * w * rng.uniform(0.8, 1.2)), (w * 1.4, w * 1.25))
    return build_sprite(bone_albedo(rng, mask.shape), dome(mask, w * 1.2), mask, 0.1, 10, "bone/long_bone")


def skull(rng: np.random.Generator, size: int) -> Sprite:
    h = int(size * 0.75) + 4
    mask = shapes.blank((h, size + 4))
    cy = h / 2
    shapes.ellipse(mask, (size * 0.33, cy), (size * 0.3, size * 0.25))
    shapes.ellipse(mask, (size * 0.58, cy), (size * 0.14, size * 0.34))  # cheek arches
    shapes.tube(mask, np.array([[size * 0.6, cy], [size * 0.93, cy]]), np.array([size * 0.13, size * 0.1]))
    alb = bone_albedo(rng, mask.shape)
    height = dome(mask, size * 0.18)
    holes = shapes.blank(mask.shape)
    for side in (-1, 1):
        shapes.ellipse(holes, (size * 0.6, cy + side * size * 0.17), (size * 0.075, size * 0.09))
    shapes.ellipse(holes, (size * 0.92, cy), (size * 0.03, size * 0.04))
    hole = holes.astype(np.float32)[:, :, None] / 255.0
    alb = alb * (1 - hole) + rgb((70, 58, 45)) * hole
    height = height - hole[:, :, 0] * size * 0.12
    return build_sprite(alb, height, mask, 0.1, 10, "bone/skull")


def _hooks(rng: np.random.Generator, size: int, n: int, bend: tuple[float, float], width: float) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """``n`` curved tapering hooks scattered in a canvas: (union mask, [(mask, t-field)])."""
    h = int(size * 0.7) + 4
    canvas = (h, size + 4)
    union, parts = shapes.blank(canvas), []
    length = size * rng.uniform(0.32, 0.45)
    for _ in range(n):
        c = shapes.arc_centreline(length * rng.uniform(0.85, 1.1), rng.uniform(*bend), 24)
        c -= c.mean(axis=0)
        a = rng.uniform(0, 2 * np.pi)
        c = c @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
        c += [rng.uniform(length / 2, size - length / 2) + 2, rng.uniform(length / 2, max(length / 2 + 1, h - length / 2))]
        one = shapes.tube(shapes.blank(canvas), c, np.linspace(length * width, 1.0, 24))
        # Along-hook coordinate t in [0, 1] (root -> tip) for colouring.
        yy, xx = np.mgrid[0:h, 0 : size + 4].astype(np.float32)
        t = np.clip(((xx - c[0, 0]) * (c[-1, 0] - c[0, 0]) + (yy - c[0, 1]) * (c[-1, 1] - c[0, 1])) / (np.sum((c[-1] - c[0]) ** 2) + 1e-6), 0, 1)
        union |= one
        parts.append((one, t))
    return union, parts


def claws(rng: np.random.Generator, size: int) -> Sprite:
    union, parts = _hooks(rng, size, int(rng.integers(3, 7)), (0.22, 0.35), 0.13)
    alb, height = bone_albedo(rng, union.shape), np.zeros(union.shape, np.float32)
    for one, t in parts:
        m = (one > 0)[:, :, None]
        tone = mix(t, rgb((214, 200, 168), rng, 0.05), rgb((92, 78, 62), rng, 0.05))
        alb = np.where(m, tone, alb)
        height = np.maximum(height, dome(one, 6.0))
    return build_sprite(alb, height, union, 0.3, 18, "bone/claws")


def teeth(rng: np.random.Generator, size: int) -> Sprite:
    union, parts = _hooks(rng, size, int(rng.integers(2, 6)), (0.06, 0.16), 0.16)
    alb, height = bone_albedo(rng, union.shape), np.zeros(union.shape, np.float32)
    for one, t in parts:
        m = (one > 0)[:, :, None]
        tone = mix(np.clip((t - 0.4) * 6, 0, 1), rgb((190, 160, 110), rng, 0.05), rgb((242, 236, 220), rng, 0.03))
        alb = np.where(m, tone, alb)
        height = np.maximum(height, dome(one, 7.0))
    return build_sprite(alb, height, union, 0.45, 30, "bone/teeth")
