"""Shapes of pangolin scales, skins and live animals (some reused by decoys with other materials).

Sizes: pangolin scales 2-7 cm, 1-3 mm thick (Wang et al. 2016); salted hides 3-6 mm; tortoises
10-25 cm carapace; smuggled lizards/snakes/birds sized for tubes and socks (seizure reports).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from wildxray.xray.content.builder import ItemBuilder, blob_outline


def scale_pile(rng: np.random.Generator, ppc: float, material: str = "pangolin_scale") -> ItemBuilder:
    """A bag of 60-260 overlapping shield-shaped scales, heaped deeper in the middle.

    Each scale is thick at its base and thin at its rim with a ridge along its axis, so a pile shows
    the mottled mass of crescent edges seen on seizure scans (0.5-2 kg per bag)."""
    n = int(rng.integers(60, 260))
    rx, ry = math.sqrt(n) * rng.uniform(0.9, 1.25), math.sqrt(n) * rng.uniform(0.7, 1.0)
    b = ItemBuilder(2 * rx + 8, 2 * ry + 8, ppc)
    acc = np.zeros((b.h, b.w), np.float32)
    for _ in range(n):
        s = rng.uniform(2.0, 6.5)  # scale width, cm
        cx, cy = rx + 4 + rng.normal(0, rx / 2.5), ry + 4 + rng.normal(0, ry / 2.5)
        a = rng.uniform(0, 2 * math.pi)
        # shield outline: rounded triangle, in its own small window for speed
        k = int(math.ceil(s * ppc)) + 2
        win = np.zeros((k, k), np.uint8)
        c = k / 2
        pts = [(c + 0.5 * s * ppc * math.cos(a + t), c + 0.5 * s * ppc * math.sin(a + t) * (0.75 if i % 2 else 1))
               for i, t in enumerate(np.linspace(0, 2 * math.pi, 9)[:-1])]
        pts[0] = (c + 0.62 * s * ppc * math.cos(a), c + 0.62 * s * ppc * math.sin(a))  # the pointed tip
        cv2.fillPoly(win, [np.round(np.array(pts)).astype(np.int32)], 1)
        d = cv2.distanceTransform(win, cv2.DIST_L2, 3)
        # thicker towards the base (opposite the tip): a linear ramp along the scale's axis
        yy, xx = np.mgrid[0:k, 0:k].astype(np.float32) - c
        along = -(xx * math.cos(a) + yy * math.sin(a)) / (0.5 * s * ppc)
        bevel = np.minimum(d / (0.08 * s * ppc + 1e-6), 1.0)
        thick = rng.uniform(0.1, 0.3) * bevel * (0.7 + 0.45 * np.clip(along, -1, 1))
        x0, y0 = int(cx * ppc - c), int(cy * ppc - c)
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + k, b.w), min(y0 + k, b.h)
        if xb > xa and yb > ya:
            acc[ya:yb, xa:xb] += np.maximum(thick[ya - y0:yb - y0, xa - x0:xb - x0], 0.0)
    b.add(material, acc)
    bag = b.polygon(None, blob_outline(rng, rx + 4, ry + 4, rx + 2.5, ry + 2.5, 12, 0.1), 1.0)
    b.add("polyethylene", bag * 0.02 * (1 + 2 * b.wrinkles(rng, 3.0)))
    return b


def _hide_outline(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float) -> list[tuple[float, float]]:
    """A flayed skin: an oval body with four leg flaps, a neck and a tail stub (16 + 6 x 3 points)."""
    pts = []
    flaps = {0.0: 0.35, 0.7: 0.45, 2.45: 0.45, math.pi: 0.3, 3.85: 0.45, 5.6: 0.45}  # angle -> flap length
    for a in np.linspace(0, 2 * math.pi, 48, endpoint=False):
        k = 1.0 + rng.uniform(-0.05, 0.05)
        for fa, length in flaps.items():
            da = abs((a - fa + math.pi) % (2 * math.pi) - math.pi)
            k += length * max(0.0, 1 - da / 0.22)
        pts.append((cx + rx * k * math.cos(a) / 1.4, cy + ry * k * math.sin(a) / 1.4))
    return pts


def folded_hide(rng: np.random.Generator, ppc: float, material: str = "salted_hide", fur: bool | None = None,
                reptile: bool = False) -> ItemBuilder:
    """A skin folded into a bundle: 2-6 layers, each fold a crisp step, the flayed outline (leg flaps)
    showing at the edges; optionally with a fur layer or the scale rows of a reptile skin."""
    W, H = rng.uniform(18, 40), rng.uniform(14, 30)
    layers = int(rng.integers(3, 9)) if reptile else int(rng.integers(2, 7))
    b = ItemBuilder(W + 6, H + 6, ppc)
    skin_t = rng.uniform(0.2, 0.35) if reptile else rng.uniform(0.3, 0.6)
    fur = (rng.random() < 0.4) if fur is None else fur
    total = np.zeros((b.h, b.w), np.float32)
    for k in range(layers):
        shrink = 1 - 0.07 * k
        cx, cy = (W + 6) / 2 + rng.normal(0, W * 0.04), (H + 6) / 2 + rng.normal(0, H * 0.04)
        outline = (_hide_outline(rng, cx, cy, W / 2 * shrink, H / 2 * shrink) if k == 0 else
                   blob_outline(rng, cx, cy, W / 2 * shrink, H / 2 * shrink, 8, 0.1))  # inner folds: straighter
        total += b.polygon(None, outline, skin_t, round_cm=0.15)
    total = b.warp(rng, total, rng.uniform(5, 10), rng.uniform(0.3, 1.0))
    if reptile:  # scale rows: a diamond lattice of thicker scales (osteoderms in crocodilians)
        cell = rng.uniform(0.6, 1.6)
        u, v = (b.X + b.Y) / cell, (b.X - b.Y) / cell
        diamonds = np.minimum(np.abs(np.sin(np.pi * u)), np.abs(np.sin(np.pi * v)))
        total = total * (0.6 + 0.6 * diamonds)
    b.add(material, total * (0.9 + 0.25 * b.wrinkles(rng, 4.0)))
    if fur:  # hair lies in tufts: a thick layer over the outer face of the bundle
        b.add("fur_hair", (total > 0) * rng.uniform(1.0, 3.0) * b.smooth_noise(rng, 1.5, 0.4, 1.0) *
              (0.8 + 0.4 * b.wrinkles(rng, 0.8, 2.0)))
    return b


def rolled_hide(rng: np.random.Generator, ppc: float, material: str = "salted_hide") -> ItemBuilder:
    """A hide rolled into a cylinder: the spiral's layers seen edge-on give bright stripes along
    the roll, its ragged ends show each layer stopping at a different place."""
    L = rng.uniform(25, 50)
    R = rng.uniform(4, 9)
    h = rng.uniform(0.3, 0.6)
    b = ItemBuilder(L + 4, 2 * R + 2, ppc)
    for k in range(int(R / (h * 1.6))):
        ro = R - k * h * 1.6
        x0, x1 = 2 + rng.uniform(0, 1.5), L + 2 - rng.uniform(0, 1.5)
        outer = b.tube(None, [(x0, R + 1), (x1, R + 1)], [ro, ro])
        inner = b.tube(None, [(x0, R + 1), (x1, R + 1)], [max(ro - h, 0.01)] * 2)
        b.add(material, outer - inner)
    if rng.random() < 0.6:  # tied with string (polypropylene)
        for x in np.linspace(4, L - 2, int(rng.integers(1, 4))):
            b.rect("polypropylene", x, 0.5, 0.3, 2 * R + 1, 2 * R * 0.3)
    return b


def fur_pelt(rng: np.random.Generator, ppc: float, material: str = "salted_hide") -> ItemBuilder:
    return folded_hide(rng, ppc, material, fur=True)


def reptile_skin(rng: np.random.Generator, ppc: float, material: str = "raw_hide") -> ItemBuilder:
    return folded_hide(rng, ppc, material, fur=False, reptile=True)


def tortoise(rng: np.random.Generator, ppc: float, material: str = "soft_tissue") -> ItemBuilder:
    """Tortoise: domed carapace (bone + keratin shell), plastron, soft body with air-filled lungs,
    head and four legs with bones."""
    L = rng.uniform(8, 25)
    W = L * rng.uniform(0.7, 0.85)
    b = ItemBuilder(L * 1.5, W * 1.5, ppc)
    cx, cy = L * 0.75, W * 0.75
    depth = L * rng.uniform(0.4, 0.55)
    b.shell_ellipsoid("tortoise_shell", cx, cy, L / 2, W / 2, depth, wall=0.15 + 0.02 * L, fill=material)
    b.ellipsoid("tortoise_shell", cx, cy, L * 0.45, W * 0.42, 0.2 + 0.02 * L)  # plastron
    for side in (-1, 1):  # lungs: air under the carapace
        b.carve(material, b.ellipsoid(None, cx - L * 0.05, cy + side * W * 0.18, L * 0.25, W * 0.12, depth * 0.35))
    head_a = rng.uniform(-0.3, 0.3)
    hx, hy = cx + L * 0.55 * math.cos(head_a), cy + L * 0.55 * math.sin(head_a)
    b.ellipsoid(material, hx, hy, L * 0.1, L * 0.08, L * 0.12)
    b.ellipsoid("cortical_bone", hx, hy, L * 0.06, L * 0.05, L * 0.05)
    for ax, ay in ((0.35, 0.4), (0.35, -0.4), (-0.35, 0.4), (-0.35, -0.4)):
        p0, p1 = (cx + ax * L, cy + ay * W), (cx + ax * L * 1.3, cy + ay * W * 1.35)
        b.tube(material, [p0, p1], [L * 0.07, L * 0.05])
        b.tube("cortical_bone", [p0, p1], [L * 0.025, L * 0.02])
    return b


def _spine(b: ItemBuilder, pts: list[tuple[float, float]], r: float, step: float) -> None:
    """Vertebrae as small bone beads along a path (the periodic texture of a skeleton)."""
    pts_a = np.asarray(pts, np.float32)
    seg = np.linalg.norm(np.diff(pts_a, axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(seg)])
    for d in np.arange(0, s[-1], step):
        i = min(int(np.searchsorted(s, d, side="right")) - 1, len(seg) - 1)
        f = (d - s[i]) / max(seg[i], 1e-6)
        x, y = pts_a[i] + f * (pts_a[i + 1] - pts_a[i])
        b.ellipsoid("cortical_bone", float(x), float(y), r, r * 0.8, r * 1.6)


def _ribs(b: ItemBuilder, pts: list[tuple[float, float]], half_len: float, r: float) -> None:
    """Thin curved bone ribs on both sides of a path, perpendicular to it (the ladder an inspector
    reads as a skeleton)."""
    for i in range(1, len(pts) - 1):
        (x0, y0), (x1, y1) = pts[i - 1], pts[i + 1]
        dx, dy = x1 - x0, y1 - y0
        n = math.hypot(dx, dy) or 1.0
        nx, ny, tx, ty = -dy / n, dx / n, dx / n, dy / n
        x, y = pts[i]
        for side in (-1, 1):
            mid = (x + side * nx * half_len * 0.6 - tx * half_len * 0.15, y + side * ny * half_len * 0.6 - ty * half_len * 0.15)
            end = (x + side * nx * half_len - tx * half_len * 0.35, y + side * ny * half_len - ty * half_len * 0.35)
            b.tube("cortical_bone", [(x, y), mid, end], r)


def lizard(rng: np.random.Generator, ppc: float, material: str = "soft_tissue") -> ItemBuilder:
    """Lizard: body, tail and head of soft tissue, lungs, vertebral column, limb bones."""
    L = rng.uniform(12, 40)  # snout to tail tip
    b = ItemBuilder(L + 4, L * 0.5 + 4, ppc)
    y = L * 0.25 + 2
    body_r = L * rng.uniform(0.05, 0.08)
    curve = rng.uniform(-0.15, 0.15) * L
    spine = [(2 + L * f, y + curve * math.sin(math.pi * f)) for f in np.linspace(0, 1, 12)]
    radii = np.interp(np.linspace(0, 1, 12), [0, 0.12, 0.18, 0.45, 0.5, 1.0],
                      [body_r * 0.5, body_r * 0.7, body_r * 0.6, body_r, body_r * 0.7, 0.1])
    b.tube(material, spine, radii, depth_scale=0.7)
    b.carve(material, b.ellipsoid(None, *spine[3], L * 0.09, body_r * 0.5, body_r * 0.6))
    _spine(b, spine[1:], body_r * 0.14, body_r * 0.3)
    trunk = [(float(x), float(y)) for x, y in np.linspace(spine[2], spine[6], 9)]
    _ribs(b, trunk, body_r * 0.85, max(0.04, body_r * 0.05))
    for f, side, reach in ((0.22, 1, -1), (0.22, -1, -1), (0.45, 1, 1), (0.45, -1, 1)):
        x0, y0 = spine[int(f * 11)]  # splayed limbs: upper leg sideways, lower leg bent fore or aft
        knee = (x0 + reach * body_r * rng.uniform(0.2, 0.6), y0 + side * body_r * 1.5)
        foot = (knee[0] - reach * body_r * rng.uniform(0.6, 1.0), knee[1] + side * body_r * 0.5)
        b.tube(material, [(x0, y0), knee, foot], [body_r * 0.35, body_r * 0.25, body_r * 0.2])
        b.tube("cortical_bone", [(x0, y0), knee, foot], [body_r * 0.1, body_r * 0.08, body_r * 0.06])
    b.ellipsoid("cortical_bone", spine[0][0] + body_r * 0.4, spine[0][1], body_r * 0.5, body_r * 0.35, body_r * 0.4)
    return b


def snake(rng: np.random.Generator, ppc: float, material: str = "soft_tissue") -> ItemBuilder:
    """A coiled snake: a tapering tube on a spiral with vertebrae and ribs along it."""
    r = rng.uniform(0.8, 2.2)
    turns = rng.uniform(1.2, 3.0)
    R0 = r * 2.5
    n = int(turns * 20)
    a = np.linspace(0, 2 * math.pi * turns, n)
    rad = R0 + 2.1 * r * a / (2 * math.pi)
    span = rad.max() + r + 1
    pts = [(span + q * math.cos(t), span + q * math.sin(t) * rng.uniform(0.95, 1.0)) for q, t in zip(rad, a)]
    b = ItemBuilder(2 * span, 2 * span, ppc)
    radii = np.minimum(1.0, np.linspace(0.3, 1.6, n)) * r
    radii[-n // 8:] *= np.linspace(1, 0.2, len(radii[-n // 8:]))
    b.tube(material, pts, radii, depth_scale=0.8)
    _spine(b, pts, r * 0.15, r * 0.35)
    _ribs(b, pts[: int(len(pts) * 0.85)], r * 0.8, max(0.04, r * 0.05))
    return b


def bird_in_tube(rng: np.random.Generator, ppc: float, material: str = "soft_tissue") -> ItemBuilder:
    """1-4 small birds, each packed in a plastic or cardboard tube: feathers, body with air sacs,
    skull, beak, wing and leg bones."""
    n = int(rng.integers(1, 5))
    L, r = rng.uniform(12, 22), rng.uniform(2.0, 3.2)
    b = ItemBuilder(L + 2, n * (2 * r + 0.6) + 1.5, ppc)
    tube_mat = "pvc" if rng.random() < 0.5 else "cardboard"
    wall = 0.15 if tube_mat == "pvc" else 0.3
    for k in range(n):
        y = 1 + r + k * (2 * r + 0.6)
        b.hollow_tube(tube_mat, [(1, y), (L + 1, y)], [r, r], wall)
        bl = L * rng.uniform(0.55, 0.8)
        x0 = 1 + (L - bl) / 2
        br = r * 0.8
        b.ellipsoid("feathers", x0 + bl / 2, y, bl / 2, br, 2 * br)
        b.ellipsoid(material, x0 + bl * 0.55, y, bl * 0.3, br * 0.6, br * 1.1)
        b.carve(material, b.ellipsoid(None, x0 + bl * 0.55, y, bl * 0.15, br * 0.3, br * 0.5))  # air sacs
        b.ellipsoid("cortical_bone", x0 + bl * 0.15, y, bl * 0.08, br * 0.3, br * 0.5)  # skull
        b.tube("keratin", [(x0 + bl * 0.08, y), (x0 - bl * 0.05, y)], [br * 0.15, 0.05])  # beak
        for side in (-1, 1):
            b.tube("cortical_bone", [(x0 + bl * 0.35, y + side * br * 0.5), (x0 + bl * 0.9, y + side * br * 0.6)], 0.08)
        b.tube("cortical_bone", [(x0 + bl * 0.6, y), (x0 + bl * 0.85, y + br * 0.3)], 0.06)
    return b
