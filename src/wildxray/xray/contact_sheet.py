"""Contact sheet of synthetic scans with their boxes (for the README).

    .venv/bin/python -m wildxray.xray.contact_sheet --out docs/images/contact_sheet.png --n 12 --seed 0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from wildxray.types import CLASS_NAMES

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


def contact_sheet(n: int, seed: int, columns: int, overrides: list[str]) -> np.ndarray:
    from wildxray.xray.config import load_synth_config
    from wildxray.xray.synth import ScanSynthesizer

    synth = ScanSynthesizer(load_synth_config(overrides))
    tiles = []
    for i in range(n):
        scan = synth.sample(np.random.default_rng([seed, i]))
        tile = draw_boxes(scan.image, scan.target.boxes, scan.target.labels)
        tiles.append(cv2.copyMakeBorder(tile, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=(40, 40, 40)))
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 40))
    rows = [np.hstack(tiles[r:r + columns]) for r in range(0, len(tiles), columns)]
    return np.vstack(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Contact sheet of synthetic scans with their boxes")
    p.add_argument("--out", default="docs/images/contact_sheet.png")
    p.add_argument("--n", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--columns", type=int, default=4)
    p.add_argument("--scale", type=float, default=0.75, help="resize factor of the sheet")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. scanner=compact")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    sheet = contact_sheet(args.n, args.seed, args.columns, args.overrides)
    if args.scale != 1:
        sheet = cv2.resize(sheet, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_AREA)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, sheet[..., ::-1])
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
