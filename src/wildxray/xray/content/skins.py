"""Skins: big-cat hides (flat, folded into a bundle, rolled) with fur and claws; reptile skins.

Each generator draws ONE skin. Salted hides are 3-6 mm thick (10-20 % salt); a tiger skin is
1.5-2.5 m nose to tail, smuggled folded to 30-50 cm or rolled. What tells a hide from a folded
garment on a scan: the flayed outline (leg flaps, tail), the claws left in the paws (keratin hooks
round the last toe bone), the mottled fur, the stepped layers of its folds. Crocodile skins carry
rows of bony plates (osteoderms) down the back; python skins a fine scale lattice.
"""

from __future__ import annotations

import math

import numpy as np

from wildxray.xray.content.builder import ItemBuilder, arc_points, blob_outline

#: angle (rad, from the head along +x) -> flap length of the flayed outline: neck, four legs, tail
_FLAPS = {0.0: 0.35, 0.7: 0.6, 2.45: 0.6, math.pi: 0.7, 3.85: 0.6, 5.6: 0.6}
_LEGS = (0.7, 2.45, 3.85, 5.6)


def _outline_point(cx: float, cy: float, rx: float, ry: float, a: float, k: float) -> tuple[float, float]:
    return cx + rx * k * math.cos(a) / 1.4, cy + ry * k * math.sin(a) / 1.4


def hide_outline(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float) -> list[tuple[float, float]]:
    """A flayed skin: an oval body with four leg flaps, a neck and a tail (48 points)."""
    pts = []
    for a in np.linspace(0, 2 * math.pi, 48, endpoint=False):
        k = 1.0 + rng.uniform(-0.04, 0.04)
        for fa, length in _FLAPS.items():
            da = abs((a - fa + math.pi) % (2 * math.pi) - math.pi)
            k += length * max(0.0, 1 - da / (0.2 if fa != math.pi else 0.07)) ** 0.7
        pts.append(_outline_point(cx, cy, rx, ry, a, k))
    return pts


def _claws(b: ItemBuilder, rng: np.random.Generator, x: float, y: float, direction: float) -> None:
    """4-5 hooked claws fanned at a paw (keratin sheath round a bone core), pointing ``direction``."""
    sheaths, cores = [], []
    for j in range(int(rng.integers(4, 6))):
        a = direction + (j - 2) * 0.25
        L = rng.uniform(2.5, 4.0)
        bx, by = x + 0.3 * math.cos(a) + (j - 2) * 0.6 * -math.sin(a), y + 0.8 * math.sin(a) + (j - 2) * 0.6 * math.cos(a)
        hook = arc_points(bx - L * math.sin(a) * 0.5, by + L * math.cos(a) * 0.5, L * 0.5, a - math.pi / 2,
                          a - math.pi / 2 + 1.4, 5)
        radii = np.linspace(0.4, 0.05, 5)
        sheaths.append((hook, radii))
        cores.append((hook[:3], radii[:3] * 0.45))
    b.small_solids("keratin", tubes=sheaths)
    b.small_solids("cortical_bone", tubes=cores)


def _fur(b: ItemBuilder, rng: np.random.Generator, skin: np.ndarray, layers: np.ndarray | float = 1.0) -> None:
    """Hair in tufts over the skin's footprint: a mottled low-density layer (fur_hair)."""
    b.add("fur_hair", (skin > 0) * layers * rng.uniform(1.0, 2.5) * b.smooth_noise(rng, 1.2, 0.4, 1.0) *
          (0.8 + 0.4 * b.wrinkles(rng, 0.6, 2.0)))


