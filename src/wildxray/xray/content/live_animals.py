"""Live animals as smugglers pack them: lizards and snakes in socks or cloth bags, tortoises taped
or bagged, a bird in a tube or a ventilated box. Each item is ONE animal in its container.

What an inspector reads: a soft-tissue body (orange) with a skeleton inside it (vertebrae in a
row, ribs, limb bones, a skull), and air inside it (lungs, a bird's air sacs) showing lighter.
Sizes from seizure reports: lizards 12-40 cm, snakes coiled to 10-30 cm, tortoises 8-25 cm
carapace, songbirds 10-20 cm in tubes of 3-6 cm diameter.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from wildxray.xray.content.builder import ItemBuilder, blob_outline


def spine(b: ItemBuilder, pts: list[tuple[float, float]], r: float, step: float) -> None:
    """Vertebrae as small bone beads along a path (the periodic texture of a skeleton)."""
    pts_a = np.asarray(pts, np.float32)
    seg = np.linalg.norm(np.diff(pts_a, axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(seg)])
    beads = []
    for d in np.arange(0, s[-1], step):
        i = min(int(np.searchsorted(s, d, side="right")) - 1, len(seg) - 1)
        f = (d - s[i]) / max(seg[i], 1e-6)
        x, y = pts_a[i] + f * (pts_a[i + 1] - pts_a[i])
        beads.append((float(x), float(y), r, r * 0.8, r * 1.6))
    b.small_solids("cortical_bone", ellipsoids=beads)


def ribs(b: ItemBuilder, pts: list[tuple[float, float]], half_len: float, r: float) -> None:
    """Thin curved ribs on both sides of a path, swept back (the ladder read as a skeleton)."""
    bones = []
    for i in range(1, len(pts) - 1):
        (x0, y0), (x1, y1) = pts[i - 1], pts[i + 1]
        dx, dy = x1 - x0, y1 - y0
        n = math.hypot(dx, dy) or 1.0
        nx, ny, tx, ty = -dy / n, dx / n, dx / n, dy / n
        x, y = pts[i]
        for side in (-1, 1):
            mid = (x + side * nx * half_len * 0.6 - tx * half_len * 0.15, y + side * ny * half_len * 0.6 - ty * half_len * 0.15)
            end = (x + side * nx * half_len - tx * half_len * 0.35, y + side * ny * half_len - ty * half_len * 0.35)
            bones.append(([(x, y), mid, end], r))
    b.small_solids("cortical_bone", tubes=bones)


def wrap_in_cloth(b: ItemBuilder, rng: np.random.Generator, kind: str) -> None:
    """Put the animal drawn so far in a ``sock`` (knit cotton hugging its outline) or a ``bag``
    (a loose cloth bag, tied): two fabric layers, creased."""
    body = np.zeros((b.h, b.w), np.float32)
    for t in b.parts.values():
        body += t
    mask = (body > 0.05).astype(np.uint8)
    grow = max(3, int((0.6 if kind == "sock" else 2.5) * b.ppc)) | 1
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    if kind == "bag":  # a bag is a rounded sack around the animal, not its outline
        ys, xs = np.nonzero(mask)
        cx, cy = xs.mean() / b.ppc, ys.mean() / b.ppc
        rx, ry = max(np.ptp(xs) / 2 / b.ppc, 3), max(np.ptp(ys) / 2 / b.ppc, 3)
        mask = (b.polygon(None, blob_outline(rng, cx, cy, rx + 1, ry + 1, 12, 0.1), 1.0) > 0).astype(np.uint8)
    layer = rng.uniform(0.15, 0.35)  # cm of bulk cotton per layer
    b.add("cotton_fabric", mask * 2 * layer * (0.8 + 0.5 * b.wrinkles(rng, 2.0)))


def pack_in_cloth(b: ItemBuilder, rng: np.random.Generator, container: str | None,
                  weights: tuple[float, float, float]) -> None:
    """Bare, in a sock or in a bag: ``container`` ("none" | "sock" | "bag"), or drawn by ``weights``."""
    container = container or str(rng.choice(["none", "sock", "bag"], p=list(weights)))
    if container != "none":
        wrap_in_cloth(b, rng, container)


def lizard(rng: np.random.Generator, ppc: float, material: str = "soft_tissue",
           container: str | None = None) -> ItemBuilder:
    """Lizard: body, tail and head of soft tissue, air in its lungs, vertebral column, ribs,
    splayed limb bones, skull; bare, in a sock or in a cloth bag."""
    L = rng.uniform(12, 40)  # snout to tail tip
    b = ItemBuilder(L + 6, L * 0.5 + 6, ppc)
    y = L * 0.25 + 3
    body_r = L * rng.uniform(0.05, 0.08)
    curve = rng.uniform(-0.15, 0.15) * L
    path = [(3 + L * f, y + curve * math.sin(math.pi * f)) for f in np.linspace(0, 1, 12)]
    radii = np.interp(np.linspace(0, 1, 12), [0, 0.12, 0.18, 0.45, 0.5, 1.0],
                      [body_r * 0.5, body_r * 0.7, body_r * 0.6, body_r, body_r * 0.7, 0.1])
    b.tube(material, path, radii, depth_scale=0.7)
    b.carve(material, b.ellipsoid(None, *path[3], L * 0.09, body_r * 0.5, body_r * 0.6))  # lungs
    spine(b, path[1:], body_r * 0.16, body_r * 0.3)
    trunk = [(float(x), float(yy)) for x, yy in np.linspace(path[2], path[6], 9)]
    ribs(b, trunk, body_r * 0.85, max(0.05, body_r * 0.06))
    for f, side, reach in ((0.22, 1, -1), (0.22, -1, -1), (0.45, 1, 1), (0.45, -1, 1)):
        x0, y0 = path[int(f * 11)]  # upper leg sideways, lower leg bent fore or aft
        knee = (x0 + reach * body_r * rng.uniform(0.2, 0.6), y0 + side * body_r * 1.5)
        foot = (knee[0] - reach * body_r * rng.uniform(0.6, 1.0), knee[1] + side * body_r * 0.5)
        b.tube(material, [(x0, y0), knee, foot], [body_r * 0.35, body_r * 0.25, body_r * 0.2])
        b.tube("cortical_bone", [(x0, y0), knee, foot], [body_r * 0.12, body_r * 0.09, body_r * 0.07])
    b.shell_ellipsoid("cortical_bone", path[0][0] + body_r * 0.5, path[0][1], body_r * 0.6, body_r * 0.42,
                      body_r * 0.5, body_r * 0.08)
    pack_in_cloth(b, rng, container, (0.3, 0.4, 0.3))
    return b


def snake(rng: np.random.Generator, ppc: float, material: str = "soft_tissue",
          container: str | None = None) -> ItemBuilder:
    """A coiled snake: a tapering body on a spiral with vertebrae and ribs along it and one long
    air-filled lung; bare, in a sock or a cloth bag (how they are posted)."""
    r = rng.uniform(0.8, 2.2)
    turns = rng.uniform(1.2, 3.0)
    R0 = r * 2.5
    n = int(turns * 20)
    a = np.linspace(0, 2 * math.pi * turns, n)
    rad = R0 + 2.1 * r * a / (2 * math.pi)
    span = rad.max() + r + 4
    squash = rng.uniform(0.75, 1.0)
    pts = [(span + q * math.cos(t), span + q * math.sin(t) * squash) for q, t in zip(rad, a)]
    b = ItemBuilder(2 * span, 2 * span, ppc)
    radii = np.minimum(1.0, np.linspace(0.3, 1.6, n)) * r
    radii[-n // 8:] *= np.linspace(1, 0.2, len(radii[-n // 8:]))
    body = b.tube(None, pts, radii, depth_scale=0.8)
    lung = b.tube(None, pts[n // 2: n - n // 6], radii[n // 2: n - n // 6] * 0.45, depth_scale=0.8)
    b.add(material, np.maximum(body - lung, 0.0))
    spine(b, pts, r * 0.17, r * 0.35)
    ribs(b, pts[: int(len(pts) * 0.85)], r * 0.8, max(0.05, r * 0.06))
    pack_in_cloth(b, rng, container, (0.3, 0.3, 0.4))
    return b


def tortoise(rng: np.random.Generator, ppc: float, material: str = "soft_tissue",
             container: str | None = None) -> ItemBuilder:
    """Tortoise: domed carapace (bone + keratin), plastron, body with air-filled lungs under the
    shell, head and legs with bones drawn in; bare (often taped) or in a cloth bag."""
    L = rng.uniform(8, 25)
    W = L * rng.uniform(0.7, 0.85)
    b = ItemBuilder(L * 1.5 + 4, W * 1.5 + 4, ppc)
    cx, cy = L * 0.75 + 2, W * 0.75 + 2
    depth = L * rng.uniform(0.4, 0.55)
    b.shell_ellipsoid("tortoise_shell", cx, cy, L / 2, W / 2, depth, wall=0.15 + 0.02 * L, fill=material)
    b.ellipsoid("tortoise_shell", cx, cy, L * 0.45, W * 0.42, 0.2 + 0.02 * L)  # plastron
    for side in (-1, 1):  # lungs: air under the carapace
        b.carve(material, b.ellipsoid(None, cx - L * 0.05, cy + side * W * 0.18, L * 0.25, W * 0.12, depth * 0.35))
    spine(b, [(cx - L * 0.35, cy), (cx + L * 0.35, cy)], L * 0.025, L * 0.05)  # fused to the carapace
    head_a = rng.uniform(-0.3, 0.3)
    hx, hy = cx + L * 0.55 * math.cos(head_a), cy + L * 0.55 * math.sin(head_a)
    b.ellipsoid(material, hx, hy, L * 0.1, L * 0.08, L * 0.12)
    b.shell_ellipsoid("cortical_bone", hx, hy, L * 0.06, L * 0.05, L * 0.06, L * 0.01)
    tuck = rng.uniform(0.9, 1.35)  # legs pulled in or stretched out
    for ax, ay in ((0.35, 0.4), (0.35, -0.4), (-0.35, 0.4), (-0.35, -0.4)):
        p0, p1 = (cx + ax * L, cy + ay * W), (cx + ax * L * tuck, cy + ay * W * tuck)
        b.tube(material, [p0, p1], [L * 0.07, L * 0.05])
        b.tube("cortical_bone", [p0, p1], [L * 0.025, L * 0.02])
    container = container or str(rng.choice(["none", "tape", "bag"], p=[0.3, 0.3, 0.4]))
    if container == "tape":  # legs taped in: a band of tape round the shell
        b.rect("polypropylene", cx - L * 0.08, cy - W * 0.55, L * 0.16, W * 1.1, 0.02)
    elif container == "bag":
        wrap_in_cloth(b, rng, "bag")
    return b


def _bird(b: ItemBuilder, rng: np.random.Generator, material: str, x0: float, y: float, bl: float,
          br: float) -> None:
    """A songbird lying along +x from (x0, y): feathers, body with air sacs, skull and beak, keel,
    folded wing bones, leg bones, neck vertebrae."""
    b.ellipsoid("feathers", x0 + bl / 2, y, bl / 2, br, 2 * br)
    b.ellipsoid(material, x0 + bl * 0.55, y, bl * 0.3, br * 0.6, br * 1.1)
    b.carve(material, b.ellipsoid(None, x0 + bl * 0.55, y, bl * 0.17, br * 0.32, br * 0.55))  # air sacs
    b.shell_ellipsoid("cortical_bone", x0 + bl * 0.15, y, bl * 0.08, br * 0.32, br * 0.55, 0.05)  # skull
    b.tube("keratin", [(x0 + bl * 0.08, y), (x0 - bl * 0.06, y)], [br * 0.16, 0.05])  # beak
    spine(b, [(x0 + bl * 0.22, y), (x0 + bl * 0.85, y)], br * 0.09, br * 0.16)
    b.tube("cortical_bone", [(x0 + bl * 0.4, y), (x0 + bl * 0.7, y)], 0.08, depth_scale=3.0)  # keel
    for side in (-1, 1):  # folded wing: humerus forward, ulna/radius back, along the body
        sh, el = (x0 + bl * 0.32, y + side * br * 0.45), (x0 + bl * 0.5, y + side * br * 0.6)
        b.tube("cortical_bone", [sh, el, (x0 + bl * 0.9, y + side * br * 0.5)], [0.1, 0.08, 0.06])
        b.tube("cortical_bone", [(x0 + bl * 0.65, y + side * br * 0.2), (x0 + bl * 0.95, y + side * br * 0.3)], 0.06)


def bird(rng: np.random.Generator, ppc: float, material: str = "soft_tissue",
         container: str | None = None) -> ItemBuilder:
    """One small bird in a PVC or cardboard tube, or in a ventilated plastic box (holes in its
    lid, walls seen edge-on as a bright rim)."""
    container = container or str(rng.choice(["tube", "box"], p=[0.65, 0.35]))
    L, r = rng.uniform(12, 22), rng.uniform(2.0, 3.2)
    if container == "tube":
        b = ItemBuilder(L + 2, 2 * r + 2, ppc)
        y = 1 + r
        tube_mat = "pvc" if rng.random() < 0.5 else "cardboard"
        b.hollow_tube(tube_mat, [(1, y), (L + 1, y)], [r, r], 0.15 if tube_mat == "pvc" else 0.3)
        bl = L * rng.uniform(0.6, 0.85)
        _bird(b, rng, material, 1 + (L - bl) / 2, y, bl, r * 0.8)
        return b
    W, H, depth = L + 3, 2 * r + 5, rng.uniform(6, 10)
    b = ItemBuilder(W + 1, H + 1, ppc)
    wall = 0.2
    b.rect("polypropylene", 0.5, 0.5, W, H, 2 * wall, round_cm=0.5)  # lid and floor
    b.rect("polypropylene", 0.5, 0.5, W, H, depth, round_cm=0.5)  # walls seen edge-on ...
    b.carve("polypropylene", b.rect(None, 0.5 + wall, 0.5 + wall, W - 2 * wall, H - 2 * wall, depth, round_cm=0.4))
    for hx in np.arange(2.0, W, 1.5):  # ... and a grid of air holes in the lid and floor
        for hy in np.arange(2.0, H, 1.5):
            b.carve("polypropylene", b.ellipsoid(None, float(hx), float(hy), 0.3, 0.3, 2 * wall))
    bl = L * rng.uniform(0.6, 0.85)
    _bird(b, rng, material, 0.5 + (W - bl) / 2, 0.5 + H / 2, bl, r * 0.8)
    return b
