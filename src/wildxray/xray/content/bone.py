"""Big-cat bones: long bones, skulls, a section of spine, ribs on their vertebrae, a paw with its
claws, a canine tooth. Each generator draws ONE object.

Anatomy (tiger; lion and leopard scaled down): femur 30-40 cm, humerus 28-35 cm, a shaft 2.5-3.5 cm
across with a cortex a third of its radius round the marrow cavity, spongy ends under a thin
cortex; skull 25-38 cm long and 0.7 of that across the zygomatic arches, canines 6-10 cm with
their roots. On scans a bone is green (calcium), a long bone shows two bright cortical lines
along its shaft and knobbly ends, which tells it from a solid, tapering tusk.
"""

from __future__ import annotations

import math

import numpy as np

from wildxray.xray.content.builder import ItemBuilder, arc_points, builder_around, curve3d
from wildxray.xray.content.solids3d import random_rotation, rotation


def long_bone(rng: np.random.Generator, ppc: float, material: str = "cortical_bone") -> ItemBuilder:
    """Femur or humerus: a bowed shaft (cortex round a marrow cavity, or empty when dried) that
    flares into spongy ends, a ball-shaped head at one end and two condyles at the other; lying
    at a random tilt and roll."""
    length = rng.uniform(14, 40)
    r = length * rng.uniform(0.04, 0.055)
    n = 16
    s = np.linspace(0, 1, n)
    body = curve3d(length, rng.uniform(-0.15, 0.15), n)
    flare = 1 + 0.9 * np.exp(-(s / 0.09) ** 2) + 1.1 * np.exp(-((1 - s) / 0.09) ** 2)
    radii = r * flare
    cortex = np.where((s > 0.15) & (s < 0.85), rng.uniform(0.3, 0.45) * r, 0.12 * r)
    R = random_rotation(rng, 30)
    # head (proximal, set off the axis on a neck) and two condyles (distal), in the body frame
    head_c = np.array([-0.02 * length, 1.1 * r, 0.0])
    condyles = [np.array([length * 1.0, side * 0.9 * r, 0.0]) for side in (-1, 1)]
    b, pts = builder_around(np.vstack([body, head_c, *condyles]) @ R.T, 3.5 * r, ppc)
    pts, head_c, condyles = pts[:n], pts[n], list(pts[n + 1:])
    outer = b.tube3d(None, pts, radii)
    inner = b.tube3d(None, pts, radii - cortex)
    b.add(material, np.maximum(outer - inner, 0.0))
    mid = slice(int(0.15 * n), int(0.85 * n) + 1)
    medulla = np.minimum(b.tube3d(None, pts[mid], (radii - cortex)[mid]), inner)
    b.add("spongy_bone", np.maximum(inner - medulla, 0.0))
    if rng.random() < 0.5:  # fresh: yellow marrow; dried (bones traded for "tiger wine"): air
        b.add("yellow_marrow", medulla)
    for centre, size in [(head_c, 1.45 * r)] + [(c, 1.15 * r) for c in condyles]:
        shell = b.ellipsoid3d(None, tuple(centre), (size, size, size * 0.95), R)
        core = b.ellipsoid3d(None, tuple(centre), (size * 0.85, size * 0.85, size * 0.8), R)
        b.add(material, np.maximum(shell - core, 0.0))
        b.add("spongy_bone", core)
    return b