def flat_hide(rng: np.random.Generator, ppc: float, material: str = "salted_hide", fur: bool = True,
              claws: bool = True) -> ItemBuilder:
    """A whole flayed skin laid flat or folded once along the spine: the full outline with legs and
    tail, claws at the four paws, fur."""
    W, H = rng.uniform(30, 55), rng.uniform(20, 36)  # a cub's, a leopard's or a small cat's skin
    b = ItemBuilder(W + 10, H + 10, ppc)
    cx, cy = (W + 10) / 2, (H + 10) / 2
    t = b.polygon(None, hide_outline(rng, cx, cy, W / 2, H / 2), rng.uniform(0.3, 0.6), round_cm=0.2)
    folded = rng.random() < 0.5
    if folded:  # the lower half laid over the upper: twice the hide, legs doubled
        row = int(round(cy * ppc))
        top = t[:row].copy()
        below = t[row:row + row][::-1]
        top[row - len(below):] += below
        t = np.zeros_like(t)
        t[:row] = top
    t = b.warp(rng, t, rng.uniform(6, 12), rng.uniform(0.3, 0.8))
    b.add(material, t * (0.9 + 0.2 * b.wrinkles(rng, 4.0)))
    if fur:
        _fur(b, rng, t, 2.0 if folded else 1.0)
    if claws:
        for fa in _LEGS:
            x, y = _outline_point(cx, cy, W / 2, H / 2, fa, 1.35)  # inside the flap's tip
            if folded and y > cy:
                y = 2 * cy - y  # that paw now lies on the upper half
            if 0 < x < W + 10 and 0 < y < H + 10:
                _claws(b, rng, x, y, math.atan2(y - cy, x - cx))
    return b


def folded_hide(rng: np.random.Generator, ppc: float, material: str = "salted_hide", fur: bool | None = None,
                claws: bool = True, animal: bool = True) -> ItemBuilder:
    """A skin folded into a bundle: 4-8 layers, each fold a crisp step, a leg flap with its claws
    and the tail hanging out of the bundle (``animal=False``: no flap or tail, folded leather)."""
    W, H = rng.uniform(16, 36), rng.uniform(12, 26)
    layers = int(rng.integers(4, 9))
    b = ItemBuilder(W + 12, H + 12, ppc)
    cx, cy = (W + 12) / 2, (H + 12) / 2
    skin_t = rng.uniform(0.3, 0.6)
    fur = (rng.random() < 0.7) if fur is None else fur
    total = np.zeros((b.h, b.w), np.float32)
    for k in range(layers):
        shrink = 1 - 0.06 * k
        ox, oy = cx + rng.normal(0, W * 0.03), cy + rng.normal(0, H * 0.03)
        total += b.rect(None, ox - W / 2 * shrink, oy - H / 2 * shrink, W * shrink, H * shrink, skin_t,
                        round_cm=rng.uniform(0.5, 2.0))
    # what hangs out: a leg flap (with claws) on one side, the tail on another
    side = rng.uniform(0, 2 * math.pi)
    claws = claws and animal
    ex, ey = cx + math.cos(side) * W * 0.45, cy + math.sin(side) * H * 0.45
    fx, fy = ex + math.cos(side) * rng.uniform(5, 8), ey + math.sin(side) * rng.uniform(5, 8)
    if animal:
        total += b.tube(None, [(ex, ey), (fx, fy)], [2.8, 2.0], depth_scale=skin_t / 4.0)  # a flattened leg flap
    tail_a = side + rng.uniform(1.5, 4.5)
    tx, ty = cx + math.cos(tail_a) * W * 0.4, cy + math.sin(tail_a) * H * 0.4
    tail = [(tx + math.cos(tail_a) * d, ty + math.sin(tail_a) * d + 2 * math.sin(d / 4)) for d in np.linspace(0, 12, 6)]
    if animal:
        total += b.tube(None, tail, np.linspace(1.5, 0.8, 6), depth_scale=0.5)
    total = b.warp(rng, total, rng.uniform(5, 10), rng.uniform(0.3, 0.8))
    b.add(material, total * (0.9 + 0.2 * b.wrinkles(rng, 4.0)))
    if fur:
        _fur(b, rng, total, np.clip(total / skin_t, 0, layers))
    if claws:
        _claws(b, rng, fx, fy, side)
    return b


