"""Parcel containers: cardboard boxes, padded envelopes and poly mailer bags.

A container is an ``Item`` with role "parcel" plus its interior rectangle (cm, patch frame).
Box walls parallel to the beam are seen edge-on, so a box shows a bright outline: the beam crosses
the whole wall height there (this is what makes parcel scans look like parcel scans).
"""

from __future__ import annotations

import numpy as np

from wildxray.xray.content.builder import Item, ItemBuilder

#: Outer sizes in cm (length along the belt, width across), from postal size classes.
SIZES = {"box": ((28, 62), (22, 46)), "envelope": ((24, 38), (18, 30)), "poly_bag": ((28, 56), (22, 44))}


def make_parcel(kind: str, rng: np.random.Generator, ppc: float, max_w_cm: float, max_h_cm: float
                ) -> tuple[Item, tuple[float, float, float, float]]:
    """A container and its usable interior (x0, y0, x1, y1) in cm of the returned patch."""
    if kind not in SIZES:
        raise ValueError(f"unknown parcel kind '{kind}'; known: {sorted(SIZES)}")
    (l0, l1), (w0, w1) = SIZES[kind]
    W = min(rng.uniform(l0, l1), max_w_cm - 1)
    H = min(rng.uniform(w0, w1), max_h_cm - 1)
    b = ItemBuilder(W, H, ppc)
    if kind == "box":
        wall = rng.uniform(0.3, 0.7)
        depth = rng.uniform(10, 35)
        b.rect("cardboard", 0, 0, W, H, 2 * wall)  # top and bottom flaps
        b.rect("cardboard", 0, 0, W, H, depth)  # side walls seen edge-on ...
        b.carve("cardboard", b.rect(None, wall, wall, W - 2 * wall, H - 2 * wall, depth))  # ... only at the rim
        for _ in range(int(rng.integers(1, 4))):  # packing tape
            y = rng.uniform(0, H - 5)
            b.rect("polypropylene", 0, y, W, 5, 0.01)
        if rng.random() < 0.3:  # staples
            for x in np.linspace(2, W - 2, int(rng.integers(2, 6))):
                b.rect("iron", float(x), wall * 0.3, 1.2, 0.08, 0.05)
        inner = (wall + 0.3, wall + 0.3, W - wall - 0.3, H - wall - 0.3)
        meta = {"depth_cm": depth}
    elif kind == "envelope":
        b.rect("paper", 0, 0, W, H, 0.03, round_cm=0.2)
        # bubble lining: a lattice of air bubbles in a polyethylene film
        cell = 1.0
        lattice = 0.5 + 0.5 * (np.cos(2 * np.pi * b.X / cell) * np.cos(2 * np.pi * b.Y / cell))
        b.add("polyethylene", (b.rect(None, 0.5, 0.5, W - 1, H - 1, 1.0) > 0) * (0.02 + 0.02 * lattice))
        inner = (1.0, 1.0, W - 1.0, H - 1.0)
        meta = {}
    else:
        wrinkles = b.smooth_noise(rng, 3.0, 0.5, 2.0)
        b.rect("polyethylene", 0, 0, W, H, 0.012 * wrinkles, round_cm=0.5)
        inner = (0.5, 0.5, W - 0.5, H - 0.5)
        meta = {}
    return b.build(f"parcel/{kind}", "parcel", None, **meta), inner
