"""Horn: whole rhino horns, pieces cut from them, ringed antelope (saiga) horns, a vial of powder.

Each generator draws ONE object. Sizes from seizure reports and anatomy: rhino front horns 15-50 cm
with a 8-18 cm oval base (1-3 kg), rear horns 8-20 cm; saiga horns 20-37 cm, ringed over their
basal two thirds and hollow where the bony core was removed. On scans a rhino horn is a single
dark-orange cone, darkest along its core (melanin and calcium salts, Hieronymus et al. 2006), with
fine streaks along it (the keratin tubules) and a hollow, ragged base.
"""

from __future__ import annotations

import math

import numpy as np

from wildxray.xray.content.builder import ItemBuilder, builder_around, curve3d
from wildxray.xray.content.solids3d import random_rotation


def _fibres(b: ItemBuilder, rng: np.random.Generator, start: np.ndarray, end: np.ndarray, depth: float = 0.08
            ) -> np.ndarray:
    """[h, w] factor 1 +- ``depth``: streaks parallel to the base->tip direction (keratin tubules
    0.1-0.3 mm across merge into streaks of ~1-3 mm at the scanner's pitch)."""
    d = np.asarray(end[:2], np.float64) - np.asarray(start[:2], np.float64)
    d /= max(float(np.linalg.norm(d)), 1e-6)
    across = (b.X - start[0]) * -d[1] + (b.Y - start[1]) * d[0]  # cm across the streaks
    reach = float(math.hypot(b.w, b.h) / b.ppc)
    grid = np.arange(-reach, reach + 0.2, 0.2)
    values = rng.uniform(1.0 - depth, 1.0 + depth, len(grid))
    return np.interp(across, grid, values).astype(np.float32)


def _cone(b: ItemBuilder, rng: np.random.Generator, pts: np.ndarray, radii: np.ndarray, material: str,
          core: str | None, core_share: float = 0.8, flatten: float = 1.0) -> None:
    """Keratin cone along ``pts`` with a denser core in its first ``core_share`` and streaks."""
    outer = b.tube3d(None, pts, radii) * flatten
    fibres = _fibres(b, rng, pts[0], pts[-1])
    if core:
        k = max(2, int(round(len(pts) * core_share)))
        inner = b.tube3d(None, pts[:k], radii[:k] * rng.uniform(0.3, 0.42)) * flatten
        b.add(core, inner * fibres)
        outer = np.maximum(outer - inner, 0.0)
    b.add(material, outer * fibres)


def rhino_horn(rng: np.random.Generator, ppc: float, material: str = "rhino_horn",
               core: str | None = "rhino_horn_core") -> ItemBuilder:
    """A whole front or rear horn: a curved cone with a broad base, a denser core, streaks along
    it and a concave base; lying at a random tilt and roll (foreshortened, thicker when pitched)."""
    front = rng.random() < 0.7
    length = rng.uniform(15, 45) if front else rng.uniform(8, 20)
    r_base = float(np.clip(length * (rng.uniform(0.16, 0.24) if front else rng.uniform(0.28, 0.38)), 3.0, 9.0))
    n = 12
    body = curve3d(length, rng.uniform(0.3, 0.8) if front else rng.uniform(0.1, 0.4), n)
    R = random_rotation(rng, 35)
    b, pts = builder_around(body @ R.T, r_base + 1.0, ppc)
    s = np.linspace(0, 1, n)
    radii = r_base * (1 - s) ** rng.uniform(0.8, 1.1) + rng.uniform(0.2, 0.4)
    _cone(b, rng, pts, radii, material, core, flatten=rng.uniform(0.8, 1.0))
    # the base sat on the skull: a shallow hollow with a ragged rim
    hollow = b.ellipsoid3d(None, tuple(pts[0]), (r_base * rng.uniform(0.25, 0.4), r_base * 0.85, r_base * 0.85), R)
    b.carve(material, hollow * b.smooth_noise(rng, 1.0, 0.6, 1.0))
    return b


def horn_piece(rng: np.random.Generator, ppc: float, material: str = "rhino_horn",
               core: str | None = "rhino_horn_core") -> ItemBuilder:
    """One piece sawn from a horn: its tip, a cross-cut slice (seen at any angle; face-on its core
    shows as a dark disc) or the basal half; flat saw cuts, streaks, denser core."""
    cut = str(rng.choice(["tip", "slice", "base"]))
    if cut == "tip":
        length, r0, r1, pitch = rng.uniform(6, 15), rng.uniform(2.0, 4.0), rng.uniform(0.2, 0.4), 35
    elif cut == "slice":
        length, r0, pitch = rng.uniform(1.5, 4.0), rng.uniform(3.5, 7.5), 90
        r1 = r0 * rng.uniform(0.85, 0.95)
    else:
        length, r0, pitch = rng.uniform(8, 15), rng.uniform(4.0, 7.5), 35
        r1 = r0 * rng.uniform(0.4, 0.6)
    n = 6
    body = curve3d(length, rng.uniform(0.0, 0.3), n)
    R = random_rotation(rng, pitch)
    b, pts = builder_around(body @ R.T, r0 + 1.0, ppc)
    radii = np.linspace(r0, r1, n)
    _cone(b, rng, pts, radii, material, core, core_share=1.0, flatten=rng.uniform(0.8, 1.0))
    if cut == "base":
        b.carve(material, b.ellipsoid3d(None, tuple(pts[0]), (r0 * 0.3, r0 * 0.8, r0 * 0.8), R))
    return b


def antelope_horn(rng: np.random.Generator, ppc: float, material: str = "keratin") -> ItemBuilder:
    """A saiga horn: slender, lyre-curved, 12-20 raised rings over its basal two thirds, hollow
    there (thin sheath, bright edges) and solid towards the smooth tip."""
    length = rng.uniform(20, 37)
    r_base = rng.uniform(1.4, 2.2)
    n = 36  # enough frusta to resolve the rings
    body = curve3d(length, rng.uniform(0.2, 0.6), n, twist=rng.uniform(-0.15, 0.15))
    R = random_rotation(rng, 30)
    b, pts = builder_around(body @ R.T, r_base + 1.0, ppc)
    s = np.linspace(0, 1, n)
    radii = r_base * (1 - 0.8 * s ** 1.2)
    ringed = s < rng.uniform(0.55, 0.7)
    rings = rng.uniform(12, 20)
    radii = radii * (1 + 0.12 * ringed * np.maximum(np.sin(2 * np.pi * rings * s), 0.0) ** 2)
    wall = np.where(s < 0.6, rng.uniform(0.25, 0.4), radii)  # hollow base, solid tip
    b.hollow_tube3d(material, pts, radii, wall)
    return b


def powder_vial(rng: np.random.Generator, ppc: float, material: str = "horn_powder") -> ItemBuilder:
    """One small glass vial of ground horn with a plastic cap."""
    r, L = rng.uniform(0.8, 1.4), rng.uniform(5, 9)
    b = ItemBuilder(2 * r + 2, L + 2.5, ppc)
    x = r + 1
    b.hollow_tube("soda_lime_glass", [(x, 1.5), (x, 1.5 + L)], [r, r], 0.1)
    level = rng.uniform(0.4, 0.9)
    b.tube(material, [(x, 1.5 + L * (1 - level)), (x, 1.5 + L)], [r - 0.1, r - 0.1])
    b.rect("polypropylene", x - r, 0.8, 2 * r, 0.9, 2 * r)
    return b
