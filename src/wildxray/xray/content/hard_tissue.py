"""Shapes of ivory, horn and bone items (also reused with decoy materials by ``decoys``).

Sizes follow seizure reports and anatomy: tusks of young elephants 30-60 cm, bangles 6-9 cm
across, rhino front horns 15-35 cm, tiger femurs ~30 cm, skulls 25-35 cm. Each function returns an
un-built ``ItemBuilder`` so the same shape can be made of ivory (contraband) or resin (decoy).
"""

from __future__ import annotations

import math

import numpy as np

from wildxray.xray.content.builder import ItemBuilder, arc_points, blob_outline


def tusk(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory", section: bool = False) -> ItemBuilder:
    """Curved tapering cone with a conical pulp cavity at the base; ``section`` cuts a 8-20 cm piece."""
    length = rng.uniform(8, 20) if section else rng.uniform(28, 55)
    r_base = rng.uniform(2.0, 4.2)
    bend = rng.uniform(0.0, 0.5) if not section else rng.uniform(0.0, 0.1)
    radius = length / max(bend, 1e-3)
    n = 12
    if bend > 0.02:
        pts = arc_points(0, 0, radius, math.pi / 2, math.pi / 2 - bend, n)
        pts = [(x - pts[0][0], y - pts[0][1]) for x, y in pts]
    else:
        pts = [(length * k / (n - 1), 0.0) for k in range(n)]
    xs, ys = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    pad = r_base + 1
    pts = [(x - xs.min() + pad, y - ys.min() + pad) for x, y in zip(xs, ys)]
    s = np.linspace(0, 1, n)
    tip_r = rng.uniform(0.4, 0.9) * r_base if section else 0.25
    radii = r_base + (tip_r - r_base) * s ** 1.3
    b = ItemBuilder(np.ptp(xs) + 2 * pad, np.ptp(ys) + 2 * pad, ppc)
    b.tube(material, pts, radii, depth_scale=rng.uniform(0.85, 1.0))
    cavity = rng.uniform(0.3, 0.6) if not section else rng.uniform(0.0, 1.0)
    if cavity > 0.05:  # pulp cavity: hollow cone from the base, wall ~1/3 of the radius
        k = max(2, int(n * cavity))
        cav_r = np.linspace(r_base * 0.6, 0.05, k)
        b.carve(material, b.tube(None, pts[:k], cav_r))
    return b


def figurine(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """Carving: stacked ellipsoids (base, body, head, arms) like a statuette or an animal."""
    h = rng.uniform(8, 22)
    w = h * rng.uniform(0.35, 0.7)
    b = ItemBuilder(w + 2, h + 2, ppc)
    cx = (w + 2) / 2
    base_h = h * rng.uniform(0.08, 0.15)
    b.rect(material, cx - w / 2, h + 1 - base_h, w, base_h, w * 0.6, round_cm=0.4)
    body_h = h * rng.uniform(0.4, 0.55)
    b.ellipsoid(material, cx, h + 1 - base_h - body_h / 2, w * 0.42, body_h / 2, w * 0.7)
    head_r = w * rng.uniform(0.2, 0.3)
    b.ellipsoid(material, cx, 1 + head_r + (h - base_h - body_h - 2 * head_r) * 0.5, head_r, head_r * 1.1, head_r * 1.8)
    for side in (-1, 1):
        if rng.random() < 0.7:
            ax = cx + side * w * 0.38
            b.tube(material, [(ax, h * 0.35), (ax + side * w * 0.1, h * 0.6)], [w * 0.09, w * 0.07])
    for _ in range(rng.integers(2, 6)):  # carved-out relief
        b.carve(material, b.ellipsoid(None, cx + rng.uniform(-w / 3, w / 3), rng.uniform(2, h), rng.uniform(0.3, 1.0),
                                      rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.2)))
    return b


def bangle(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """A thick bangle, lying flat or tilted (torus-like), sometimes a stack of 2-4."""
    R = rng.uniform(3.0, 4.2)
    r = rng.uniform(0.4, 0.9)
    n = int(rng.integers(1, 4))
    squash = rng.uniform(0.35, 1.0)
    b = ItemBuilder(2 * (R + r) + 1 + 1.5 * (n - 1), 2 * (R + r) * squash + 1 + 1.5 * (n - 1), ppc)
    for k in range(n):
        b.torus(material, R + r + 0.5 + 1.5 * k, (R + r) * squash + 0.5 + 1.5 * k, R, r, squash)
    return b


def beads(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """A strand of 25-80 spheres along a loose closed curve (a necklace or prayer beads)."""
    n = int(rng.integers(25, 80))
    r = rng.uniform(0.35, 0.7)
    loop = n * 2 * r * 1.05 / (2 * math.pi)
    rx, ry = loop * rng.uniform(0.8, 1.3), loop * rng.uniform(0.35, 0.8)
    b = ItemBuilder(2 * rx + 3, 2 * ry + 3, ppc)
    phase = rng.uniform(0, 2 * math.pi, 3)
    for k in range(n):
        a = 2 * math.pi * k / n
        wob = 1 + 0.12 * math.sin(3 * a + phase[0])
        b.ellipsoid(material, rx + 1.5 + rx * wob * math.cos(a), ry + 1.5 + ry * wob * math.sin(a), r, r, 2 * r)
    if rng.random() < 0.5:  # a pendant / guru bead
        b.ellipsoid(material, rx + 1.5, 2 * ry + 1.5, 1.5 * r, 2 * r, 2.5 * r)
    b.meta["group"] = True  # a bead string: one group box (docs/internals.md)
    return b


def chopsticks(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """Bundles of tapered square rods, 22-27 cm, side by side with a little splay."""
    n = int(rng.integers(2, 11))
    length = rng.uniform(22, 27)
    b = ItemBuilder(length + 2, n * 1.0 + 3, ppc)
    for k in range(n):
        y = 1.5 + k * rng.uniform(0.75, 1.0)
        w0, w1 = rng.uniform(0.6, 0.8), rng.uniform(0.3, 0.45)
        dy = rng.uniform(-0.4, 0.4)
        pts = [(1, y - w0 / 2), (1 + length, y + dy - w1 / 2), (1 + length, y + dy + w1 / 2), (1, y + w0 / 2)]
        b.polygon(material, pts, w0 * 0.9, round_cm=0.1)
    b.meta["group"] = True  # a bundle of chopsticks: one group box (docs/internals.md)
    return b


def seals(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """Name seals (hanko): 1-6 cylinders of 1.2-2 cm diameter, 5-7 cm long."""
    n = int(rng.integers(1, 7))
    b = ItemBuilder(9, 2.5 * n + 1, ppc)
    for k in range(n):
        r = rng.uniform(0.6, 1.0)
        y = 1.2 + 2.4 * k
        b.tube(material, [(1, y), (1 + rng.uniform(5, 7), y)], [r, r])
    return b


def whole_horn(rng: np.random.Generator, ppc: float, material: str = "rhino_horn") -> ItemBuilder:
    """Rhino front horn: a curved, laterally flattened cone with a broad oval base."""
    length = rng.uniform(15, 35)
    base = rng.uniform(5, 9)
    bend = rng.uniform(0.2, 0.7)
    pts = arc_points(0, 0, length / bend, math.pi / 2, math.pi / 2 - bend, 10)
    xs, ys = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    pad = base + 1
    pts = [(x - xs.min() + pad, y - ys.min() + pad) for x, y in zip(xs, ys)]
    radii = base * (1 - np.linspace(0, 1, 10)) ** 0.8 + 0.3
    b = ItemBuilder(np.ptp(xs) + 2 * pad, np.ptp(ys) + 2 * pad, ppc)
    b.tube(material, pts, radii, depth_scale=rng.uniform(0.6, 0.9))
    b.parts[material] *= b.smooth_noise(rng, 2.0, 0.88, 1.0)  # fibrous, uneven surface
    return b


def horn_pieces(rng: np.random.Generator, ppc: float, material: str = "rhino_horn") -> ItemBuilder:
    """2-8 irregular chunks 3-9 cm, cut from a horn."""
    n = int(rng.integers(2, 9))
    span = 6 + 4 * math.sqrt(n)
    b = ItemBuilder(span + 4, span + 4, ppc)
    for _ in range(n):
        cx, cy = rng.uniform(4, span), rng.uniform(4, span)
        rx, ry = rng.uniform(1.5, 4.5), rng.uniform(1.2, 3.5)
        b.polygon(material, blob_outline(rng, cx, cy, rx, ry, n=7, jitter=0.3), rng.uniform(1.5, 4.0), round_cm=1.0)
    return b


def horn_powder_vials(rng: np.random.Generator, ppc: float, material: str = "horn_powder") -> ItemBuilder:
    """3-10 small glass vials of ground horn, in a row or a loose cluster."""
    n = int(rng.integers(3, 11))
    b = ItemBuilder(3 * n + 2, 10, ppc)
    for k in range(n):
        r, L = rng.uniform(0.8, 1.3), rng.uniform(5, 8)
        x = 1.5 + k * 2.9
        pts = [(x, 1.5), (x, 1.5 + L)]
        b.hollow_tube("soda_lime_glass", pts, [r, r], 0.1, fill=None)
        level = rng.uniform(0.4, 0.9)
        b.tube(material, [(x, 1.5 + L * (1 - level)), (x, 1.5 + L)], [r - 0.1, r - 0.1])
        b.rect("polypropylene", x - r, 1.0, 2 * r, 0.8, 2 * r)  # cap
    return b


def long_bone(rng: np.random.Generator, ppc: float, material: str = "cortical_bone") -> ItemBuilder:
    """Femur/humerus: cortical shaft with a marrow cavity, spongy epiphyses with a thin cortex."""
    length = rng.uniform(14, 38)
    r = length * rng.uniform(0.045, 0.07)
    b = ItemBuilder(length + 2 * 2.2 * r + 2, 5 * r + 2, ppc)
    y = 2.5 * r + 1
    x0, x1 = 1 + 2.2 * r, 1 + 2.2 * r + length
    sag = rng.uniform(-0.4, 0.4) * r
    pts = [(x0, y), ((x0 + x1) / 2, y + sag), (x1, y)]
    b.hollow_tube(material, pts, [r, 0.85 * r, r], wall=r * rng.uniform(0.3, 0.45), fill="soft_tissue")
    for x, sx in ((x0, -1), (x1, 1)):
        heads = 2 if rng.random() < 0.5 else 1  # condyles
        for k in range(heads):
            dy = (k - (heads - 1) / 2) * 1.6 * r
            b.shell_ellipsoid(material, x + sx * 0.8 * r, y + dy, 1.3 * r, 1.2 * r, 2.2 * r, 0.15 * r, fill="spongy_bone")
    return b


def skull(rng: np.random.Generator, ppc: float, material: str = "cortical_bone") -> ItemBuilder:
    """Big-cat skull seen from above: vault shell, zygomatic arches, muzzle, canines, orbits."""
    L = rng.uniform(18, 34)
    W = L * rng.uniform(0.62, 0.75)
    b = ItemBuilder(L + 3, W + 3, ppc)
    cx, cy = 1.5 + L * 0.6, 1.5 + W / 2
    b.shell_ellipsoid(material, cx, cy, L * 0.38, W * 0.3, W * 0.55, wall=0.45, fill=None)
    b.shell_ellipsoid(material, 1.5 + L * 0.2, cy, L * 0.2, W * 0.2, W * 0.35, wall=0.5, fill="spongy_bone", fill_level=0.3)
    for side in (-1, 1):  # zygomatic arches
        pts = arc_points(cx - L * 0.05, cy, W * 0.48, math.pi * (1 - side * 0.62), math.pi * (1 - side * 0.3), 6)
        pts = [(x, cy + (yy - cy)) for x, yy in pts]
        b.tube(material, pts, 0.55)
        b.carve(material, b.ellipsoid(None, cx - L * 0.2, cy + side * W * 0.22, L * 0.09, W * 0.12, W * 0.3))
        b.tube("dentine_ivory", [(1.5 + L * 0.08, cy + side * W * 0.13), (1.0, cy + side * W * 0.16)], [0.7, 0.2])
    if rng.random() < 0.6:  # mandible (U shape)
        pts = arc_points(1.5 + L * 0.55, cy, W * 0.42, math.pi * 0.55, math.pi * 1.45, 9)
        b.tube(material, pts, 0.7, depth_scale=1.6)
    return b


def claws(rng: np.random.Generator, ppc: float, material: str = "keratin") -> ItemBuilder:
    """A set of 3-12 hooked claws (keratin sheath over a bone core), or loose canine teeth."""
    n = int(rng.integers(3, 13))
    b = ItemBuilder(4 * min(n, 6) + 3, 5 * math.ceil(n / 6) + 3, ppc)
    teeth = material == "dentine_ivory"
    for k in range(n):
        ox, oy = 1.5 + 4 * (k % 6) + rng.uniform(-0.5, 0.5), 1.5 + 5 * (k // 6) + rng.uniform(-0.5, 0.5)
        L = rng.uniform(3, 7) if teeth else rng.uniform(3, 5.5)
        a0 = rng.uniform(0, 2 * math.pi)
        pts = arc_points(ox + L / 2, oy + L / 2, L / 2, a0, a0 + rng.uniform(1.0, 1.8), 6)
        r0 = L * (0.16 if teeth else 0.22)
        radii = np.linspace(r0, 0.05, 6)
        b.tube(material, pts, radii)
        if not teeth:
            b.tube("cortical_bone", pts[:4], radii[:4] * 0.55)
    return b


def teeth(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    return claws(rng, ppc, material)
