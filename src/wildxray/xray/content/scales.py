"""Pangolin scales: heaps of individual shields, in a sack or loose (both defined groups).

A scale is a keratin shield 2.5-6.5 cm wide and up to 8 cm long, 1-2.5 mm thick, thicker at its embedded base and thin
at its rim (Wang et al. 2016, Acta Biomater 41:60; seizures: 0.5-25 kg per sack, ~3-8 g a scale).
In a heap each one lies at its own tilt: flat, it is a faint shield; steep, a foreshortened dark
sliver. Many such outlines overlapping, darker where they stack, is what a bag of scales looks
like on a scan. A heap is one group box (docs/internals.md, "Group boxes"): ``meta["group"]``.
"""

from __future__ import annotations

import math

import numpy as np

from wildxray.xray.content.builder import ItemBuilder, blob_outline
from wildxray.xray.content.solids3d import rotation

#: the shield in its own plane, for a unit width: broad rounded base (-v), pointed free tip (+v)
_SHIELD = np.array([(math.sin(a) * 0.5 * (1.0 - 0.6 * max(math.cos(a), 0.0) ** 3),
                     -math.cos(a) * (0.42 if math.cos(a) > 0 else 0.55))
                    for a in np.linspace(0, 2 * math.pi, 17)[:-1]])


def shield_outline(rng: np.random.Generator, width: float) -> np.ndarray:
    """[16, 2] cm: one scale's outline, a little irregular (scales differ by body region)."""
    aspect = rng.uniform(0.85, 1.2)  # up to ~8 cm long
    wobble = 1 + rng.uniform(-0.06, 0.06, (len(_SHIELD), 1))
    return _SHIELD * wobble * np.array([width, width * aspect])


def _heap(b: ItemBuilder, rng: np.random.Generator, material: str, n: int, cx: float, cy: float,
          rx: float, ry: float) -> None:
    """``n`` scales heaped about (cx, cy): positions denser towards the middle, random tilts."""
    shields = []
    for _ in range(n):
        width = rng.uniform(2.5, 6.5)
        rho, phi = math.sqrt(rng.random()) ** 1.3, rng.uniform(0, 2 * math.pi)  # centre-weighted disc
        x, y = cx + rx * rho * math.cos(phi), cy + ry * rho * math.sin(phi)
        tilt = min(abs(rng.normal(0, 35)), 80)  # most lie flattish, some stand steep
        R = rotation(rng.uniform(0, 360), tilt, rng.uniform(-20, 20))
        shields.append((shield_outline(rng, width), rng.uniform(0.12, 0.25), (x, y), R, 0.6))
    b.small_solids(material, plates=shields)  # each in its own window: heaps of 200 stay cheap


def scale_sack(rng: np.random.Generator, ppc: float, material: str = "pangolin_scale") -> ItemBuilder:
    """30-200 scales (0.2-1.5 kg) in a polyethylene or woven polypropylene sack."""
    n = int(math.exp(rng.uniform(math.log(30), math.log(200))))  # small sacks are the commoner
    # a sack slumps into a heap 3-5 scales deep (~13 cm^2 a scale): radius ~1.1 sqrt(n) cm
    rx, ry = math.sqrt(n) * rng.uniform(1.0, 1.3), math.sqrt(n) * rng.uniform(0.7, 0.95)
    b = ItemBuilder(2 * rx + 10, 2 * ry + 10, ppc)
    cx, cy = rx + 5, ry + 5
    _heap(b, rng, material, n, cx, cy, rx, ry)
    sack = b.polygon(None, blob_outline(rng, cx, cy, rx + 3, ry + 3, 12, 0.1), 1.0, round_cm=1.0)
    if rng.random() < 0.5:  # woven PP: a weave of tapes, ~0.4 cm pitch
        weave = 0.5 + 0.5 * np.cos(2 * np.pi * b.X / 0.4) * np.cos(2 * np.pi * b.Y / 0.4)
        b.add("polypropylene", sack * (0.03 + 0.02 * weave))
    else:
        b.add("polyethylene", sack * 0.015 * (1 + 2 * b.wrinkles(rng, 3.0)))
    b.meta["group"] = True
    return b


def loose_scales(rng: np.random.Generator, ppc: float, material: str = "pangolin_scale") -> ItemBuilder:
    """A loose heap of 12-80 touching scales tipped into the parcel (no sack)."""
    n = int(rng.integers(20, 90))
    rx, ry = math.sqrt(n) * rng.uniform(1.2, 1.6), math.sqrt(n) * rng.uniform(0.8, 1.1)  # 2-3 deep
    b = ItemBuilder(2 * rx + 9, 2 * ry + 9, ppc)
    _heap(b, rng, material, n, rx + 4.5, ry + 4.5, rx, ry)
    b.meta["group"] = True
    return b