def skull(rng: np.random.Generator, ppc: float, material: str = "cortical_bone") -> ItemBuilder:
    """Big-cat skull lying on its base, seen from above: braincase with a sagittal crest, short
    broad muzzle, wide zygomatic arches framing the orbits, canines pointing down (dense dots)
    and cheek teeth; sometimes with its mandible."""
    L = rng.uniform(18, 36)
    W = L * rng.uniform(0.62, 0.75)
    b = ItemBuilder(L + 3, W + 3, ppc)
    cy = 1.5 + W / 2
    x = lambda f: 1.5 + f * L  # noqa: E731 - fraction of the length, from the snout
    b.shell_ellipsoid(material, x(0.64), cy, L * 0.32, W * 0.3, L * 0.4, wall=0.45, fill=None)  # braincase
    b.tube(material, [(x(0.42), cy), (x(0.97), cy)], [0.25, 0.35], depth_scale=3.0)  # sagittal crest
    b.shell_ellipsoid(material, x(0.2), cy, L * 0.2, W * 0.22, L * 0.28, wall=0.5, fill="spongy_bone",
                      fill_level=0.3)  # muzzle
    for side in (-1, 1):
        arch = [(x(0.25), cy + side * W * 0.17), (x(0.38), cy + side * W * 0.44), (x(0.52), cy + side * W * 0.49),
                (x(0.66), cy + side * W * 0.3)]
        b.tube(material, arch, [0.6, 0.7, 0.7, 0.6], depth_scale=1.6)  # zygomatic arch, both ends fused
        b.tube(material, [(x(0.3), cy + side * W * 0.2), (x(0.42), cy + side * W * 0.12)], 0.4)  # orbit rim
        cy_c = cy + side * W * 0.12
        b.tube3d("dentine_ivory", [(x(0.08), cy_c, 0.0), (x(0.03), cy_c, L * 0.12)], [0.8, 0.2])  # canine, down
        for k in range(3):  # premolars and carnassial along the jaw
            b.ellipsoid("dentine_ivory", x(0.17 + 0.07 * k), cy + side * W * (0.2 + 0.02 * k), 0.5 + 0.2 * k, 0.4,
                        1.2)
    if rng.random() < 0.5:  # mandible under it: chin under the snout, its rami under the arches
        chin = arc_points(x(0.12), cy, W * 0.14, math.pi * 0.5, math.pi * 1.5, 7)
        rami = [(x(0.72), cy + W * 0.3)] + chin + [(x(0.72), cy - W * 0.3)]
        b.tube(material, rami, 0.55, depth_scale=2.0)
    return b


def _vertebra(b: ItemBuilder, material: str, c: np.ndarray, R: np.ndarray, size: float) -> None:
    """One vertebra at ``c`` (patch frame) posed by ``R``: a cylindrical body along body-x, a
    spinous process up (+z body), transverse processes to the sides."""
    def at(p: tuple[float, float, float]) -> np.ndarray:
        return c + R @ np.asarray(p)
    body_len = size * 1.3
    b.hollow_tube3d(material, [at((-body_len / 2, 0, 0)), at((body_len / 2, 0, 0))], size * 0.55, size * 0.12,
                    fill="spongy_bone")
    b.tube3d(material, [at((0, 0, size * 0.4)), at((-size * 0.5, 0, size * 1.9))], [size * 0.22, size * 0.12])
    for side in (-1, 1):
        b.tube3d(material, [at((0, side * size * 0.3, size * 0.2)), at((0, side * size * 1.3, size * 0.1))],
                 [size * 0.18, size * 0.1])
        b.tube3d(material, [at((0, side * size * 0.25, size * 0.35)), at((0, 0, size * 0.65))], size * 0.12)  # arch


def vertebrae(rng: np.random.Generator, ppc: float, material: str = "cortical_bone") -> ItemBuilder:
    """A section of 3-8 articulated vertebrae, seen from any side (roll): a row of bodies with
    their processes, touching at the joints."""
    n = int(rng.integers(3, 9))
    size = rng.uniform(1.4, 2.4)
    R = rotation(0, rng.uniform(-20, 20), rng.uniform(-180, 180))
    step = size * 1.25  # bodies 1.3 long: they touch at the joints (one piece)
    ends = np.array([[0, 0, 0], [step * (n - 1), 0, 0]], float) @ R.T
    b, ends = builder_around(ends, size * 2.5, ppc)
    for k in range(n):
        _vertebra(b, material, ends[0] + (ends[1] - ends[0]) * k / max(n - 1, 1), R, size)
    return b


