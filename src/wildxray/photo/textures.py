"""Surface patterns for photographed materials: wood, fur coats, reptile scales, ivory, bone.

Fields are float32 ``[h, w]`` in ``[0, 1]``; albedos are float32 ``[h, w, 3]`` RGB in ``[0, 1]``.
"""

from __future__ import annotations

import cv2
import numpy as np

from wildxray.photo.noise import fractal_noise, jittered_points, speckle, streak_noise, voronoi_cells


def rgb(values: tuple[int, int, int], rng: np.random.Generator | None = None, jitter: float = 0.0) -> np.ndarray:
    """An 8-bit RGB triple as float32 ``[3]`` in [0, 1], optionally jittered by ``jitter`` (fraction)."""
    c = np.asarray(values, np.float32) / 255.0
    if rng is not None and jitter > 0:
        c = c * (1.0 + (rng.random(3, dtype=np.float32) - 0.5) * 2 * jitter)
        c *= 1.0 + (rng.random(dtype=np.float32) - 0.5) * 2 * jitter  # brightness
    return np.clip(c, 0.0, 1.0)


def mix(field: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel blend from colour ``a`` (field 0) to ``b`` (field 1): float32 ``[h, w, 3]``."""
    f = field[:, :, None]
    return (a[None, None, :] * (1.0 - f) + b[None, None, :] * f).astype(np.float32)


def wood_grain(rng: np.random.Generator, shape: tuple[int, int], period: float = 9.0) -> np.ndarray:
    """Growth-ring lines running along x, wavy and knotted: field in [0, 1] (1 = dark late wood)."""
    h, w = shape
    y = np.arange(h, dtype=np.float32)[:, None]
    warp = fractal_noise(rng, shape, cells=3, octaves=3) * period * 6.0
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * (y + warp) / period)
    fibre = streak_noise(rng, shape, across=h / 2, along=6)
    return np.clip(0.75 * rings**3 + 0.25 * fibre, 0.0, 1.0).astype(np.float32)


def fur(rng: np.random.Generator, shape: tuple[int, int], hair: float = 2.5) -> np.ndarray:
    """Fine hair strands along x (hair thickness about ``hair`` px): field around 0.5 in [0, 1]."""
    h, w = shape
    return streak_noise(rng, shape, across=h / hair, along=max(3, w / (hair * 6)))


def tiger_stripes(rng: np.random.Generator, shape: tuple[int, int], period: float) -> np.ndarray:
    """Dark stripes crossing the x axis, tapering towards the top and bottom edges: field in [0, 1]."""
    h, w = shape
    x = np.arange(w, dtype=np.float32)[None, :]
    yy = np.abs(np.linspace(-1.0, 1.0, h, dtype=np.float32))[:, None]
    warp = (fractal_noise(rng, shape, cells=4, octaves=3) - 0.5) * period * 1.6
    wave = 0.5 + 0.5 * np.cos(2 * np.pi * (x + warp) / period)
    split = fractal_noise(rng, shape, cells=10, octaves=2)
    thr = 0.72 + 0.25 * yy + 0.2 * (split - 0.5)  # stripes thin out and break towards the belly
    return np.clip((wave - thr) * 12.0, 0.0, 1.0).astype(np.float32)


def rosettes(rng: np.random.Generator, shape: tuple[int, int], spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Leopard rosettes: (``ring`` dark broken rings, ``inner`` slightly darker centres), fields in [0, 1]."""
    ring = np.zeros(shape, np.float32)
    inner = np.zeros(shape, np.float32)
    pts = jittered_points(rng, shape, spacing, jitter=0.35)
    for x, y in pts:
        r = spacing * (0.22 + 0.14 * rng.random())
        axes = (int(r), int(r * (0.7 + 0.4 * rng.random())))
        ang = float(rng.random() * 180)
        cv2.ellipse(inner, (int(x), int(y)), axes, ang, 0, 360, 1.0, -1, cv2.LINE_AA)
        # A rosette is 3-5 dark blotches around the rim, not a closed circle.
        start = float(rng.random() * 360)
        for k in range(int(rng.integers(3, 6))):
            a0 = start + k * 360 / 5 + rng.random() * 20
            cv2.ellipse(ring, (int(x), int(y)), axes, ang, a0, a0 + 40 + rng.random() * 30, 1.0, max(2, int(r * 0.35)), cv2.LINE_AA)
    ring = cv2.GaussianBlur(ring, (0, 0), 0.8)
    return np.clip(ring, 0, 1), np.clip(inner - ring, 0, 1)


def reptile_scales(
    rng: np.random.Generator, shape: tuple[int, int], spacing: float, stretch: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaly skin as Voronoi cells (``stretch`` > 1 elongates cells along x).

    Returns ``(cell_tone, bump, groove)``: per-cell brightness variation in [0, 1], a per-cell
    dome height in [0, 1], and the dark groove between scales in [0, 1].
    """
    h, w = shape
    sh = (h, max(2, int(w / stretch)))
    lab, edge_dist, edges = voronoi_cells(jittered_points(rng, sh, spacing, jitter=0.3), sh)
    if stretch != 1.0:
        lab = cv2.resize(lab.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST).astype(np.int32)
        edge_dist = cv2.resize(edge_dist, (w, h), interpolation=cv2.INTER_LINEAR)
        edges = cv2.resize(edges.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    tones = rng.random(int(lab.max()) + 2, dtype=np.float32)
    tone = tones[np.clip(lab, 0, None)]
    bump = np.clip(edge_dist / (spacing * 0.35), 0.0, 1.0) ** 0.5
    groove = cv2.GaussianBlur(edges.astype(np.float32), (0, 0), 0.7)
    return tone, bump.astype(np.float32), np.clip(groove * 1.5, 0, 1)


def schreger(shape: tuple[int, int], centre: tuple[float, float], rings: float, arms: int) -> np.ndarray:
    """Schreger lines of a cut tusk face: two families of crossing spirals, field in [0, 1].

    Ivory's cut ends show this checkerboard of curved diamonds (mammoth/elephant dentine);
    resin and bone do not, which is why the generator draws it on cut ends.
    """
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - centre[0], yy - centre[1]
    r = np.sqrt(dx * dx + dy * dy)
    theta = np.arctan2(dy, dx)
    k = 2 * np.pi / rings
    a = np.cos(arms * theta + k * r)
    b = np.cos(arms * theta - k * r)
    return np.clip(0.5 + 0.5 * a * b, 0.0, 1.0).astype(np.float32)


def porous(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Bone-like surface: cloudy staining plus tiny pits, field in [0, 1] (1 = darkest)."""
    stain = fractal_noise(rng, shape, cells=5, octaves=3)
    pits = speckle(rng, shape, density=0.012, blur=0.6)
    return np.clip(0.45 * stain + 0.8 * pits, 0.0, 1.0).astype(np.float32)
