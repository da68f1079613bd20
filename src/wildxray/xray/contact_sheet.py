"""Contact sheets of synthetic scans with their boxes (for the README and docs/images/).

    .venv/bin/python -m wildxray.xray.contact_sheet --out docs/images/contact_sheet.png --n 12 --seed 0
    .venv/bin/python -m wildxray.xray.contact_sheet --cls ivory --out docs/images/contact_sheet_ivory.png

``--cls`` draws one class: each tile a parcel with a little clutter and one item of that class,
the class's forms in turn (the tile is captioned with the form), so every form can be judged by eye.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np

from wildxray.types import CLASS_NAMES
from wildxray.core.colour import encode_dual_energy
from wildxray.xray.synth_config import load_synth_config
from wildxray.xray.scene import PlacedItem, compose_scene, item_mask
from wildxray.xray.synth import ScanSynthesizer
from wildxray.xray.xray_catalogue import CONTRABAND, make_contraband

#: Box colours per class (RGB), chosen to stand out against orange/green/blue.
BOX_COLOURS = [(255, 0, 255), (255, 0, 0), (0, 200, 255), (160, 0, 255), (255, 255, 0), (0, 255, 120)]


def draw_boxes(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """RGB uint8 [H, W, 3] with xyxy boxes and class names drawn on a copy."""
    out = np.ascontiguousarray(image.copy())
    for (x0, y0, x1, y1), lab in zip(boxes.astype(int), labels):
        colour = BOX_COLOURS[int(lab) % len(BOX_COLOURS)]
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), colour, 2)
        cv2.putText(out, CLASS_NAMES[int(lab)], (x0 + 2, max(y0 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1,
                    cv2.LINE_AA)
    return out


def _tile(image: np.ndarray) -> np.ndarray:
    return cv2.copyMakeBorder(image, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=(40, 40, 40))


def _arrange(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 40))
    return np.vstack([np.hstack(tiles[r:r + columns]) for r in range(0, len(tiles), columns)])


def contact_sheet(n: int, seed: int, columns: int, overrides: list[str]) -> np.ndarray:
    """Scans exactly as ``ScanSynthesizer.sample`` draws them: scan i from rng [seed, i]."""
    synth = ScanSynthesizer(load_synth_config(overrides))
    tiles = []
    for i in range(n):
        scan = synth.sample(np.random.default_rng([seed, i]))
        tiles.append(_tile(draw_boxes(scan.image, scan.target.boxes, scan.target.labels)))
    return _arrange(tiles, columns)


def _place_in_parcel(item, parcel, rng: np.random.Generator, width: int, height: int):
    """``item`` turned at random and set inside the parcel's patch where it fits (else centred on
    the image, hanging over the parcel as an oversized item would)."""
    ph, pw = parcel.item.shape
    for angle in (rng.uniform(0, 360), rng.uniform(-15, 15), 90.0):
        a = math.radians(angle)
        h, w = item.shape
        c, s = abs(math.cos(a)), abs(math.sin(a))
        if h * s + w * c + 4 <= pw and h * c + w * s + 4 <= ph:
            turned = item.rotated(angle)
            th, tw = turned.shape
            x = parcel.x + int(rng.integers(0, pw - tw + 1))
            y = parcel.y + int(rng.integers(0, ph - th + 1))
            return PlacedItem(turned, x, y)
    turned = item.rotated(rng.uniform(-15, 15))
    th, tw = turned.shape
    return PlacedItem(turned, (width - tw) // 2, (height - th) // 2)


def class_sheet(class_name: str, n: int, seed: int, columns: int, overrides: list[str]) -> np.ndarray:
    """Tiles of one class: a parcel with 0-2 other things (no decoys, no concealment) and one item
    of ``class_name``, its forms in turn; each tile captioned with its form and boxed by the same
    mask rule as training scans (``scene.item_mask``)."""
    if class_name not in CONTRABAND:
        raise ValueError(f"unknown class '{class_name}'; known: {', '.join(CONTRABAND)}")
    cfg = load_synth_config(["content.clutter=[0,2]", "content.decoy_probability=0.0", *overrides])
    synth = ScanSynthesizer(cfg)
    forms = sorted(CONTRABAND[class_name])
    tiles = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        form = forms[i % len(forms)]
        scene = compose_scene(rng, cfg["content"], synth.width, synth.height, synth.ppc, with_contraband=False)
        item = make_contraband(class_name, rng, synth.ppc, form)
        placed = _place_in_parcel(item, scene.items[0], rng, synth.width, synth.height)
        scene.items.insert(1 + len(scene.items) // 2, placed)  # amid the clutter, as the composer does
        raw = synth.render(scene, rng)
        mask = item_mask(placed, synth.densities, synth.width, synth.height)
        boxes = np.array([mask.box] if mask else [], np.float32).reshape(-1, 4)
        image = draw_boxes(encode_dual_energy(raw, synth.bands, synth.palette), boxes,
                           np.full(len(boxes), CLASS_NAMES.index(class_name)))
        cv2.putText(image, form, (6, synth.height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2, cv2.LINE_AA)
        tiles.append(_tile(image))
    return _arrange(tiles, columns)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Contact sheet of synthetic scans with their boxes")
    p.add_argument("--out", default="docs/images/contact_sheet.png")
    p.add_argument("--n", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--columns", type=int, default=4)
    p.add_argument("--scale", type=float, default=0.75, help="resize factor of the sheet")
    p.add_argument("--cls", choices=CLASS_NAMES, default=None, help="one class, its forms in turn")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. scanner=compact")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.cls:
        sheet = class_sheet(args.cls, args.n, args.seed, args.columns, args.overrides)
    else:
        sheet = contact_sheet(args.n, args.seed, args.columns, args.overrides)
    if args.scale != 1:
        sheet = cv2.resize(sheet, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_AREA)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, sheet[..., ::-1])
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
