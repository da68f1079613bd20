"""Look-alikes that must not alarm (DESIGN.md): similar shapes in different materials, or
similar materials in different shapes. They carry no box.

The hardest pairs are intentional: a polyresin (epoxy + CaCO3) bangle next to an ivory one, a
cattle-horn comb next to rhino-horn pieces, leather goods next to hides.
"""

from __future__ import annotations

import math

import numpy as np

from wildxray.xray.content import horn, ivory, live_animals, skins
from wildxray.xray.content.builder import ItemBuilder, arc_points, blob_outline


def wood_carving(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    shape = rng.choice([ivory.carving, ivory.beads, ivory.chopsticks])
    return shape(rng, ppc, "wood")


def _cast_tusk(rng: np.random.Generator, ppc: float, material: str) -> ItemBuilder:
    return ivory.tusk(rng, ppc, material, cavity=False)  # cast solid: no pulp cavity


def _cast_horn(rng: np.random.Generator, ppc: float, material: str) -> ItemBuilder:
    return horn.rhino_horn(rng, ppc, material, core=None)  # a replica horn: no core, no tubules' density


def resin_carving(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Polyresin figurines, faux tusks, replica horns, beads and seals: the commonest fakes."""
    shape = rng.choice([ivory.figurine, _cast_tusk, _cast_horn, ivory.beads, ivory.seal])
    return shape(rng, ppc, str(rng.choice(["polyresin", "epoxy"])))


def plastic_bangles(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    return ivory.bangle(rng, ppc, str(rng.choice(["pmma", "abs", "polyresin"])))


def bone_craft(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Cattle-bone crafts: a comb with teeth, flat carved plaques or knife handles."""
    kind = rng.choice(["comb", "plaque", "handle"])
    if kind == "comb":
        return _comb(rng, ppc, "cattle_bone")
    if kind == "plaque":
        b = ItemBuilder(14, 10, ppc)
        b.polygon("cattle_bone", blob_outline(rng, 7, 5, 5.5, 3.5, 10, 0.1), 0.5, round_cm=0.3)
        for _ in range(int(rng.integers(3, 9))):  # openwork carving
            b.carve("cattle_bone", b.ellipsoid(None, rng.uniform(3, 11), rng.uniform(2.5, 7.5), 0.6, 0.4, 1.0))
        return b
    b = ItemBuilder(24, 5, ppc)
    b.rect("cattle_bone", 1, 1.3, 11, 2.4, 1.2, round_cm=0.5)
    b.rect("stainless_steel", 12, 1.6, 11, 1.8, 0.25)
    return b


def _comb(rng: np.random.Generator, ppc: float, material: str) -> ItemBuilder:
    L = rng.uniform(10, 20)
    b = ItemBuilder(L + 2, 7, ppc)
    b.rect(material, 1, 1, L, 2, 0.35, round_cm=0.3)
    for x in np.arange(1.2, L + 1, rng.uniform(0.25, 0.5)):
        b.rect(material, float(x), 2.8, 0.15, 3.2, 0.25)
    return b


def horn_craft(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Cattle-horn combs, shoehorns and drinking cups (keratin, thin-walled)."""
    kind = rng.choice(["comb", "cup"])
    if kind == "comb":
        return _comb(rng, ppc, "cattle_horn")
    L = rng.uniform(12, 25)
    b = ItemBuilder(L + 4, L * 0.5 + 4, ppc)
    pts = arc_points(2, -L * 0.6, L, math.pi * 0.45, math.pi * 0.05, 8)
    pts = [(x + 1, y + L * 0.6 + 2) for x, y in pts]
    b.hollow_tube("cattle_horn", pts, np.linspace(L * 0.18, 0.4, 8), 0.3)
    return b


def leather_goods(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Chrome-tanned leather: wallet, coiled belt with buckle, handbag with zip."""
    kind = rng.choice(["wallet", "belt", "bag"])
    if kind == "wallet":
        b = ItemBuilder(13, 11, ppc)
        for k in range(int(rng.integers(3, 7))):
            b.rect("leather", 1 + 0.1 * k, 1 + 0.1 * k, 11, 9, 0.12, round_cm=0.3)
        for k in range(int(rng.integers(0, 4))):
            b.rect("pvc", 2 + k * 0.3, 2, 8.5, 5.4, 0.08)
        return b
    if kind == "belt":
        b = ItemBuilder(16, 16, ppc)
        turns = np.linspace(0, 2 * math.pi * 2.5, 60)
        pts = [(8 + (2.5 + 0.7 * t / (2 * math.pi)) * math.cos(t), 8 + (2.5 + 0.7 * t / (2 * math.pi)) * math.sin(t))
               for t in turns]
        b.tube("leather", pts, 0.6, depth_scale=3.0)
        b.rect("brass", 6.5, 1, 4, 3.2, 0.4)
        return b
    W, H = rng.uniform(25, 35), rng.uniform(18, 26)
    b = ItemBuilder(W + 2, H + 2, ppc)
    b.rect("leather", 1, 1, W, H, 0.35, round_cm=2)
    b.rect("brass", 2, 2, W - 2, 0.6, 0.3)
    b.tube("leather", arc_points(1 + W / 2, 1 + H * 0.5, W * 0.35, math.pi * 1.1, math.pi * 1.9, 8), 0.6)
    return b


def plush_toy(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Stuffed animal (it can be shaped like a tortoise or a lizard): fibre fill, plastic eyes,
    sometimes a sound box with a battery."""
    shape = rng.choice([live_animals.tortoise, live_animals.lizard, None])
    if shape is not None:
        b = shape(rng, ppc, "plush_fill", container="none")
        for mat in ("tortoise_shell", "cortical_bone"):  # no skeleton inside a plush toy
            if mat in b.parts:
                b.parts["plush_fill" if mat == "tortoise_shell" else "polyester_fabric"] = b.parts.pop(mat) * 0.2
        b.parts["plush_fill"] = b.parts["plush_fill"] * 4  # stuffed fatter than the animal
    else:
        S = rng.uniform(15, 35)
        b = ItemBuilder(S + 2, S + 2, ppc)
        b.ellipsoid("plush_fill", S / 2 + 1, S * 0.62 + 1, S * 0.35, S * 0.35, S * 0.6)
        b.ellipsoid("plush_fill", S / 2 + 1, S * 0.25 + 1, S * 0.22, S * 0.2, S * 0.4)
        for dx in (-1, 1):
            b.ellipsoid("abs", S / 2 + 1 + dx * S * 0.08, S * 0.22 + 1, 0.6, 0.6, 0.6)
    if rng.random() < 0.3:
        b.rect("abs", b.w / ppc / 2 - 2, b.h / ppc / 2 - 1.5, 4, 3, 1.5)
        b.tube("alkaline_cell", [(b.w / ppc / 2 - 1.5, b.h / ppc / 2), (b.w / ppc / 2 + 1.5, b.h / ppc / 2)], 0.5)
    return b


def ceramics(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Porcelain: a mug seen from the side or above, a bowl, or a figurine."""
    kind = rng.choice(["mug", "bowl", "figurine"])
    if kind == "figurine":
        b = ivory.figurine(rng, ppc, "porcelain")
        for k, v in b.parts.items():  # ceramic figurines are hollow-cast: keep a thin-wall look
            b.parts[k] = np.minimum(v, 1.2)
        return b
    r = rng.uniform(4, 7)
    b = ItemBuilder(2 * r + 6, 2 * r + 2, ppc)
    if kind == "mug":
        b.hollow_tube("porcelain", [(r + 1, 1), (r + 1, 2 * r + 1)], [r * 0.8, r * 0.8], 0.5)
        b.tube("porcelain", arc_points(2 * r + 1, r + 1, r * 0.5, -1.2, 1.2, 6), 0.5)
    else:
        b.shell_ellipsoid("porcelain", r + 1, r + 1, r, r, r, 0.5)
    return b


def food_bones(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Cooked chicken/pork bones in a food container: short small bones with some meat."""
    b = ItemBuilder(18, 14, ppc)
    b.rect("polypropylene", 1, 1, 16, 12, 0.2, round_cm=1)
    for _ in range(int(rng.integers(3, 9))):
        x, y = rng.uniform(3, 14), rng.uniform(3, 10)
        a = rng.uniform(0, math.pi)
        L = rng.uniform(3, 8)
        p0, p1 = (x, y), (x + L * math.cos(a) * 0.5, y + L * math.sin(a) * 0.5)
        b.hollow_tube("cattle_bone", [p0, p1], [0.5, 0.4], 0.15)
        b.ellipsoid("cattle_bone", p1[0], p1[1], 0.7, 0.6, 1.0)
        b.ellipsoid("soft_tissue", (x + p1[0]) / 2, (y + p1[1]) / 2, L * 0.35, 1.2, 2.0, math.degrees(a))
    return b


def leather_hide_offcuts(rng: np.random.Generator, ppc: float) -> ItemBuilder:
    """Folded leather or synthetic-fur fabric: the hide look-alike (tanned, chromium-bearing)."""
    b = skins.folded_hide(rng, ppc, "leather", fur=False, animal=False)
    if rng.random() < 0.4:
        b.add("polyester_fabric", (b.parts["leather"] > 0) * rng.uniform(0.5, 2.0))
    return b


DECOYS = {
    "wood_carving": wood_carving, "resin_carving": resin_carving, "plastic_bangles": plastic_bangles,
    "bone_craft": bone_craft, "horn_craft": horn_craft, "leather_goods": leather_goods, "plush_toy": plush_toy,
    "ceramics": ceramics, "food_bones": food_bones, "leather_hide_offcuts": leather_hide_offcuts,
}
