"""How often contraband lies on other contraband in a COCO set: for every box, whether another box
of the image overlaps it at IoU > 0.3 (any class, another class), and whether another class's box
holds more than half of the smaller of the two (one object lying on another in the beam).

    python benchmarks/box_overlap.py outputs/sets/test777/annotations.json outputs/sets/easy/annotations.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np


def overlap_shares(ann_file: Path) -> dict[str, float]:
    """{"boxes", "iou_any", "iou_other_class", "covered_by_other_class"} (shares of boxes) for one set."""
    from wildxray.evaluation.matching import box_iou

    coco = json.loads(Path(ann_file).read_text())
    by_image: dict[int, list[tuple[list[float], int]]] = defaultdict(list)
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        by_image[a["image_id"]].append(([x, y, x + w, y + h], a["category_id"]))
    n = iou_any = iou_other = covered = 0
    for items in by_image.values():
        b = np.array([box for box, _ in items], float)
        c = np.array([cat for _, cat in items])
        iou = box_iou(b, b)
        np.fill_diagonal(iou, 0)
        inter = np.clip(np.minimum(b[:, None, 2:], b[None, :, 2:]) - np.maximum(b[:, None, :2], b[None, :, :2]), 0, None).prod(2)
        area = (b[:, 2:] - b[:, :2]).prod(1)
        share = inter / np.maximum(np.minimum(area[:, None], area[None, :]), 1e-9)
        np.fill_diagonal(share, 0)
        other = c[None, :] != c[:, None]
        n += len(c)
        iou_any += int((iou > 0.3).any(1).sum())
        iou_other += int(((iou > 0.3) & other).any(1).sum())
        covered += int(((share > 0.5) & other).any(1).sum())
    d = max(n, 1)
    return {"boxes": n, "iou_any": iou_any / d, "iou_other_class": iou_other / d, "covered_by_other_class": covered / d}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ann_files", nargs="+", type=Path, help="COCO annotation files")
    args = p.parse_args(argv)
    print("| set | boxes | IoU > 0.3 with another box | ... of another class | over half inside another class's box |")
    print("|---|---|---|---|---|")
    for f in args.ann_files:
        s = overlap_shares(f)
        print(f"| {f} | {s['boxes']} | {s['iou_any']:.1%} | {s['iou_other_class']:.1%} | {s['covered_by_other_class']:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
