"""Compose a parcel scene (container, clutter, decoys, contraband, concealment) and rasterise it
into basis-material thickness maps.

Frames: image pixels, x along the belt (columns), y across the tunnel (rows); items are placed by
the top-left corner of their patch. A contraband item's mask is the set of pixels where its OWN
projected areal density exceeds ``MASK_DENSITY_G_CM2``, clipped to the image; its box is the tight
xyxy box of that mask (image pixels, exclusive max edges). See docs/internals.md, "Boxes and masks".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import cv2
import numpy as np

from wildxray.types import CLASS_NAMES
from wildxray.xray.content.builder import Item, ItemBuilder
from wildxray.xray.content.parcels import make_parcel
from wildxray.xray.tip import mask_box
from wildxray.xray.xray_catalogue import decoy_probabilities, make_clutter, make_contraband, make_decoy

#: Areal density (g/cm^2, the item's own mass per area along the ray) above which a pixel belongs
#: to a contraband item's mask and box. With the default profile 0.05 g/cm^2 of keratin, hide or
#: tissue takes 1.0 % off the low channel (-ln T 0.0097), of ivory or bone 1.6-1.8 %: about one
#: pixel's quantum noise there (1/sqrt(12000) = 0.9 %). Below it lie the item's anti-aliased rim
#: and packaging film: a scale sack's polyethylene or woven polypropylene, 0.014-0.045 g/cm^2 even
#: at its creases, so a sack of scales is boxed round the heap of scales, not round the slack sack
#: (a threshold inside that range would box the sack's creases and weave at random). Every body of
#: an item (a few mm of material) lies far above it.
MASK_DENSITY_G_CM2 = 0.05

DENSE_COVER = ("laptop", "tool", "book", "can", "power_bank", "shoes")


@dataclass
class PlacedItem:
    item: Item
    x: int
    y: int
    concealment: str | None = None


@dataclass
class Scene:
    """A parcel on the belt: ``width`` x ``height`` pixels, items in drawing order."""

    width: int
    height: int
    ppc: float
    items: list[PlacedItem] = field(default_factory=list)
    parcel_kind: str = ""

    def contraband(self) -> list[PlacedItem]:
        return [p for p in self.items if p.item.role == "contraband"]


def _fit(item: Item, rng: np.random.Generator, max_w: int, max_h: int) -> Item | None:
    """Turn the item at random; if it does not fit the interior, lay it along the long side.

    The rotated size is computed before warping so only the chosen angle is rasterised."""
    h, w = item.shape
    for angle in (rng.uniform(0, 360), rng.uniform(-15, 15), 90 + rng.uniform(-10, 10)):
        a = math.radians(angle)
        c, s = abs(math.cos(a)), abs(math.sin(a))
        if h * s + w * c + 2 <= max_w and h * c + w * s + 2 <= max_h:
            return item.rotated(angle)
    return None


def _place(scene: Scene, item: Item, rng: np.random.Generator, inner_px: tuple[int, int, int, int],
           near: tuple[float, float] | None = None, concealment: str | None = None) -> PlacedItem | None:
    x0, y0, x1, y1 = inner_px
    fitted = _fit(item, rng, x1 - x0, y1 - y0)
    if fitted is None:
        return None
    h, w = fitted.shape
    if near is None:
        x, y = rng.integers(x0, x1 - w + 1), rng.integers(y0, y1 - h + 1)
    else:  # centre on a point (covering/wrapping), clamped into the parcel
        x = int(np.clip(near[0] - w / 2, x0, x1 - w))
        y = int(np.clip(near[1] - h / 2, y0, y1 - h))
    placed = PlacedItem(fitted, int(x), int(y), concealment)
    scene.items.append(placed)
    return placed


#: positions tried per contraband item when ``content.contraband_max_overlap`` is set
APART_TRIES = 12


def _cover(box: np.ndarray, others: list[np.ndarray]) -> float:
    """The largest share of the smaller box that ``box`` and any of ``others`` have in common."""
    worst = 0.0
    for o in others:
        iw = min(box[2], o[2]) - max(box[0], o[0])
        ih = min(box[3], o[3]) - max(box[1], o[1])
        if iw > 0 and ih > 0:
            smaller = min((box[2] - box[0]) * (box[3] - box[1]), (o[2] - o[0]) * (o[3] - o[1]))
            worst = max(worst, iw * ih / max(smaller, 1.0))
    return worst


def _place_apart(scene: Scene, item: Item, rng: np.random.Generator, inner_px: tuple[int, int, int, int],
                 taken: list[np.ndarray], max_overlap: float, concealment: str | None) -> PlacedItem | None:
    """``_place`` for contraband that keeps off the contraband already placed (``taken``: their
    footprint boxes in image pixels): the first of ``APART_TRIES`` random positions where no box
    covers more than ``max_overlap`` of the smaller one; None when there is none (the caller draws
    another item, perhaps a smaller one, and a full parcel ends with fewer). Different items
    stacked in the beam give one place two classes' boxes, which no detector can learn from."""
    x0, y0, x1, y1 = inner_px
    fitted = _fit(item, rng, x1 - x0, y1 - y0)
    if fitted is None:
        return None
    h, w = fitted.shape
    local = np.asarray(mask_box(fitted.footprint()) or [0, 0, 0, 0], np.float64)  # within the patch
    for _ in range(APART_TRIES):
        x, y = int(rng.integers(x0, x1 - w + 1)), int(rng.integers(y0, y1 - h + 1))
        if _cover(local + [x, y, x, y], taken) <= max_overlap:
            placed = PlacedItem(fitted, x, y, concealment)
            scene.items.append(placed)
            taken.append(local + [x, y, x, y])
            return placed
    return None