def rolled_hide(rng: np.random.Generator, ppc: float, material: str = "salted_hide") -> ItemBuilder:
    """A hide rolled fur-in into a cylinder: the spiral's layers seen edge-on give bright stripes
    along the roll, fur between them; ragged ends, a paw with claws sticking out of one end."""
    L = rng.uniform(20, 42)
    R = rng.uniform(3, 7)
    h = rng.uniform(0.3, 0.6)
    b = ItemBuilder(L + 10, 2 * R + 4, ppc)
    y = R + 2
    for k in range(int(R / (h * 2.2))):
        ro = R - k * h * 2.2  # each turn: hide, then its fur
        x0, x1 = 2 + rng.uniform(0, 1.5), L + 2 - rng.uniform(0, 1.5)
        outer = b.tube(None, [(x0, y), (x1, y)], [ro, ro])
        inner = b.tube(None, [(x0, y), (x1, y)], [max(ro - h, 0.01)] * 2)
        core = b.tube(None, [(x0, y), (x1, y)], [max(ro - 2.2 * h, 0.01)] * 2)
        b.add(material, outer - inner)
        b.add("fur_hair", (inner - core) * b.smooth_noise(rng, 1.0, 0.5, 1.0))
    paw_y = y + rng.uniform(-0.6, 0.6) * R
    b.tube(material, [(L + 1, paw_y), (L + 6, paw_y + rng.uniform(-1, 1))], [1.5, 1.0], depth_scale=0.5)
    _claws(b, rng, L + 6.5, paw_y, 0.0)
    if rng.random() < 0.6:  # tied with string (polypropylene)
        for x in np.linspace(4, L - 2, int(rng.integers(1, 4))):
            b.rect("polypropylene", float(x), 1.5, 0.3, 2 * R + 1, 2 * R * 0.3)
    return b


def reptile_skin(rng: np.random.Generator, ppc: float, material: str = "raw_hide",
                 bony: bool | None = None) -> ItemBuilder:
    """A crocodile back skin folded in 2-4 (rows of osteoderm plates down its middle) or a python
    skin (thin, with a fine diamond scale lattice) folded into a long flat pack."""
    bony = (rng.random() < 0.6) if bony is None else bony
    L, W = (rng.uniform(24, 45), rng.uniform(10, 22)) if bony else (rng.uniform(25, 50), rng.uniform(8, 16))
    folds = int(rng.integers(2, 5)) if bony else int(rng.integers(4, 9))
    b = ItemBuilder(L + 4, W + 4, ppc)
    skin = np.zeros((b.h, b.w), np.float32)
    for k in range(folds):  # layers of a strip folded back and forth: steps at both ends
        inset = k * rng.uniform(0.5, 1.5)
        skin += b.rect(None, 2 + inset, 2 + 0.3 * k, L - 2 * inset, W - 0.6 * k, rng.uniform(0.15, 0.3),
                       round_cm=0.5)
    cell = rng.uniform(0.6, 1.4) if bony else rng.uniform(0.5, 1.0)
    u, v = (b.X + b.Y) / cell, (b.X - b.Y) / cell
    lattice = np.minimum(np.abs(np.sin(np.pi * u)), np.abs(np.sin(np.pi * v)))
    b.add(material, skin * (0.7 + 0.5 * lattice))
    if bony:  # 4-6 columns of plates 1.5-3 cm (2-4 mm thick) down the back, about half the width
        cols = int(rng.integers(4, 7))
        plate = min(rng.uniform(1.5, 3.0), 0.5 * W / (cols * 1.25))
        y0 = 2 + W / 2 - cols * plate * 0.62
        for c in range(cols):
            for x in np.arange(3.5, L, plate * 1.25):
                b.rect("osteoderm", float(x), y0 + c * plate * 1.25, plate, plate * 0.9,
                       rng.uniform(0.2, 0.4), round_cm=0.3)
    return b
