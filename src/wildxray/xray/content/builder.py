"""Rasterise solids into per-material thickness maps (the projection along the beam).

An ``Item`` is a small patch: for each material a float32 [h, w] map of the path length in cm that
a ray through that pixel travels in it. Solids are analytic (ellipsoids, tapered tubes along
polylines, tori, rounded slabs) so thickness profiles look like real projections: a cylinder gives
``2 sqrt(r^2 - d^2)`` across its axis, a hollow one a bright rim.
Patch frame: x to the right (belt direction), y down, origin at the patch's top-left; builder
arguments are in cm, with ``ppc`` pixels per cm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from wildxray.xray.content import solids3d

#: Thickness (cm) below which a pixel does not count as part of an item's footprint.
FOOTPRINT_EPS = 1e-3


@dataclass
class Item:
    """A renderable object. parts: material -> float32 [h, w] thickness in cm (all the same shape).

    label: 0-based contraband class index, or None for clutter, decoys and containers.
    kind: generator name (e.g. "ivory/bangle"); role: parcel | clutter | decoy | contraband | wrap.
    """

    parts: dict[str, np.ndarray]
    kind: str
    role: str
    label: int | None = None
    meta: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return next(iter(self.parts.values())).shape

    def footprint(self) -> np.ndarray:
        """bool [h, w]: pixels the item occupies."""
        return np.any(np.stack(list(self.parts.values())) > FOOTPRINT_EPS, axis=0)

    def rotated(self, angle_deg: float, scale: float = 1.0) -> "Item":
        """The item turned by ``angle_deg`` about its centre, on a patch grown to hold it."""
        h, w = self.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, scale)
        cos, sin = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(math.ceil(h * sin + w * cos)) + 2, int(math.ceil(h * cos + w * sin)) + 2
        m[0, 2] += nw / 2 - w / 2
        m[1, 2] += nh / 2 - h / 2
        names = list(self.parts)
        parts: dict[str, np.ndarray] = {}
        for i in range(0, len(names), 4):  # warp up to 4 materials per call (channels of one image)
            group = names[i:i + 4]
            stack = np.dstack([self.parts[k] for k in group]) if len(group) > 1 else self.parts[group[0]]
            warped = cv2.warpAffine(stack, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0.0)
            if len(group) == 1:
                parts[group[0]] = warped
            else:
                for j, k in enumerate(group):
                    parts[k] = np.ascontiguousarray(warped[..., j])
        return Item(parts, self.kind, self.role, self.label, dict(self.meta))


class ItemBuilder:
    """Accumulates solids (in cm) into per-material thickness maps on a w_cm x h_cm patch."""

    def __init__(self, w_cm: float, h_cm: float, ppc: float):
        self.ppc = float(ppc)
        self.w = max(2, int(math.ceil(w_cm * ppc)))
        self.h = max(2, int(math.ceil(h_cm * ppc)))
        # pixel centres in cm, shaped for broadcasting: X [1, w], Y [h, 1]
        self.X = ((np.arange(self.w, dtype=np.float32) + 0.5) / self.ppc)[None, :]
        self.Y = ((np.arange(self.h, dtype=np.float32) + 0.5) / self.ppc)[:, None]
        self.parts: dict[str, np.ndarray] = {}
        #: copied into the built Item's meta, e.g. {"group": True} for a defined group (docs/internals.md)
        self.meta: dict = {}

    # -- accumulation ---------------------------------------------------------------------------
    def add(self, material: str, thickness: np.ndarray) -> np.ndarray:
        material = str(material)  # rng.choice hands back numpy strings
        t = np.asarray(thickness, np.float32)
        if t.shape != (self.h, self.w):  # a scalar or a [1, w] / [h, 1] profile
            t = np.broadcast_to(t, (self.h, self.w))
        if material in self.parts:
            self.parts[material] += t
        else:
            self.parts[material] = t.copy()
        return t

    def _add_window(self, material: str, rows: slice, cols: slice, thickness: np.ndarray) -> np.ndarray:
        """Add a solid that is zero outside (rows, cols) on that window only, and return its
        full-patch map: the same sums as ``add`` of the full map, without a full-patch pass."""
        material = str(material)
        if material not in self.parts:
            self.parts[material] = np.zeros((self.h, self.w), np.float32)
        self.parts[material][rows, cols] += thickness
        out = np.zeros((self.h, self.w), np.float32)
        out[rows, cols] = thickness
        return out

    def carve(self, material: str, thickness: np.ndarray) -> None:
        """Remove path length (a cavity) from a material already added."""
        if material in self.parts:
            self.parts[material] = np.maximum(self.parts[material] - thickness, 0.0)

    def build(self, kind: str, role: str, label: int | None = None, **meta) -> Item:
        if not self.parts:
            raise ValueError(f"item '{kind}' has no parts")
        parts = {k: np.ascontiguousarray(v, np.float32) for k, v in self.parts.items()}
        return Item(parts, kind, role, label, {**self.meta, **meta})

    # -- solids (return the thickness they add) ---------------------------------------------------
    def ellipsoid(self, material: str | None, cx: float, cy: float, rx: float, ry: float, depth: float,
                  angle_deg: float = 0.0) -> np.ndarray:
        """Ellipsoid with in-plane radii rx, ry (cm), full thickness ``depth`` at its centre.

        Returns the full-patch thickness map it adds (float32 [h, w]).
        """
        patch = self._ellipsoid_patch(cx, cy, rx, ry, depth, angle_deg)
        return self._stamp(material, patch)

    def _stamp(self, material: str | None, patch: tuple[slice, slice, np.ndarray] | None) -> np.ndarray:
        """The full-patch map of a solid computed on its window (``*_patch``), added to
        ``material`` (if any) on that window only."""
        if patch is None:  # nothing inside the patch: a zero map, writable as every returned map is
            out = np.zeros((self.h, self.w), np.float32)
            return self.add(material, out) if material else out
        if material:
            return self._add_window(material, *patch)
        out = np.zeros((self.h, self.w), np.float32)
        out[patch[0], patch[1]] = patch[2]
        return out

    def _ellipsoid_patch(self, cx: float, cy: float, rx: float, ry: float, depth: float, angle_deg: float = 0.0
                         ) -> tuple[slice, slice, np.ndarray] | None:
        """(rows, cols, thickness) of an ellipsoid over its own bounding window only."""
        a = math.radians(angle_deg)
        rm = max(rx, ry) + 0.1
        c0, c1 = max(0, int((cx - rm) * self.ppc)), min(self.w, int(math.ceil((cx + rm) * self.ppc)))
        r0, r1 = max(0, int((cy - rm) * self.ppc)), min(self.h, int(math.ceil((cy + rm) * self.ppc)))
        if c1 <= c0 or r1 <= r0:
            return None
        dx, dy = self.X[:, c0:c1] - cx, self.Y[r0:r1, :] - cy
        u = (dx * math.cos(a) + dy * math.sin(a)) / rx
        v = (-dx * math.sin(a) + dy * math.cos(a)) / ry
        # 1 - u^2 - v^2, in place (the same float32 operations in the same order)
        np.multiply(u, u, out=u)
        np.subtract(1.0, u, out=u)
        u -= np.multiply(v, v, out=v)
        np.sqrt(np.maximum(u, 0.0, out=u), out=u)
        return slice(r0, r1), slice(c0, c1), (depth * u).astype(np.float32, copy=False)

    def shell_ellipsoid(self, material: str, cx: float, cy: float, rx: float, ry: float, depth: float,
                        wall: float, angle_deg: float = 0.0, fill: str | None = None, fill_level: float = 1.0) -> None:
        """Hollow ellipsoid (wall in cm); optional ``fill`` material inside (a bottle, a skull)."""
        outer = self.ellipsoid(None, cx, cy, rx, ry, depth, angle_deg)
        irx, iry, idp = max(rx - wall, 0.05), max(ry - wall, 0.05), max(depth - 2 * wall, 0.02)
        inner = self.ellipsoid(None, cx, cy, irx, iry, idp, angle_deg)
        self.add(material, np.maximum(outer - inner, 0.0))
        if fill:
            self.add(fill, inner * fill_level)

    def tube(self, material: str | None, points: list[tuple[float, float]], radii: list[float] | float,
             depth_scale: float = 1.0) -> np.ndarray:
        """A solid tapered tube along a polyline (circular cross-section of radius r(s), cm).

        Segments combine by maximum, so joints do not double up. ``depth_scale`` flattens the
        cross-section (an oval), e.g. 0.6 for a flattened horn.
        """
        return self._stamp(material, self._tube_patch(points, radii, depth_scale))

    def _tube_patch(self, points, radii, depth_scale: float = 1.0) -> tuple[slice, slice, np.ndarray] | None:
        """(rows, cols, thickness) of a tube over the union of its segments' windows only."""
        pts = np.asarray(points, np.float32)
        r = np.broadcast_to(np.asarray(radii, np.float32), (len(pts),))
        p, q = pts[:-1], pts[1:]
        # each segment only touches its own bounding window: long coiled tubes stay cheap. Bounds of
        # all segments at once, in the float32 arithmetic the per-segment scalars gave
        rm = (np.maximum(r[:-1], r[1:]).astype(np.float64) + 0.1).astype(np.float32)
        lo, hi = (np.minimum(p, q) - rm[:, None]) * self.ppc, (np.maximum(p, q) + rm[:, None]) * self.ppc
        c0s, r0s = np.maximum(lo.astype(np.int64), 0).T.tolist()
        c1s, r1s = np.minimum(np.ceil(hi).astype(np.int64), (self.w, self.h)).T.tolist()
        wins = [(i, r0, r1, c0, c1) for i, (r0, r1, c0, c1) in enumerate(zip(r0s, r1s, c0s, c1s)) if c1 > c0 and r1 > r0]
        if not wins:
            return None
        R0, R1 = min(w[1] for w in wins), max(w[2] for w in wins)
        C0, C1 = min(w[3] for w in wins), max(w[4] for w in wins)
        out = np.zeros((R1 - R0, C1 - C0), np.float32)
        d = q - p  # float32, as are the Python floats below (exact copies): the window maths stays float32
        p_, d_, r_ = p.tolist(), d.tolist(), r.tolist()
        k = 2.0 * depth_scale
        for i, r0, r1, c0, c1 in wins:
            (px, py), (dx, dy) = p_[i], d_[i]
            ra, dr = r_[i], r_[i + 1] - r_[i]
            L2 = float(d[i] @ d[i]) or 1e-9
            ax, ay = self.X[:, c0:c1] - px, self.Y[r0:r1, :] - py  # [1, w], [h, 1]
            s = ax * dx + ay * dy
            s /= L2
            np.clip(s, 0.0, 1.0, out=s)  # projection onto the segment
            ex, ey = ax - s * dx, ay - s * dy
            dist2 = np.multiply(ex, ex, out=ex)
            dist2 += np.multiply(ey, ey, out=ey)
            rad = s * dr
            rad += ra
            rad *= rad
            rad -= dist2
            t = k * np.sqrt(np.maximum(rad, 0.0, out=rad), out=rad)
            view = out[r0 - R0:r1 - R0, c0 - C0:c1 - C0]
            np.maximum(view, t, out=view)
        return slice(R0, R1), slice(C0, C1), out

    def small_solids(self, material: str, tubes: list[tuple] = (), ellipsoids: list[tuple] = (),
                     plates: list[tuple] = ()) -> None:
        """Many small solids of one material added in their own windows (vertebrae, ribs, claws):
        the same sum as one ``tube``/``ellipsoid`` call each, without a full-patch map per solid.

        tubes: (points, radii) or (points, radii, depth_scale); ellipsoids and plates: the args of
        ``ellipsoid`` / ``plate3d`` after the material."""
        material = str(material)
        if material not in self.parts:
            self.parts[material] = np.zeros((self.h, self.w), np.float32)
        acc = self.parts[material]
        for args in tubes:
            patch = self._tube_patch(*args)
            if patch is not None:
                acc[patch[0], patch[1]] += patch[2]
        for make, arg_list in ((self._ellipsoid_patch, ellipsoids), (self._plate_patch, plates)):
            for args in arg_list:
                patch = make(*args)
                if patch is not None:
                    acc[patch[0], patch[1]] += patch[2]

    def hollow_tube(self, material: str, points, radii, wall: float, fill: str | None = None) -> None:
        outer = self.tube(None, points, radii)
        inner = self.tube(None, points, np.maximum(np.asarray(radii, np.float32) - wall, 0.01))
        self.add(material, np.maximum(outer - inner, 0.0))
        if fill:
            self.add(fill, inner)

    def torus(self, material: str, cx: float, cy: float, R: float, r: float, squash: float = 1.0) -> np.ndarray:
        """Ring lying flat (a bangle seen from above): tube radius r on a circle of radius R.

        ``squash`` < 1 foreshortens it (a tilted ring)."""
        rho = np.sqrt((self.X - cx) ** 2 + ((self.Y - cy) / squash) ** 2)
        t = 2.0 * np.sqrt(np.maximum(r * r - (rho - R) ** 2, 0.0)) / max(squash, 0.3) ** 0.5
        return self.add(material, t)

    def polygon(self, material: str | None, points: list[tuple[float, float]], thickness: float | np.ndarray,
                round_cm: float = 0.0) -> np.ndarray:
        """Slab with a polygon outline; edges rounded over ``round_cm`` (a circular bevel)."""
        pts = np.asarray(points, np.float64) * self.ppc
        # Fill and bevel only the polygon's bounding window, grown by 1 px of zeros inside the patch,
        # so distances to the outline equal the full patch's: hems and chips stay cheap on big patches.
        c0, r0 = (max(0, int(np.floor(v)) - 1) for v in pts.min(0))
        c1, r1 = min(self.w, int(np.ceil(pts[:, 0].max())) + 2), min(self.h, int(np.ceil(pts[:, 1].max())) + 2)
        if c1 <= c0 or r1 <= r0:
            return self._stamp(material, None)
        mask = np.zeros((r1 - r0, c1 - c0), np.uint8)
        shifted = np.round((pts - (c0, r0)) * 16).astype(np.int32)
        cv2.fillPoly(mask, [shifted], 1, lineType=cv2.LINE_8, shift=4)
        if round_cm > 0 and mask.any():
            # bevel sqrt(1 - e^2), e = 1 - min(d / r, 1), with d the distance to the outline: in place
            win = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
            win /= round_cm * self.ppc
            np.subtract(1.0, np.minimum(win, 1.0, out=win), out=win)
            np.subtract(1.0, np.multiply(win, win, out=win), out=win)
            np.sqrt(np.maximum(win, 0.0, out=win), out=win)
            win *= mask
        else:
            win = mask.astype(np.float32)
        # profile x thickness on the window only (zero outside it): the same products as on the patch,
        # rounded to float32 as add() would
        rows, cols = slice(r0, r1), slice(c0, c1)
        if np.ndim(thickness):
            thickness = np.broadcast_to(thickness, (self.h, self.w))[rows, cols]
        return self._stamp(material, (rows, cols, np.multiply(win, thickness, out=win)))

    def rect(self, material: str | None, x: float, y: float, w: float, h: float, thickness, round_cm: float = 0.0,
             angle_deg: float = 0.0) -> np.ndarray:
        cx, cy = x + w / 2, y + h / 2
        a = math.radians(angle_deg)
        corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
        pts = [(cx + px * math.cos(a) - py * math.sin(a), cy + px * math.sin(a) + py * math.cos(a)) for px, py in corners]
        return self.polygon(material, pts, thickness, round_cm)

    # -- 3-D solids (exact projections along the beam; see solids3d) -----------------------------
    def _window(self, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice] | None:
        """Pixel slices (rows, cols) covering the cm rectangle, clipped to the patch (None if outside)."""
        c0, c1 = max(0, int(x0 * self.ppc)), min(self.w, int(math.ceil(x1 * self.ppc)))
        r0, r1 = max(0, int(y0 * self.ppc)), min(self.h, int(math.ceil(y1 * self.ppc)))
        return (slice(r0, r1), slice(c0, c1)) if c1 > c0 and r1 > r0 else None

    def tube3d(self, material: str | None, points: list[tuple[float, float, float]] | np.ndarray,
               radii: list[float] | float, closed: bool = False) -> np.ndarray:
        """A solid round tube along a 3-D polyline (x, y, z in cm; z along the beam), radius r(s).

        Mitred frusta tile it exactly, so a part pitched out of the belt plane is foreshortened and
        thicker, as it is on a real scan. ``closed`` joins the last point to the first (a bangle)."""
        pts = np.asarray(points, np.float64)
        r = np.broadcast_to(np.asarray(radii, np.float64), (len(pts),))
        mit = solids3d.mitre_normals(pts, closed)
        n = len(pts) if closed else len(pts) - 1
        out = np.zeros((self.h, self.w), np.float32)
        for i in range(n):
            j = (i + 1) % len(pts)
            p, q = pts[i], pts[j]
            # a mitred cap reaches r * tan(its angle to the axis) beyond the radius
            axis = (q - p) / max(float(np.linalg.norm(q - p)), 1e-9)
            cos = min(abs(float(mit[i] @ axis)), abs(float(mit[j] @ axis)))
            rm = max(r[i], r[j]) * (1.0 + math.sqrt(max(1.0 - cos * cos, 0.0)) / max(cos, 0.2)) + 0.1
            win = self._window(min(p[0], q[0]) - rm, min(p[1], q[1]) - rm, max(p[0], q[0]) + rm, max(p[1], q[1]) + rm)
            if win is None:
                continue
            rows, cols = win
            out[rows, cols] += solids3d.frustum_chord(self.X[:, cols], self.Y[rows, :], p, q, max(r[i], 0.01),
                                                      max(r[j], 0.01), mit[i], mit[j])
        return self.add(material, out) if material else out

    def hollow_tube3d(self, material: str, points, radii, wall: float | np.ndarray, fill: str | None = None) -> None:
        """A tube3d with a cavity ``wall`` cm inside its surface (a bone's medulla, a horn sheath)."""
        outer = self.tube3d(None, points, radii)
        inner = self.tube3d(None, points, np.maximum(np.asarray(radii, np.float64) - wall, 0.01))
        self.add(material, np.maximum(outer - inner, 0.0))
        if fill:
            self.add(fill, inner)

    def ellipsoid3d(self, material: str | None, centre: tuple[float, float, float],
                    radii: tuple[float, float, float], R: np.ndarray | None = None) -> np.ndarray:
        """Ellipsoid with semi-axes ``radii`` (cm) along the columns of rotation ``R`` (3x3)."""
        R = np.eye(3) if R is None else np.asarray(R, np.float64)
        ex, ey = solids3d.ellipsoid_extent(radii, R)
        out = np.zeros((self.h, self.w), np.float32)
        win = self._window(centre[0] - ex - 0.1, centre[1] - ey - 0.1, centre[0] + ex + 0.1, centre[1] + ey + 0.1)
        if win is not None:
            rows, cols = win
            out[rows, cols] = solids3d.ellipsoid_chord(self.X[:, cols], self.Y[rows, :], np.asarray(centre), radii, R)
        return self.add(material, out) if material else out

    def plate3d(self, material: str | None, outline: list[tuple[float, float]] | np.ndarray, thickness: float,
                centre: tuple[float, float], R: np.ndarray, base_ramp: float = 0.0, max_path: float = 3.0
                ) -> np.ndarray:
        """A flat plate (outline in its own u, v plane, cm, about its centre) turned by ``R``.

        Seen at tilt, the outline is foreshortened and the path length is thickness / |cos tilt|
        (capped at ``max_path`` for plates seen edge-on). ``base_ramp`` makes it thicker towards -v
        (a pangolin scale's embedded base) by that fraction."""
        out = np.zeros((self.h, self.w), np.float32)
        patch = self._plate_patch(outline, thickness, centre, R, base_ramp, max_path)
        if patch is not None:
            out[patch[0], patch[1]] = patch[2]
        return self.add(material, out) if material else out

    def _plate_patch(self, outline, thickness: float, centre: tuple[float, float], R: np.ndarray,
                     base_ramp: float = 0.0, max_path: float = 3.0) -> tuple[slice, slice, np.ndarray] | None:
        """(rows, cols, thickness) of a ``plate3d`` over its own bounding window only."""
        uv = np.asarray(outline, np.float64)
        M = np.asarray(R, np.float64)[:2, :2]  # (u, v) -> (x, y) offsets
        xy = uv @ M.T + np.asarray(centre)
        lo, hi = xy.min(0), xy.max(0)
        win = self._window(lo[0] - 0.1, lo[1] - 0.1, hi[0] + 0.1, hi[1] + 0.1)
        if win is None:
            return None
        rows, cols = win
        mask = np.zeros((rows.stop - rows.start, cols.stop - cols.start), np.uint8)
        shifted = np.round((xy * self.ppc - (cols.start, rows.start)) * 16).astype(np.int32)
        cv2.fillPoly(mask, [shifted], 255, lineType=cv2.LINE_AA, shift=4)  # anti-aliased outline
        path = min(thickness / max(abs(float(R[2][2])), 1e-3), max_path)
        t = mask.astype(np.float32) * np.float32(path / 255.0)
        det = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
        if base_ramp and abs(det) > 1e-3:
            # v of each pixel (inverse of the in-plane map): thickness falls off from the base
            half = max(float(np.ptp(uv[:, 1])) / 2, 1e-3)
            dx, dy = self.X[:, cols] - float(centre[0]), self.Y[rows, :] - float(centre[1])
            k = -base_ramp / (half * det)  # -base_ramp * v / half with v = (-M10 dx + M00 dy) / det
            ramp = np.clip(k * (-float(M[1, 0]) * dx + float(M[0, 0]) * dy), -base_ramp, base_ramp)
            t *= (1.0 + ramp) * np.float32(1.0 / (1.0 + base_ramp))
        return rows, cols, t

    # -- textures ---------------------------------------------------------------------------------
    def smooth_noise(self, rng: np.random.Generator, cell_cm: float, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
        """Smooth random field in [lo, hi] varying over ~``cell_cm`` (folds, grain, crumples)."""
        gy = max(2, int(self.h / (cell_cm * self.ppc)) + 2)
        gx = max(2, int(self.w / (cell_cm * self.ppc)) + 2)
        small = rng.random((gy, gx), dtype=np.float32)
        field_ = cv2.resize(small, (self.w, self.h), interpolation=cv2.INTER_CUBIC)
        return np.clip(lo + (hi - lo) * field_, min(lo, hi), max(lo, hi))

    def warp(self, rng: np.random.Generator, thickness: np.ndarray, cell_cm: float, amplitude_cm: float) -> np.ndarray:
        """``thickness`` displaced by a smooth random field (~``amplitude_cm``): straight edges of a
        folded garment or hide become the soft wavy edges of cloth."""
        dx = (self.smooth_noise(rng, cell_cm, -1.0, 1.0) * amplitude_cm * self.ppc).astype(np.float32)
        dy = (self.smooth_noise(rng, cell_cm, -1.0, 1.0) * amplitude_cm * self.ppc).astype(np.float32)
        dx += np.arange(self.w, dtype=np.float32)[None, :]  # the sampling grid, by broadcasting
        dy += np.arange(self.h, dtype=np.float32)[:, None]
        return cv2.remap(np.ascontiguousarray(thickness, np.float32), dx, dy, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)

    def wrinkles(self, rng: np.random.Generator, cell_cm: float, sharpness: float = 3.0) -> np.ndarray:
        """Ridge lines in [0, 1] spaced ~``cell_cm`` apart: the creases of cloth, hide or a bag.

        The zero crossings of a smooth field are thin meandering curves; ``1 - |2f - 1|`` peaks on
        them and ``sharpness`` narrows the peaks into lines."""
        f = self.smooth_noise(rng, cell_cm)
        return (1.0 - np.abs(2.0 * f - 1.0)) ** sharpness


def blob_outline(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, n: int = 14,
                 jitter: float = 0.2) -> list[tuple[float, float]]:
    """An irregular closed outline (a crumpled hide, a horn chunk, a pile) around (cx, cy)."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = 1.0 + rng.uniform(-jitter, jitter, n)
    return [(cx + rx * k * math.cos(a), cy + ry * k * math.sin(a)) for a, k in zip(angles, rad)]


def arc_points(cx: float, cy: float, radius: float, a0: float, a1: float, n: int = 10) -> list[tuple[float, float]]:
    """Points on a circular arc (angles in radians) for curved tubes: tusks, claws, horns."""
    return [(cx + radius * math.cos(a), cy + radius * math.sin(a)) for a in np.linspace(a0, a1, n)]


def builder_around(points: np.ndarray, pad_cm: float, ppc: float) -> tuple[ItemBuilder, np.ndarray]:
    """A builder just big enough for 3-D ``points`` [n, 3] (cm) plus ``pad_cm``, and the points
    moved into its frame (their smallest x, y at ``pad_cm``; z unchanged)."""
    pts = np.asarray(points, np.float64).copy()
    lo, hi = pts[:, :2].min(0), pts[:, :2].max(0)
    pts[:, :2] += pad_cm - lo
    return ItemBuilder(float(hi[0] - lo[0]) + 2 * pad_cm, float(hi[1] - lo[1]) + 2 * pad_cm, ppc), pts


def curve3d(length: float, bend_rad: float, n: int, twist: float = 0.0) -> np.ndarray:
    """[n, 3] points of an arc of ``length`` cm bending by ``bend_rad`` in the body x-y plane,
    starting at the origin along +x; ``twist`` lifts the far end out of that plane (a tusk's or a
    horn's spiral) by that fraction of the length. Body frame: pose it with a rotation."""
    s = np.linspace(0.0, 1.0, n)
    if abs(bend_rad) < 1e-3:
        x, y = s * length, np.zeros(n)
    else:
        radius = length / bend_rad
        x, y = radius * np.sin(s * bend_rad), radius * (1 - np.cos(s * bend_rad))
    return np.stack([x, y, twist * length * s ** 2], axis=1)
