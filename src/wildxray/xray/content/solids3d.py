"""Exact projections of 3-D solids along the beam: the chord a ray cuts through each solid.

A tusk lying tilted in a parcel is foreshortened and its path length grows; a pangolin scale seen
nearly edge-on is a dark sliver, flat it is a faint shield. Stamping 2-D outlines cannot show that,
so these solids are 3-D and projected exactly.

Frame: x, y as the patch (cm, x right, y down), z along the beam; a ray is the line through the
pixel centre (x, y) parallel to z. Every function takes the pixel-centre grids X [1, w] and Y [h, 1]
of a window (cm) and returns float32 [h, w] chord lengths in cm.
"""

from __future__ import annotations

import math

import numpy as np

_EPS = 1e-6


def rotation(yaw_deg: float = 0.0, pitch_deg: float = 0.0, roll_deg: float = 0.0) -> np.ndarray:
    """3x3 rotation Rz(yaw) @ Ry(pitch) @ Rx(roll): body frame -> patch frame.

    Body x is an object's long axis: pitch lifts it out of the belt plane (foreshortening), roll
    turns it about itself (a flattened horn seen from its side or its edge)."""
    cy, sy = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    cp, sp = math.cos(math.radians(pitch_deg)), math.sin(math.radians(pitch_deg))
    cr, sr = math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    return rz @ ry @ rx


def random_rotation(rng: np.random.Generator, max_pitch_deg: float, max_roll_deg: float = 180.0) -> np.ndarray:
    """A resting pose: any roll, pitch up to ``max_pitch_deg`` (things lie roughly flat), no yaw
    (the scene composer turns items in the belt plane)."""
    return rotation(0.0, rng.uniform(-max_pitch_deg, max_pitch_deg), rng.uniform(-max_roll_deg, max_roll_deg))


def frustum_chord(X: np.ndarray, Y: np.ndarray, p0: np.ndarray, p1: np.ndarray, r0: float, r1: float,
                  m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
    """Chord through a truncated cone from p0 (radius r0) to p1 (radius r1), cut by the plane
    through p0 with normal m0 and the plane through p1 with normal m1 (both pointing along the
    axis). Mitred cut planes let a chain of frusta along a bent polyline tile the solid exactly, so
    their chords add without seams or double counting."""
    d = [float(v) for v in np.asarray(p1, np.float64) - np.asarray(p0, np.float64)]
    length = math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
    a = [v / max(length, _EPS) for v in d]  # python floats keep the window maths float32
    m0, m1 = [float(v) for v in m0], [float(v) for v in m1]
    k = (r1 - r0) / max(length, _EPS)
    wx, wy = X - float(p0[0]), Y - float(p0[1])  # ray offsets from p0; z is measured from p0's depth
    # the two cut planes bound z:  m0 . (P - p0) >= 0  and  m1 . (P - p1) <= 0
    lo: np.ndarray | float = -np.inf
    hi: np.ndarray | float = np.inf
    valid: np.ndarray | bool = True
    for mz, c in ((m0[2], wx * m0[0] + wy * m0[1]),
                  (-m1[2], -((wx - d[0]) * m1[0] + (wy - d[1]) * m1[1] - d[2] * m1[2]))):  # mz z + c >= 0
        if abs(mz) < _EPS:
            valid = valid & (c >= 0)
        elif mz > 0:
            lo = np.maximum(lo, -c / mz)
        else:
            hi = np.minimum(hi, -c / mz)
    # cone: |w|^2 - s^2 <= (r0 + k s)^2 with s = w . a = s0 + a_z z  ->  A z^2 + B z + C <= 0
    s0 = wx * a[0] + wy * a[1]
    A = 1.0 - a[2] ** 2 * (1.0 + k * k)
    if abs(A) < 1e-4:  # a ray parallel to the cone's surface line: nudge (error ~1e-4 of a radius)
        A = 1e-4 if A >= 0 else -1e-4
    B = (-2.0 * a[2]) * (s0 * (1.0 + k * k) + k * r0)
    rs = r0 + k * s0
    C = wx * wx + wy * wy - s0 * s0 - rs * rs
    disc = B * B - (4.0 * A) * C
    root = np.sqrt(np.maximum(disc, 0.0))
    za, zb = (-B - root) / (2 * A), (-B + root) / (2 * A)
    z1, z2 = (za, zb) if A > 0 else (zb, za)  # ordered roots
    with np.errstate(invalid="ignore"):
        if A > 0:  # ray crosses the mantle twice: inside between the roots
            chord = np.where(disc > 0, np.minimum(hi, z2) - np.maximum(lo, z1), 0.0)
        else:  # ray steeper than the mantle: inside outside the roots (or everywhere), cut by the planes
            inside = np.maximum(np.minimum(hi, z1) - lo, 0.0) + np.maximum(hi - np.maximum(lo, z2), 0.0)
            chord = np.where(disc > 0, inside, hi - lo)
            chord = np.where(np.isfinite(chord), chord, 0.0)
    chord = np.clip(chord, 0.0, length + 2.0 * max(r0, r1))
    if valid is not True:
        chord = chord * valid
    return np.broadcast_to(chord, np.broadcast_shapes(X.shape, Y.shape)).astype(np.float32)


def mitre_normals(points: np.ndarray, closed: bool = False) -> np.ndarray:
    """[n, 3] unit normals of the cut plane at each vertex of a polyline: the bisector of the two
    segments meeting there (the segment itself at open ends)."""
    seg = np.diff(points if not closed else np.vstack([points, points[:1]]), axis=0)
    seg /= np.maximum(np.linalg.norm(seg, axis=1, keepdims=True), _EPS)
    if closed:
        m = seg + np.roll(seg, 1, axis=0)
    else:
        m = np.vstack([seg[:1], seg[:-1] + seg[1:], seg[-1:]])
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), _EPS)


def ellipsoid_chord(X: np.ndarray, Y: np.ndarray, centre: np.ndarray, radii: tuple[float, float, float],
                    R: np.ndarray) -> np.ndarray:
    """Chord through an ellipsoid with semi-axes ``radii`` along the columns of rotation ``R``."""
    A = R @ np.diag([1.0 / max(r, _EPS) ** 2 for r in radii]) @ R.T  # x^T A x <= 1
    x, y = X - centre[0], Y - centre[1]
    b = A[0, 2] * x + A[1, 2] * y
    q = A[0, 0] * x * x + 2 * A[0, 1] * x * y + A[1, 1] * y * y - 1.0
    disc = b * b - A[2, 2] * q
    return (2.0 * np.sqrt(np.maximum(disc, 0.0)) / A[2, 2]).astype(np.float32)


def ellipsoid_extent(radii: tuple[float, float, float], R: np.ndarray) -> tuple[float, float]:
    """Half-widths in x and y of an ellipsoid's projection (its bounding window)."""
    M = R @ np.diag([r * r for r in radii]) @ R.T
    return math.sqrt(M[0, 0]), math.sqrt(M[1, 1])