def ribs(rng: np.random.Generator, ppc: float, material: str = "cortical_bone") -> ItemBuilder:
    """One side of a rib cage, butchered: 3-7 curved, flattened ribs still on their vertebrae."""
    n = int(rng.integers(3, 8))
    size = rng.uniform(1.3, 2.0)
    rib_len = rng.uniform(14, 26)
    step = size * 1.25  # bodies 1.3 long: they touch at the joints (one piece)
    b = ItemBuilder(step * n + rib_len * 0.5 + 6, rib_len + 6, ppc)
    R = rotation(0, 0, 90)  # the column seen from its side: spinous processes in the image plane
    for k in range(n):
        c = np.array([3 + size + k * step, 3 + size, 0.0])
        _vertebra(b, material, c, R, size)
        sweep = rng.uniform(0.2, 0.45)
        path = [(c[0] + rib_len * 0.5 * sweep * f * f, c[1] + size * 0.5 + rib_len * f) for f in np.linspace(0, 1, 7)]
        b.hollow_tube(material, path, np.linspace(0.55, 0.35, 7) * size * 0.6, 0.15 * size, fill="spongy_bone")
    return b


def paw(rng: np.random.Generator, ppc: float, material: str = "cortical_bone") -> ItemBuilder:
    """A big-cat paw skeleton: 4 metapodials fanned out, two phalanges each, and the hooked claw
    (keratin sheath over the last toe bone) on each; a dewclaw on forepaws."""
    scale = rng.uniform(0.7, 1.1)
    b = ItemBuilder(22 * scale, 16 * scale, ppc)
    cx, cy = 3 * scale, 8 * scale
    b.ellipsoid(material, cx + 0.5 * scale, cy, 1.6 * scale, 2.6 * scale, 2.0 * scale)  # carpal block
    for k in range(4):
        a = (k - 1.5) * 0.22 + rng.normal(0, 0.04)
        p = [(cx + d * math.cos(a), cy + d * math.sin(a)) for d in np.array([1.0, 8.0, 11.5, 14.0]) * scale]
        b.hollow_tube(material, p[:2], [0.55 * scale, 0.45 * scale], 0.18 * scale, fill="spongy_bone")
        b.tube(material, p[1:3], [0.45 * scale, 0.38 * scale])
        b.tube(material, p[2:4], [0.38 * scale, 0.32 * scale])
        tip = p[3]
        hook = arc_points(tip[0], tip[1] + 1.6 * scale, 1.6 * scale, a - math.pi / 2, a + 0.9, 6)
        b.tube("keratin", hook, np.linspace(0.55, 0.06, 6) * scale)
        b.tube(material, hook[:4], np.linspace(0.3, 0.1, 4) * scale)
    if rng.random() < 0.6:  # dewclaw
        b.tube(material, [(cx + 1, cy - 2.2 * scale), (cx + 4 * scale, cy - 3.5 * scale)], 0.35 * scale)
        b.tube("keratin", arc_points(cx + 4 * scale, cy - 2.5 * scale, 1.0 * scale, -math.pi / 2, 0.6, 5),
               np.linspace(0.4, 0.05, 5) * scale)
    return b


def canine(rng: np.random.Generator, ppc: float, material: str = "dentine_ivory") -> ItemBuilder:
    """One big-cat canine with its root: a curved cone 6-10 cm long, a pulp canal inside."""
    length = rng.uniform(6, 10)
    r = length * rng.uniform(0.11, 0.14)
    n = 8
    s = np.linspace(0, 1, n)
    body = curve3d(length, rng.uniform(0.4, 0.7), n)
    R = random_rotation(rng, 40)
    b, pts = builder_around(body @ R.T, r + 1, ppc)
    radii = r * np.interp(s, [0, 0.45, 0.55, 1.0], [0.7, 1.0, 1.0, 0.12])  # root swells to the crown base
    b.hollow_tube3d(material, pts, radii, np.where(s < 0.7, 0.55 * radii, radii))
    return b