def _place_one(scene: Scene, factory, rng: np.random.Generator, inner_px: tuple[int, int, int, int],
               tries: int = 3) -> PlacedItem | None:
    """Place a fresh item from ``factory``; draw another if it does not fit the parcel."""
    for _ in range(tries):
        placed = _place(scene, factory(), rng, inner_px)
        if placed is not None:
            return placed
    return None


def _foil_wrap(item: Item, rng: np.random.Generator, ppc: float) -> Item:
    """Crumpled aluminium foil (16 um per layer, 2-8 layers) over the item's footprint."""
    mask = item.footprint().astype(np.uint8)
    k = max(3, int(0.8 * ppc)) | 1
    grown = cv2.dilate(mask, np.ones((k, k), np.uint8))
    h, w = mask.shape
    b = ItemBuilder(w / ppc, h / ppc, ppc)
    layers = rng.uniform(2, 8)
    crumple = b.smooth_noise(rng, 0.7, 0.3, 1.7)[:h, :w]
    b.parts["aluminium"] = np.zeros((b.h, b.w), np.float32)
    b.parts["aluminium"][:h, :w] = grown * crumple * layers * 0.0016
    return b.build("wrap/foil", "wrap")


def compose_scene(rng: np.random.Generator, content: Mapping[str, Any], width: int, height: int, ppc: float,
                  with_contraband: bool) -> Scene:
    """Draw one parcel. ``content`` is the ``content`` node of configs/synth.yaml."""
    kinds = dict(content["parcel_kinds"])
    names = sorted(kinds)
    probs = np.array([kinds[n] for n in names], float)
    kind = names[int(rng.choice(len(names), p=probs / probs.sum()))]
    scene = Scene(width, height, ppc, parcel_kind=kind)
    parcel, inner = make_parcel(kind, rng, ppc, width / ppc, height / ppc)
    ph, pw = parcel.shape
    px, py = int(rng.integers(0, max(1, width - pw))), int(rng.integers(0, max(1, height - ph)))
    scene.items.append(PlacedItem(parcel, px, py))
    inner_px = (px + int(inner[0] * ppc), py + int(inner[1] * ppc), px + int(inner[2] * ppc), py + int(inner[3] * ppc))
    area_scale = (pw * ph) / (0.45 * width * height)

    lo, hi = content["clutter"]
    n_clutter = max(1, int(round(rng.integers(lo, hi + 1) * min(1.3, area_scale))))
    n_decoys = int(rng.integers(content["decoys"][0], content["decoys"][1] + 1)) if rng.random() < content["decoy_probability"] else 0
    n_threats = int(rng.integers(content["contraband"][0], content["contraband"][1] + 1)) if with_contraband else 0

    # Clutter first and last: contraband sits among, under and over ordinary things.
    first = n_clutter // 2
    for _ in range(first):
        _place_one(scene, lambda: make_clutter(rng, ppc), rng, inner_px)
    decoy_weights = content.get("decoy_weights")
    decoy_p = decoy_probabilities(decoy_weights) if decoy_weights else None
    for _ in range(n_decoys):
        _place_one(scene, lambda: make_decoy(rng, ppc, probabilities=decoy_p), rng, inner_px)
    weights = dict(content["class_weights"])
    cls_p = np.array([weights.get(c, 0.0) for c in CLASS_NAMES], float)
    max_overlap = content.get("contraband_max_overlap")
    taken: list[np.ndarray] = []  # footprint boxes of the contraband placed so far (contraband_max_overlap)
    placed_threats = 0
    tries = 0
    retry_cls, retries = None, 0  # contraband_max_overlap: a class whose item found no room gets 3 more draws
    while placed_threats < n_threats and tries < n_threats * 4 + 30:  # a 55 cm tusk does not fit an envelope
        tries += 1
        cls = retry_cls or CLASS_NAMES[int(rng.choice(len(CLASS_NAMES), p=cls_p / cls_p.sum()))]
        conceal = None
        if rng.random() < content["conceal_probability"]:
            conceal = str(rng.choice(["clothes", "foil", "dense"]))
        if max_overlap is None:  # anywhere, as before the setting existed: the same scans, draw for draw
            placed = _place(scene, make_contraband(cls, rng, ppc), rng, inner_px, concealment=conceal)
        else:
            placed = _place_apart(scene, make_contraband(cls, rng, ppc), rng, inner_px, taken, float(max_overlap), conceal)
            # keep the class mix: big items (hides, tusks) would otherwise lose out to small ones
            if placed is None:
                retries = retries + 1 if cls == retry_cls else 1
                retry_cls = cls if retries <= 3 else None
            else:
                retry_cls, retries = None, 0
        if placed is None:
            continue
        placed_threats += 1
        h, w = placed.item.shape
        centre = (placed.x + w / 2, placed.y + h / 2)
        if conceal == "foil":
            scene.items.append(PlacedItem(_foil_wrap(placed.item, rng, ppc), placed.x, placed.y))
        elif conceal == "clothes":
            _place(scene, make_clutter(rng, ppc, "clothes"), rng, inner_px, near=centre)
        elif conceal == "dense":
            off = (rng.uniform(-0.3, 0.3) * w, rng.uniform(-0.3, 0.3) * h)
            _place(scene, make_clutter(rng, ppc, str(rng.choice(DENSE_COVER))), rng, inner_px,
                   near=(centre[0] + off[0], centre[1] + off[1]))
    for _ in range(n_clutter - first):
        _place_one(scene, lambda: make_clutter(rng, ppc), rng, inner_px)
    return scene


