"""Benign parcel contents: 18 kinds of everyday items with their real material mix.

Dimensions from retail catalogues (phones 15x7 cm, laptops 30-36 cm, 0.5-1.5 l bottles, ...).
"""

from __future__ import annotations

import math

import numpy as np

from wildxray.xray.content.builder import ItemBuilder, arc_points, blob_outline


def clothes(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """A garment as it lies in a parcel: folded into a flat stack, or crumpled.

    Folded: the body panel plus panels folded over it (sleeves, a half fold), each fold adding a
    layer with a crisp edge, hems and seams as thicker strips, a collar ring; this layered,
    stepped look is what identifies clothes on a scan. Crumpled: an irregular outline with creases.
    Jeans get rivets, buttons and a zip.
    """
    W, H = rng.uniform(20, 38), rng.uniform(15, 30)
    b = ItemBuilder(W + 2, H + 2, ppc)
    mat = "cotton_fabric" if rng.random() < 0.6 else "polyester_fabric"
    layer = rng.uniform(0.4, 1.0)  # cm of bulk fabric per layer of the fold
    crease = b.wrinkles(rng, rng.uniform(2.5, 6.0))
    texture = 0.85 + 0.35 * crease
    if rng.random() < 0.7:  # folded flat: body, folded-in sides, a fold across
        t = b.rect(None, 1, 1, W, H, 2 * layer, round_cm=0.3)  # front and back
        side = rng.uniform(0.15, 0.3) * W
        t += b.rect(None, 1, 1, side, H, layer, round_cm=0.2)  # sleeves and sides folded in
        t += b.rect(None, 1 + W - side, 1, side, H, layer, round_cm=0.2)
        if rng.random() < 0.6:
            fold = rng.uniform(0.35, 0.65) * H
            t += b.rect(None, 1, 1, W, fold, layer * rng.uniform(1, 2), round_cm=0.3)
        hem = rng.uniform(0.6, 1.2)  # a frame of doubled fabric round the edge
        t += b.rect(None, 1, 1, W, H, layer * 0.5) - b.rect(None, 1 + hem, 1 + hem, W - 2 * hem, H - 2 * hem, layer * 0.5)
        if rng.random() < 0.5:  # collar of a folded shirt or jumper
            ring = b.ellipsoid(None, 1 + W / 2, 1 + H * 0.12, W * 0.14, H * 0.1, 1.0) > 0
            t += (ring & ~(b.ellipsoid(None, 1 + W / 2, 1 + H * 0.12, W * 0.1, H * 0.07, 1.0) > 0)) * layer * 1.5
        t = b.warp(rng, t, rng.uniform(6, 12), rng.uniform(0.4, 1.2))
    else:  # crumpled: an irregular heap, thicker towards the middle
        outline = blob_outline(rng, W / 2 + 1, H / 2 + 1, W / 2, H / 2, 12, 0.18)
        t = b.polygon(None, outline, layer * rng.uniform(3, 7), round_cm=rng.uniform(1.5, 4))
        t *= b.smooth_noise(rng, rng.uniform(3, 7), 0.6, 1.3)
    b.add(mat, t * texture)
    if rng.random() < 0.35:  # jeans hardware
        x, y = rng.uniform(3, W - 3), rng.uniform(3, H - 3)
        b.rect("brass", x, y, 0.6, rng.uniform(8, 15), 0.15, angle_deg=rng.uniform(0, 180))
        for _ in range(int(rng.integers(2, 6))):
            b.ellipsoid("brass", rng.uniform(1, W), rng.uniform(1, H), 0.45, 0.45, 0.3)
    elif rng.random() < 0.4:  # a shirt's buttons in a row
        x = 1 + W * rng.uniform(0.4, 0.6)
        for y in np.linspace(2, H - 1, int(rng.integers(4, 8))):
            b.ellipsoid("pmma", x, float(y), 0.55, 0.55, 0.3)
    return b


def _foot_outline(x0: float, y0: float, L: float, scale: float = 1.0) -> list[tuple[float, float]]:
    """Sole outline of length L (cm) from the heel at (x0, y0): heel, waist, ball and toe widths."""
    s = np.linspace(0.0, 1.0, 24)
    half = np.interp(s, [0.0, 0.04, 0.2, 0.45, 0.7, 0.88, 0.97, 1.0],
                     [0.05, 0.13, 0.15, 0.12, 0.19, 0.17, 0.1, 0.02]) * L * scale
    xs = x0 + (1 - scale) * L / 2 + s * L * scale
    top = [(float(x), y0 - float(h)) for x, h in zip(xs, half)]
    return top + [(float(x), y0 + float(h)) for x, h in zip(xs[::-1], half[::-1])]


def shoes(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """A pair of shoes seen from above: foot-shaped rubber soles with a tread, the upper's walls
    seen edge-on as a dark rim, a heel counter, eyelets in two rows, sometimes a steel shank."""
    L = rng.uniform(24, 31)
    b = ItemBuilder(L + 2, 2 * L * 0.42 + 3, ppc)
    upper = "leather" if rng.random() < 0.5 else "polyester_fabric"
    height = rng.uniform(6, 12)  # upper wall height: the path length where the beam grazes it
    for k in range(2):
        y = 1.5 + L * 0.2 + k * (L * 0.42 + 0.5)
        sole = _foot_outline(1, y, L)
        tread = 1.0 + 0.15 * (np.sin(2 * np.pi * b.X / rng.uniform(0.6, 1.2)) > 0.3)
        b.polygon("rubber", sole, rng.uniform(1.0, 2.0) * tread, round_cm=0.4)
        b.rect("rubber", 1, y - L * 0.12, L * 0.2, L * 0.24, rng.uniform(1.0, 2.5), round_cm=0.5)  # heel block
        outer, inner = (b.polygon(None, _foot_outline(1, y, L, k), height) for k in (0.98, 0.93))
        b.add(upper, np.maximum(outer - inner, 0.0) * 0.35)
        b.polygon(upper, _foot_outline(1, y, L, 0.95), 0.4)
        if rng.random() < 0.3:
            b.rect("iron", 1 + L * 0.22, y - 0.5, L * 0.3, 1.0, 0.15)
        for e in range(5):
            for side in (-1, 1):
                b.ellipsoid("brass", 1 + L * (0.5 + 0.05 * e), y + side * L * 0.05, 0.2, 0.2, 0.1)
    return b


def book(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """A book or magazine stack: uniform paper slab, spine, sometimes staples."""
    W, H = rng.uniform(13, 30), rng.uniform(18, 32)
    b = ItemBuilder(W + 2, H + 2, ppc)
    depth = rng.uniform(0.5, 5)
    pages = 1.0 + 0.06 * np.sin(2 * np.pi * b.Y / rng.uniform(0.25, 0.5))  # page edges, parallel to the spine
    b.rect("paper", 1.3, 1.3, W - 0.6, H - 0.6, depth * pages, round_cm=0.15)
    if rng.random() < 0.6:  # hard cover: two boards and a rounded spine
        b.rect("cardboard", 1, 1, W, H, 0.5)
        b.rect("cardboard", 1, 1, 0.8, H, depth * 0.9, round_cm=0.3)
    if rng.random() < 0.3:
        for y in (H * 0.3, H * 0.7):
            b.rect("iron", 1.2, y, 0.1, 1.2, 0.6)
    return b


def _pcb(b: ItemBuilder, rng: np.random.Generator, x: float, y: float, w: float, h: float) -> None:
    b.rect("fr4", x, y, w, h, 0.16)
    for _ in range(int(w * h / 3) + 3):  # chips, shields, solder joints
        cw, ch = rng.uniform(0.2, 1.5), rng.uniform(0.2, 1.5)
        b.rect(rng.choice(["solder", "epoxy", "iron"]), x + rng.uniform(0, w - cw), y + rng.uniform(0, h - ch), cw, ch,
               rng.uniform(0.02, 0.12))


def phone(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Smartphone: glass + aluminium frame, Li-ion pouch cell, logic board, camera, speaker magnet."""
    W, H = rng.uniform(6.5, 8), rng.uniform(14, 16.5)
    b = ItemBuilder(W + 1, H + 1, ppc)
    b.rect("soda_lime_glass", 0.5, 0.5, W, H, 0.12, round_cm=0.8)
    b.rect("aluminium", 0.5, 0.5, W, H, 0.1, round_cm=0.8)
    b.rect("aluminium", 0.6, 0.6, W - 0.2, H - 0.2, 0.25)
    b.carve("aluminium", b.rect(None, 0.9, 0.9, W - 0.8, H - 0.8, 0.25))  # frame: only the rim
    b.rect("li_ion_cell", 1.0, H * 0.38, W - 1.0, H * 0.5, 0.45, round_cm=0.2)
    _pcb(b, rng, 1.0, 1.0, W - 1.0, H * 0.33)
    b.ellipsoid("iron", 0.5 + W * 0.7, 2.0, 0.6, 0.6, 0.4)
    b.rect("iron", 0.5 + W / 2 - 0.8, H - 0.4, 1.6, 0.5, 0.4)
    return b


def laptop(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Laptop: aluminium/ABS case, cell pack, board, fan, keyboard plate, hinges."""
    W, H = rng.uniform(28, 36), rng.uniform(19, 25)
    b = ItemBuilder(W + 2, H + 2, ppc)
    case = "aluminium" if rng.random() < 0.5 else "abs"
    b.rect(case, 1, 1, W, H, 0.2 if case == "aluminium" else 0.6, round_cm=0.5)
    b.rect("soda_lime_glass", 1, 1, W, H, 0.05)
    # keyboard: a thin steel plate punched with key holes, ABS key caps over the holes
    plate = b.rect(None, 2, 2, W - 2, H * 0.5, 1.0)
    keys = (np.cos(2 * np.pi * b.X / 1.9) > -0.75) & (np.cos(2 * np.pi * b.Y / 1.9) > -0.75)  # 1.5 cm caps, 0.4 cm webs
    b.add("iron", plate * (1 - keys) * 0.015)
    b.add("abs", plate * keys * 0.35)
    if rng.random() < 0.5:  # 18650 cells in a row
        for k in range(int(rng.integers(3, 7))):
            b.tube("li_ion_cell", [(3 + k * 2.0, H - 6), (3 + k * 2.0, H - 0.5)], [0.9, 0.9])
    else:
        b.rect("li_ion_cell", 3, H * 0.62, W * 0.7, H * 0.3, 0.6, round_cm=0.3)
    _pcb(b, rng, W * 0.4, 2.0, W * 0.5, H * 0.45)
    b.shell_ellipsoid("aluminium", W * 0.8, H * 0.3, 3, 3, 1.0, 0.1)
    for x in (4, W - 4):
        b.rect("iron", x, 1.2, 2.5, 1.0, 0.8)
    return b


def bottle(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """A PET or glass bottle of water/oil/juice lying down, partly filled, with a cap."""
    L, r = rng.uniform(18, 32), rng.uniform(3, 4.5)
    glass = rng.random() < 0.35
    b = ItemBuilder(L + 2, 2 * r + 2, ppc)
    y = r + 1
    body = [(1 + L * 0.2, y), (1 + L, y)]
    neck = [(1, y), (1 + L * 0.2, y)]
    wall = 0.4 if glass else 0.04
    mat = "soda_lime_glass" if glass else "pet"
    liquid = str(rng.choice(["water", "cooking_oil", "honey", "water"]))
    b.hollow_tube(mat, body, [r, r], wall, fill=liquid)
    b.hollow_tube(mat, neck, [r * 0.35, r], wall)
    b.rect("polypropylene" if not glass else "aluminium", 0.5, y - r * 0.4, 1.2, r * 0.8, r * 0.6)
    return b


def can(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Drinks can (aluminium) or food tin (steel), full, standing or lying."""
    steel = rng.random() < 0.5
    r, L = (rng.uniform(3.5, 5), rng.uniform(7, 12)) if steel else (rng.uniform(3.2, 3.4), rng.uniform(11.5, 16))
    b = ItemBuilder(L + 2, 2 * r + 2, ppc)
    mat, wall = ("iron", 0.02) if steel else ("aluminium", 0.012)
    if rng.random() < 0.5:  # lying: side view with rims
        b.hollow_tube(mat, [(1, r + 1), (L + 1, r + 1)], [r, r], wall * 3, fill="water")
        for x in (1, L + 0.8):
            b.rect(mat, x, 1, 0.2, 2 * r, 2 * r * 0.05)
    else:  # standing: seen end-on, a disc of the full height
        outer = b.ellipsoid(None, r + 1, r + 1, r, r, 1.0) > 0
        inner = b.ellipsoid(None, r + 1, r + 1, r - 0.08, r - 0.08, 1.0) > 0
        b.add("water", inner * L * 0.95)
        b.add(mat, outer * 0.06)  # lid and bottom
        b.add(mat, (outer & ~inner) * L)
    return b


def tool(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """A hand tool: wrench, screwdriver, pliers or hammer (steel, with plastic or wood handles)."""
    kind = rng.choice(["wrench", "screwdriver", "pliers", "hammer"])
    L = rng.uniform(15, 30)
    b = ItemBuilder(L + 4, 10, ppc)
    if kind == "wrench":
        b.rect("stainless_steel", 3, 4.2, L - 4, 1.6, 0.5, round_cm=0.3)
        b.ellipsoid("stainless_steel", 3, 5, 2.0, 2.0, 0.8)
        b.carve("stainless_steel", b.rect(None, 1, 4.4, 2.5, 1.2, 1.0))
        b.ellipsoid("stainless_steel", L, 5, 1.7, 1.7, 0.8)
        b.carve("stainless_steel", b.ellipsoid(None, L, 5, 0.9, 0.9, 1.0))
    elif kind == "screwdriver":
        b.tube("stainless_steel", [(2, 5), (2 + L * 0.6, 5)], [0.25, 0.3])
        b.tube(str(rng.choice(["abs", "wood"])), [(2 + L * 0.55, 5), (2 + L, 5)], [1.2, 1.4])
    elif kind == "pliers":
        for s in (-1, 1):
            b.tube("stainless_steel", [(2, 5 + s * 0.3), (2 + L * 0.35, 5), (2 + L, 5 + s * 2.5)], [0.5, 0.6, 0.5], 0.6)
            b.tube("pvc", [(2 + L * 0.45, 5 + s * 1.0), (2 + L, 5 + s * 2.5)], [0.8, 0.8])
    else:
        b.tube("wood", [(2, 5), (2 + L, 5)], [1.1, 1.3], 0.8)
        b.rect("iron", L - 1, 1, 3, 8, 2.5, round_cm=0.3)
    return b


def cable(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """A coiled or tangled cable (copper cores in PVC), sometimes with a charger brick."""
    span = rng.uniform(10, 22)
    b = ItemBuilder(span + 4, span + 4, ppc)
    # a loosely coiled cable: a few loops of an ellipse whose radius and centre drift smoothly
    loops = rng.uniform(1.5, 4.0)
    t = np.linspace(0, 2 * np.pi * loops, int(loops * 24))
    drift = np.cumsum(rng.normal(0, 0.04, (len(t), 3)), axis=0)
    rad = span / 2 * (0.75 + 0.25 * np.sin(t * 0.37 + drift[:, 0]))
    cx, cy = span / 2 + 2 + span * 0.1 * np.sin(drift[:, 1]), span / 2 + 2 + span * 0.1 * np.sin(drift[:, 2])
    squash = rng.uniform(0.5, 1.0)
    walk = np.stack([cx + rad * np.cos(t), cy + rad * squash * np.sin(t)], 1)
    walk = np.clip(walk, 1, span + 3)
    pts = [tuple(p) for p in walk]
    r = rng.uniform(0.15, 0.35)
    b.tube("pvc", pts, r)
    b.tube("copper", pts, r * 0.35)
    if rng.random() < 0.5:
        x, y = pts[0]
        b.rect("abs", x - 2, y - 2, 4.5, 4, 3, round_cm=0.4)
        b.rect("copper", x - 1, y - 1, 2, 2, 1.5)
        b.rect("iron", x - 1.2, y - 0.6, 2.4, 1.2, 1.5)
    return b


def toy(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Plastic toy: body parts of ABS, AA cells, a small motor, sometimes a speaker."""
    S = rng.uniform(10, 25)
    b = ItemBuilder(S + 2, S + 2, ppc)
    for _ in range(int(rng.integers(2, 6))):
        b.shell_ellipsoid("abs", rng.uniform(S * 0.3, S * 0.7) + 1, rng.uniform(S * 0.3, S * 0.7) + 1,
                          rng.uniform(2, S * 0.35), rng.uniform(2, S * 0.35), rng.uniform(2, 6), 0.2)
    if rng.random() < 0.6:
        for k in range(int(rng.integers(1, 5))):
            b.tube("alkaline_cell", [(S * 0.4 + 1.5 * k, S * 0.3), (S * 0.4 + 1.5 * k, S * 0.3 + 5)], [0.7, 0.7])
        b.tube("copper", [(S * 0.3, S * 0.7), (S * 0.3 + 2, S * 0.7)], [0.6, 0.6])
    return b


def food(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Packed food: rice/pasta/coffee bag (granular), chocolate bars, a jar of honey, biscuits."""
    kind = rng.choice(["bag", "chocolate", "jar", "biscuits"])
    if kind == "bag":
        W, H = rng.uniform(12, 22), rng.uniform(15, 30)
        b = ItemBuilder(W + 2, H + 2, ppc)
        mat = str(rng.choice(["starch", "sugar", "coffee_beans"]))
        grain = b.smooth_noise(rng, 0.3, 0.75, 1.25)
        b.polygon(mat, blob_outline(rng, W / 2 + 1, H / 2 + 1, W / 2, H / 2, 10, 0.05), rng.uniform(3, 8) * grain, 2.0)
        b.add("polypropylene", b.polygon(None, blob_outline(rng, W / 2 + 1, H / 2 + 1, W / 2, H / 2, 10, 0.02), 0.01))
    elif kind == "chocolate":
        b = ItemBuilder(20, 12, ppc)
        for k in range(int(rng.integers(1, 4))):
            b.rect("chocolate", 1, 1 + k * 3.3, 17, 3, 1.0)
            b.rect("aluminium", 1, 1 + k * 3.3, 17, 3, 0.002)
    elif kind == "jar":
        r, L = rng.uniform(3.5, 5), rng.uniform(8, 14)
        b = ItemBuilder(2 * r + 2, 2 * r + 2, ppc)
        disc = (b.ellipsoid(None, r + 1, r + 1, r, r, 1.0) > 0).astype(np.float32)
        b.add(str(rng.choice(["honey", "water", "sugar"])), disc * L * 0.9)
        ring = disc - (b.ellipsoid(None, r + 1, r + 1, r - 0.4, r - 0.4, 1.0) > 0)
        b.add("soda_lime_glass", ring * L + disc * 0.8)
        b.add("iron", disc * 0.03)
    else:
        b = ItemBuilder(24, 8, ppc)
        b.tube("starch", [(1, 4), (23, 4)], [3.0, 3.0], 0.9)
        b.tube("polypropylene", [(0.5, 4), (23.5, 4)], [3.1, 3.1], 0.02)
    return b


def cosmetics(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Toiletries: small bottles and tubes of liquid, a lipstick, a razor, a mirror compact."""
    b = ItemBuilder(18, 14, ppc)
    for _ in range(int(rng.integers(2, 6))):
        x, y = rng.uniform(2, 14), rng.uniform(2, 10)
        r = rng.uniform(0.8, 2.5)
        b.hollow_tube(str(rng.choice(["pet", "polyethylene"])), [(x, y), (x + rng.uniform(4, 10) * 0.5, y)], [r, r], 0.08,
                      fill="water")
    if rng.random() < 0.5:
        b.tube("aluminium", [(2, 12), (8, 12)], [0.9, 0.9])
        b.tube("brass", [(2, 12), (4, 12)], [0.8, 0.8])
    return b


def umbrella(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Folded umbrella: steel shaft and ribs, fabric, plastic handle."""
    L = rng.uniform(24, 32)
    b = ItemBuilder(L + 2, 8, ppc)
    b.tube("polyester_fabric", [(2, 4), (L, 4)], [2.2, 1.2])
    b.tube("iron", [(1, 4), (L + 1, 4)], 0.25)
    for k in range(8):
        b.tube("iron", [(3, 4 + (k - 3.5) * 0.3), (L - 1, 4 + (k - 3.5) * 0.15)], 0.06)
    b.tube("abs", [(L - 2, 4), (L + 1, 4)], 1.3)
    return b


def keys_coins(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Keys on a ring and a handful of coins."""
    b = ItemBuilder(14, 10, ppc)
    b.torus("iron", 3, 3, 1.2, 0.1)
    for k in range(int(rng.integers(1, 5))):
        a = rng.uniform(0, 1.5)
        x1, y1 = 3 + 6 * math.cos(a), 3 + 6 * math.sin(a)
        b.tube(str(rng.choice(["brass", "iron"])), [(3.5, 3.5), (x1, y1)], 0.35, depth_scale=0.3)
        b.ellipsoid("brass", 3.5 + 1.2 * math.cos(a), 3.5 + 1.2 * math.sin(a), 1.2, 1.0, 0.2)
    for _ in range(int(rng.integers(0, 8))):
        r = rng.uniform(0.8, 1.4)
        b.add(str(rng.choice(["brass", "copper", "stainless_steel"])),
              (b.ellipsoid(None, rng.uniform(6, 12), rng.uniform(2, 8), r, r, 1.0) > 0) * 0.2)
    return b


def power_bank(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Power bank or hair dryer (motor windings, heating coil), both common in parcels."""
    b = ItemBuilder(22, 12, ppc)
    if rng.random() < 0.5:
        b.rect("aluminium", 1, 1, 15, 7.5, 0.15, round_cm=0.5)
        for k in range(int(rng.integers(2, 5))):
            b.tube("li_ion_cell", [(2, 2.2 + k * 1.9), (14, 2.2 + k * 1.9)], 0.9)
        _pcb(b, rng, 14, 1.5, 2, 6)
    else:
        b.shell_ellipsoid("abs", 8, 5, 7, 4, 8, 0.25)
        b.tube("abs", [(8, 8), (10, 11)], 1.5)
        b.tube("copper", [(3, 5), (6, 5)], 1.4)
        b.tube("iron", [(3, 5), (6, 5)], 0.6)
        for k in range(12):
            b.torus("iron", 10 + k * 0.35, 5, 2.0, 0.05, squash=0.3)
    return b


def glasses_case(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Spectacles case with glasses: hinge springs and lenses; or a wrist watch."""
    b = ItemBuilder(17, 8, ppc)
    b.shell_ellipsoid("abs", 8.5, 4, 7.5, 3, 4, 0.15)
    for x in (5, 12):
        b.ellipsoid("pmma", x, 4, 2.3, 1.9, 0.3)
    b.tube("stainless_steel", [(1.5, 3), (7, 3.2)], 0.1)
    b.tube("stainless_steel", [(10, 3.2), (15.5, 3)], 0.1)
    return b


def headphones(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Over-ear headphones: plastic band, two cups with neodymium/iron magnets and coils."""
    b = ItemBuilder(20, 20, ppc)
    b.tube("abs", arc_points(10, 11, 7.5, math.pi * 1.05, math.pi * 1.95, 10), 0.8, depth_scale=0.6)
    b.tube("iron", arc_points(10, 11, 7.5, math.pi * 1.05, math.pi * 1.95, 10), 0.15)
    for x in (3, 17):
        b.shell_ellipsoid("abs", x, 13, 3.2, 4, 4, 0.2)
        b.ellipsoid("iron", x, 13, 1.3, 1.3, 0.8)
        b.torus("copper", x, 13, 1.7, 0.2)
    return b


def hardware(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """A bag of loose hardware: threaded screws, nails and AA/AAA cells (steel can, zinc/MnO2 core)."""
    b = ItemBuilder(14, 10, ppc)
    for _ in range(int(rng.integers(3, 10))):
        x, y, a, L = rng.uniform(2, 12), rng.uniform(2, 8), rng.uniform(0, np.pi), rng.uniform(1.5, 5)
        p, q = (x, y), (x + L * math.cos(a), y + L * math.sin(a))
        b.tube("stainless_steel", [p, q], 0.18)
        b.ellipsoid("stainless_steel", x, y, 0.4, 0.4, 0.15)  # head
    for k in range(int(rng.integers(0, 5))):
        y = 1.5 + 1.5 * k
        b.tube("alkaline_cell", [(1.5, y), (6.5, y)], 0.7)
        b.tube("iron", [(1.3, y), (1.5, y)], 0.3)  # + terminal
    b.add("polyethylene", b.rect(None, 0.5, 0.5, 13, 9, 0.01))
    return b


CLUTTER = {
    "clothes": clothes, "shoes": shoes, "book": book, "phone": phone, "laptop": laptop, "bottle": bottle,
    "can": can, "tool": tool, "cable": cable, "toy": toy, "food": food, "cosmetics": cosmetics,
    "umbrella": umbrella, "keys_coins": keys_coins, "power_bank": power_bank, "glasses_case": glasses_case,
    "headphones": headphones, "hardware": hardware,
}
#: Relative frequency in parcels (clothes and books dominate real parcels).
CLUTTER_WEIGHTS = {"clothes": 5, "book": 2, "shoes": 1.5, "food": 2, "cosmetics": 1.5, "bottle": 1.5, "cable": 1.5}
