"""3-D solids projected along the beam: volumes are conserved under any pose, tilts foreshorten
and thicken, mitred chains tile a bent tube without seams."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wildxray.xray.content.builder import ItemBuilder
from wildxray.xray.content.solids3d import rotation

PPC = 10.0


def _volume(t: np.ndarray) -> float:
    return float(t.sum()) / PPC ** 2  # cm^3: chord (cm) x pixel area (cm^2)


@pytest.mark.parametrize("pitch", [0, 30, 60, 85])
def test_tilted_cylinder_keeps_its_volume_and_gets_shorter_and_thicker(pitch):
    b = ItemBuilder(40, 40, PPC)
    axis = rotation(20, pitch, 0) @ np.array([1.0, 0, 0])
    centre = np.array([20.0, 20.0, 0.0])
    pts = [centre + axis * (s - 0.5) * 20 for s in np.linspace(0, 1, 5)]
    t = b.tube3d(None, pts, 2.0)
    assert _volume(t) == pytest.approx(math.pi * 4 * 20, rel=0.01)
    assert t[200, 200] == pytest.approx(min(4 / math.cos(math.radians(pitch)), 20), rel=0.02)
    cols = np.flatnonzero(t.any(0))
    projected = 20 * math.cos(math.radians(pitch)) * math.cos(math.radians(20))
    assert cols[-1] - cols[0] <= projected * PPC + 2 * 2 * PPC + 2  # foreshortened, plus the radius


def test_bent_tube_and_closed_ring_tile_without_seams():
    b = ItemBuilder(60, 60, PPC)
    q = np.linspace(0, 1.2, 12)
    pts = np.array([(10 + 25 * math.sin(a), 10 + 25 * (1 - math.cos(a)), 5 * a) for a in q])
    length = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())
    assert _volume(b.tube3d(None, pts, 1.5)) == pytest.approx(math.pi * 1.5 ** 2 * length, rel=0.01)
    R = rotation(0, 50, 0)
    ring = [np.array([10, 10, 0]) + R @ np.array([4 * math.cos(a), 4 * math.sin(a), 0])
            for a in np.linspace(0, 2 * math.pi, 24, endpoint=False)]
    t = ItemBuilder(20, 20, PPC).tube3d(None, ring, 0.6, closed=True)
    assert _volume(t) == pytest.approx(2 * math.pi * 4 * math.pi * 0.36, rel=0.02)  # polygon ~ circle
    assert t[100, 100] == 0  # the hole of the bangle stays empty


def test_cone_and_ellipsoid_volumes():
    b = ItemBuilder(40, 40, PPC)
    axis = rotation(0, 40, 0) @ np.array([1.0, 0, 0])
    pts = [np.array([20.0, 20, 0]) + axis * (s - 0.5) * 20 for s in np.linspace(0, 1, 8)]
    cone = b.tube3d(None, pts, np.linspace(3, 0.1, 8))
    assert _volume(cone) == pytest.approx(math.pi * 20 / 3 * (9 + 0.3 + 0.01), rel=0.01)
    e = ItemBuilder(20, 20, PPC).ellipsoid3d(None, (10, 10, 0), (5, 2, 1), rotation(30, 40, 10))
    assert _volume(e) == pytest.approx(4 / 3 * math.pi * 10, rel=0.01)


def test_plate_seen_at_a_tilt_is_foreshortened_and_thicker():
    square = [(-3, -3), (3, -3), (3, 3), (-3, 3)]
    flat = ItemBuilder(20, 20, PPC).plate3d(None, square, 0.2, (10, 10), rotation(0, 0, 0))
    steep = ItemBuilder(20, 20, PPC).plate3d(None, square, 0.2, (10, 10), rotation(0, 60, 0))
    assert flat.max() == pytest.approx(0.2, abs=1e-6) and steep.max() == pytest.approx(0.4, abs=1e-3)
    width = lambda t: np.flatnonzero(t[100] > 0).size  # noqa: E731 - a row across the plate
    assert width(steep) == pytest.approx(width(flat) / 2, abs=2)
    assert _volume(steep) == pytest.approx(_volume(flat), rel=0.08)  # anti-aliased edges aside
    edge_on = ItemBuilder(20, 20, PPC).plate3d(None, square, 0.2, (10, 10), rotation(0, 89.9, 0), max_path=3.0)
    assert edge_on.max() <= 3.0
