"""Ivory: tusks, tusk sections, carvings, a bangle, a bead string, a bundle of chopsticks, a seal.

Each generator draws ONE object, except the bead string and the chopstick bundle (defined groups,
docs/internals.md: ``meta["group"]``). Every shape takes its material, so decoys reuse it in resin,
wood or plastic. Sizes: tusks of young and forest elephants 30-60 cm, 4-9 cm across at the lip,
curving and slightly spiralling; the pulp cavity is a cone in the basal quarter to third, its
wall thin at the lip; bangles 6-9 cm across; seals (hanko) 1.2-2 cm x 5-7 cm. On scans solid
dentine is a dense, even green that tapers to a blunt point, lighter where the cavity is.
"""

from __future__ import annotations

import math

import numpy as np

from wildxray.xray.content.builder import ItemBuilder, builder_around, curve3d
from wildxray.xray.content.solids3d import random_rotation, rotation


def _tusk_geometry(rng: np.random.Generator, length: float, r_base: float, n: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Body-frame points of a curving, slightly spiralling tusk and its radii (lip to tip)."""
    s = np.linspace(0, 1, n)
    pts = curve3d(length, rng.uniform(0.3, 0.9), n, twist=rng.uniform(-0.12, 0.12))
    radii = r_base * (1 - 0.88 * s ** rng.uniform(1.3, 1.8))
    return pts, radii


def tusk(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory", cavity: bool = True) -> ItemBuilder:
    """A whole tusk: curved, tapering, lying at a tilt; its conical pulp cavity opens at the lip
    (``cavity=False`` for a cast resin copy, which is solid)."""
    length = rng.uniform(22, 60)
    r_base = float(np.clip(length * rng.uniform(0.06, 0.09), 1.5, 4.5))  # thicker with length
    n = 12
    body, radii = _tusk_geometry(rng, length, r_base, n)
    R = random_rotation(rng, 25)
    b, pts = builder_around(body @ R.T, r_base + 1, ppc)
    b.tube3d(material, pts, radii)
    if cavity:
        k = max(3, int(round(n * rng.uniform(0.25, 0.38))))
        lip_wall = rng.uniform(0.12, 0.3) * r_base
        cav = np.linspace(r_base - lip_wall, 0.05, k)
        b.carve(material, b.tube3d(None, pts[:k], cav))
    return b


def tusk_section(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """A piece 6-25 cm sawn from a tusk: from the base it is a hollow ring in section, from
    further along solid; short pieces often lie on end (seen as a disc or a ring)."""
    length, r = rng.uniform(6, 25), rng.uniform(2.0, 4.5)
    n = 5
    body = curve3d(length, rng.uniform(0.0, 0.2), n)
    radii = np.linspace(r, r * rng.uniform(0.75, 0.95), n)
    R = random_rotation(rng, 75 if length < 12 else 30)
    b, pts = builder_around(body @ R.T, r + 1, ppc)
    outer = b.tube3d(None, pts, radii)
    if rng.random() < 0.5:  # cut from the hollow base: cavity through it, narrowing
        inner = b.tube3d(None, pts, np.linspace(r * rng.uniform(0.5, 0.75), r * 0.2, n))
        outer = np.maximum(outer - inner, 0.0)
    b.add(material, outer)
    return b


def figurine(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """A statuette: base, body, head and arms carved from one piece (parts overlap: one object),
    with carved-out relief."""
    h = rng.uniform(8, 22)
    w = h * rng.uniform(0.35, 0.6)
    b = ItemBuilder(w + 2, h + 2, ppc)
    cx = (w + 2) / 2
    base_h = h * rng.uniform(0.08, 0.14)
    base_top = h + 1 - base_h
    b.rect(material, cx - w / 2, base_top, w, base_h, w * 0.6, round_cm=0.4)
    body_h = h * rng.uniform(0.45, 0.6)
    body_cy = base_top - body_h / 2 + 0.3
    b.ellipsoid(material, cx, body_cy, w * 0.4, body_h / 2, w * 0.7)
    head_r = min(w * rng.uniform(0.2, 0.28), (body_cy - body_h / 2 - 1) / 1.6 + 0.4)
    head_cy = body_cy - body_h / 2 - head_r * 0.7
    b.ellipsoid(material, cx, head_cy, head_r, head_r * 1.1, head_r * 1.8)
    for side in (-1, 1):
        if rng.random() < 0.7:
            sx, sy = cx + side * w * 0.3, body_cy - body_h * 0.3
            b.tube(material, [(sx, sy), (sx + side * w * 0.12, body_cy + body_h * 0.1)], [w * 0.09, w * 0.07])
    for _ in range(int(rng.integers(2, 6))):  # carved-out relief, shallow: never through the piece
        b.carve(material, b.ellipsoid(None, cx + rng.uniform(-w / 4, w / 4), rng.uniform(body_cy - body_h / 3,
                                      body_cy + body_h / 3), rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.8),
                                      rng.uniform(0.2, 0.5) * w))
    return b


def carved_tusk(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """A small tusk carved along its length (a procession of figures, a dragon): the tusk's
    taper and curve with its thickness cut into bands of relief."""
    length, r_base = rng.uniform(18, 40), rng.uniform(1.8, 3.5)
    n = 24
    body, radii = _tusk_geometry(rng, length, r_base, n)
    s = np.linspace(0, 1, n)
    radii = radii * (1 - 0.18 * (np.sin(2 * np.pi * rng.uniform(4, 8) * s + rng.uniform(0, 6)) > 0.3) * (s < 0.9))
    R = random_rotation(rng, 20)
    b, pts = builder_around(body @ R.T, r_base + 1, ppc)
    t = b.tube3d(None, pts, radii)
    b.add(material, t * b.smooth_noise(rng, 0.8, 0.75, 1.0))  # relief: uneven depth of the carving
    return b


def carving(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    return figurine(rng, ppc, material) if rng.random() < 0.55 else carved_tusk(rng, ppc, material)


def bangle(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """One thick bangle lying flat or tilted (a foreshortened ring, denser where it is seen along
    its tube)."""
    R_ring, r = rng.uniform(3.0, 4.5), rng.uniform(0.4, 0.9)
    pose = rotation(0, rng.uniform(-65, 65), rng.uniform(-20, 20))
    ring = [pose @ np.array([R_ring * math.cos(a), R_ring * math.sin(a), 0.0])
            for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]  # 16 sides: within 0.1 cm of a circle
    b, pts = builder_around(np.array(ring), r + 0.8, ppc)
    b.tube3d(material, pts, r, closed=True)
    return b


def beads(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """A bead string (group): 25-100 beads touching along a loose, wandering loop on a thread."""
    n = int(rng.integers(25, 100))
    r = rng.uniform(0.3, 0.7)
    loop = n * 2 * r * 1.02 / (2 * math.pi)
    rx, ry = loop * rng.uniform(0.8, 1.3), loop * rng.uniform(0.3, 0.8)
    b = ItemBuilder(2 * rx + 4, 2 * ry + 4, ppc)
    phase = rng.uniform(0, 2 * math.pi, 3)
    a = np.linspace(0, 2 * math.pi, 4 * n)
    wob = 1 + 0.15 * np.sin(3 * a + phase[0]) + 0.08 * np.sin(5 * a + phase[1])
    path = np.stack([rx + 2 + rx * wob * np.cos(a) / 1.2, ry + 2 + ry * wob * np.sin(a) / 1.2], 1)
    seg = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    b.small_solids("polyester_fabric", tubes=[([tuple(p) for p in path[::6]], 0.05)])  # the thread
    d = np.arange(0, seg[-1] - r, 2 * r * 1.02)
    xs, ys = np.interp(d, seg, path[:, 0]), np.interp(d, seg, path[:, 1])
    beads = [(float(x), float(y), r, r, 2 * r) for x, y in zip(xs, ys)]
    if rng.random() < 0.5:  # a pendant / guru bead
        x, y = path[len(path) // 4]
        beads.append((float(x), float(y) + 1.2 * r, 1.5 * r, 2 * r, 2.5 * r))
    b.small_solids(material, ellipsoids=beads)  # each bead in its own window
    b.meta["group"] = True
    return b


def chopsticks(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """A bundle (group) of 2-12 tapered square rods, 22-27 cm, lying against each other with a
    little splay."""
    n = int(rng.integers(2, 13))
    length = rng.uniform(22, 27)
    w0 = rng.uniform(0.6, 0.8)
    b = ItemBuilder(length + 2, n * w0 + 3, ppc)
    for k in range(n):
        y = 1.5 + k * w0 * 0.95  # touching: a bundle, not a row of separate sticks
        w1 = rng.uniform(0.3, 0.45)
        dy = rng.uniform(-0.3, 0.3)
        pts = [(1, y - w0 / 2), (1 + length, y + dy - w1 / 2), (1 + length, y + dy + w1 / 2), (1, y + w0 / 2)]
        b.polygon(material, pts, w0 * 0.9, round_cm=0.1)
    b.meta["group"] = True
    return b


def seal(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """One name seal: a round or square column with a carved knob, at any pose (on end it is a
    dense disc)."""
    r, L = rng.uniform(0.6, 1.0), rng.uniform(5, 7)
    R = random_rotation(rng, 80)
    axis = np.array([[0, 0, 0], [L, 0, 0], [L + 0.6 * r, 0, 0]], float) @ R.T
    b, pts = builder_around(axis, 1.8 * r + 0.5, ppc)
    b.tube3d(material, pts[:2], r)
    b.ellipsoid3d(material, tuple(pts[2]), (0.9 * r, 1.2 * r, 1.2 * r), R)  # the knob
    return b