def rasterise(scene: Scene, coefficients: Mapping[str, np.ndarray]) -> np.ndarray:
    """Basis thickness maps of a scene: float32 [2, H, W] in g/cm^2 (water, iron).

    ``coefficients[material]`` is float32 [2]: basis g/cm^2 per cm of that material.
    """
    basis = np.zeros((2, scene.height, scene.width), np.float32)
    for placed in scene.items:
        h, w = placed.item.shape
        xa, ya = max(placed.x, 0), max(placed.y, 0)
        xb, yb = min(placed.x + w, scene.width), min(placed.y + h, scene.height)
        if xb <= xa or yb <= ya:
            continue
        sy, sx = slice(ya - placed.y, yb - placed.y), slice(xa - placed.x, xb - placed.x)
        for material, t in placed.item.parts.items():
            c = coefficients[material]
            win = t[sy, sx]
            basis[0, ya:yb, xa:xb] += c[0] * win
            if c[1] > 0:
                basis[1, ya:yb, xa:xb] += c[1] * win
    return basis


def areal_density(item: Item, densities: Mapping[str, float]) -> np.ndarray:
    """float32 [h, w] in the item's patch frame: sum over its materials of density (g/cm^3) x path
    length (cm), the item's own g/cm^2 along each ray. ``densities``: material -> g/cm^3."""
    total = np.zeros(item.shape, np.float32)
    for material, t in item.parts.items():
        total += np.float32(densities[material]) * t
    return total


@dataclass(frozen=True)
class ItemMask:
    """One placed item's mask, stored as the part inside its tight box (masks are small, images not).

    box: [x0, y0, x1, y1] image pixels, exclusive max edges; window: bool [y1 - y0, x1 - x0], the
    mask inside the box; pixels: the mask's pixel count."""

    box: list[float]
    window: np.ndarray
    pixels: int

    def full(self, width: int, height: int) -> np.ndarray:
        """The mask in the image frame: bool [height, width]."""
        out = np.zeros((height, width), bool)
        x0, y0, x1, y1 = (int(v) for v in self.box)
        out[y0:y1, x0:x1] = self.window
        return out


def item_mask(placed: PlacedItem, densities: Mapping[str, float], width: int, height: int,
              threshold: float = MASK_DENSITY_G_CM2) -> ItemMask | None:
    """The pixels where ``placed``'s own areal density exceeds ``threshold`` g/cm^2, clipped to a
    ``width`` x ``height`` image, with their tight box; None if none is left.

    Only the item's own parts count, not what covers it: a concealed item keeps its full mask."""
    h, w = placed.item.shape
    xa, ya = max(placed.x, 0), max(placed.y, 0)
    xb, yb = min(placed.x + w, width), min(placed.y + h, height)
    if xb <= xa or yb <= ya:
        return None
    density = areal_density(placed.item, densities)  # the same per-material maps rasterise() adds
    vis = density[ya - placed.y:yb - placed.y, xa - placed.x:xb - placed.x] > threshold
    box = mask_box(vis, (xa, ya))
    if box is None:
        return None
    x0, y0, x1, y1 = (int(v) for v in box)
    window = np.ascontiguousarray(vis[y0 - ya:y1 - ya, x0 - xa:x1 - xa])
    return ItemMask(box, window, int(window.sum()))
