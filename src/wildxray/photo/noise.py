"""Procedural noise fields for the photo generator (numpy + OpenCV, float32).

Every function takes the caller's ``np.random.Generator`` so a scene is reproducible from one seed.
Fields are float32 ``[h, w]`` arrays; value ranges are stated per function.
"""

from __future__ import annotations

import cv2
import numpy as np


def value_noise(rng: np.random.Generator, shape: tuple[int, int], cells: float) -> np.ndarray:
    """Smooth value noise in ``[0, 1]``, float32 ``[h, w]``.

    ``cells`` is the number of random lattice values across the longer side; the lattice is
    upsampled bicubically, so larger ``cells`` means finer detail.
    """
    h, w = shape
    long_side = max(h, w)
    gh = max(2, int(round(cells * h / long_side)) + 1)
    gw = max(2, int(round(cells * w / long_side)) + 1)
    grid = rng.random((gh, gw), dtype=np.float32)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(out, 0.0, 1.0)


def fractal_noise(
    rng: np.random.Generator, shape: tuple[int, int], cells: float = 4.0, octaves: int = 4, gain: float = 0.5
) -> np.ndarray:
    """Sum of ``octaves`` value-noise layers (doubling frequency, ``gain`` amplitude), in ``[0, 1]``."""
    total = np.zeros(shape, np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        total += amp * value_noise(rng, shape, cells * (2**o))
        norm += amp
        amp *= gain
    return total / norm


def streak_noise(rng: np.random.Generator, shape: tuple[int, int], across: float, along: float) -> np.ndarray:
    """Anisotropic noise in ``[0, 1]`` with streaks running along the x axis (fibres, fur, wood).

    ``across`` lattice cells over the height (fine), ``along`` over the width (coarse).
    """
    h, w = shape
    grid = rng.random((max(2, int(across)), max(2, int(along))), dtype=np.float32)
    return np.clip(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def speckle(rng: np.random.Generator, shape: tuple[int, int], density: float, blur: float = 0.7) -> np.ndarray:
    """Sparse soft dots (pores, pits) in ``[0, 1]``: ``density`` is the fraction of seeded pixels."""
    dots = (rng.random(shape, dtype=np.float32) < density).astype(np.float32)
    if blur > 0:
        dots = cv2.GaussianBlur(dots, (0, 0), blur)
    peak = float(dots.max())
    return dots / peak if peak > 0 else dots


def jittered_points(rng: np.random.Generator, shape: tuple[int, int], spacing: float, jitter: float = 0.4) -> np.ndarray:
    """Seed points on a jittered grid covering ``shape``: float32 ``[P, 2]`` as (x, y) pixels."""
    h, w = shape
    ys = np.arange(spacing / 2, h + spacing, spacing, dtype=np.float32)
    xs = np.arange(spacing / 2, w + spacing, spacing, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    # Offset every other row by half a cell: a hexagon-like layout, closer to real scales.
    gx[1::2] += spacing / 2
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    pts += (rng.random(pts.shape, dtype=np.float32) - 0.5) * 2 * jitter * spacing
    return pts


def voronoi_cells(points: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voronoi partition of ``shape`` around ``points`` (x, y pixels).

    Returns ``labels`` int32 ``[h, w]`` (cell index, 0-based, -1 where unassigned), ``edge_dist``
    float32 ``[h, w]`` (pixels to the nearest cell border) and ``edges`` bool ``[h, w]``.
    """
    h, w = shape
    seeds = np.full((h, w), 255, np.uint8)
    ij = np.round(points).astype(np.int64)
    keep = (ij[:, 0] >= 0) & (ij[:, 0] < w) & (ij[:, 1] >= 0) & (ij[:, 1] < h)
    ij = ij[keep]
    seeds[ij[:, 1], ij[:, 0]] = 0
    _, lab = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
    lab = lab.astype(np.int32) - 1
    edges = np.zeros((h, w), bool)
    edges[:, 1:] |= lab[:, 1:] != lab[:, :-1]
    edges[1:, :] |= lab[1:, :] != lab[:-1, :]
    edge_dist = cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 3)
    return lab, edge_dist.astype(np.float32), edges
