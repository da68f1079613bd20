"""Constructed evaluation sets for the evaluation tests (records with known scores)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wildxray.evaluation.records import ParcelRecord
from wildxray.types import Detections, Target

NAMES = ("ivory", "horn", "scales")


def record(
    image_id: int,
    gt_labels: list[int],
    det_scores: list[float],
    det_labels: list[int] | None = None,
    scanner: str = "",
    hit: bool = True,
) -> ParcelRecord:
    """A 100x100 parcel: gt boxes stacked along x; detections sit on the gt box of their label when
    ``hit`` (IoU 1), else in an empty corner."""
    gt_boxes = [[10 + 20 * i, 10, 25 + 20 * i, 40] for i in range(len(gt_labels))]
    det_labels = list(det_labels) if det_labels is not None else [gt_labels[0] if gt_labels else 0] * len(det_scores)
    boxes = []
    for lab in det_labels:
        if hit and lab in gt_labels:
            boxes.append(gt_boxes[gt_labels.index(lab)])
        else:
            boxes.append([70, 70, 95, 95])
    target = Target(np.array(gt_boxes, np.float32).reshape(-1, 4), np.array(gt_labels, np.int64), image_id)
    det = Detections(np.array(boxes, np.float32).reshape(-1, 4), np.array(det_scores, np.float32), np.array(det_labels, np.int64))
    return ParcelRecord(target, det, scanner, f"img{image_id}.png")


def random_records(n_pos: int, n_neg: int, seed: int, n_classes: int = 3, separation: float = 1.5) -> list[ParcelRecord]:
    """Parcels whose single detection score is drawn from two overlapping distributions."""
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(n_pos):
        lab = int(rng.integers(0, n_classes))
        s = 1 / (1 + np.exp(-rng.normal(separation, 1.0)))
        recs.append(record(i, [lab], [float(s)], [lab]))
    for j in range(n_neg):
        lab = int(rng.integers(0, n_classes))
        s = 1 / (1 + np.exp(-rng.normal(-separation, 1.0)))
        recs.append(record(n_pos + j, [], [float(s)], [lab], hit=False))
    return recs


def write_patch_dataset(folder, n_contraband: int, n_clean: int, seed: int, size: tuple[int, int] = (48, 64)) -> Path:
    """A COCO set on disk for ``tests.fixtures.contract_model`` (which scores red patches as ivory
    and blue as horn by their intensity): contraband parcels carry a bright red (R 180..240) or blue
    patch with its box; clean parcels are grey, half of them with a dimmer red look-alike patch
    (R 140..200, no box), so clean and contraband scores overlap. Images are PNG, H x W = ``size``.
    Returns the annotation file path."""
    import json
    from pathlib import Path

    import cv2

    from tests.fixtures.contract_model import draw_patch, grey_image
    from wildxray.types import COCO_CATEGORIES

    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, w = size
    images, anns = [], []
    for i in range(n_contraband + n_clean):
        img = grey_image(h, w)
        x1, y1 = int(rng.integers(2, w // 2)), int(rng.integers(2, h // 2))
        x2, y2 = x1 + int(rng.integers(8, w // 2 - 2)), y1 + int(rng.integers(8, h // 2 - 2))
        if i < n_contraband:
            blue = i % 4 == 3
            v = int(rng.integers(180, 241))
            draw_patch(img, (x1, y1, x2, y2), (0, 0, v) if blue else (v, 0, 0))
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 2 if blue else 1,
                         "bbox": [x1, y1, x2 - x1, y2 - y1]})
        elif i % 2:
            draw_patch(img, (x1, y1, x2, y2), (int(rng.integers(140, 201)), 0, 0))
        name = f"images/p{i + 1:03d}.png"
        cv2.imwrite(str(folder / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h,
                       "modality": "xray", "scanner": "alpha" if i % 2 else "beta"})
    ann_file = folder / "annotations.json"
    ann_file.write_text(json.dumps({"images": images, "annotations": anns, "categories": COCO_CATEGORIES}))
    return ann_file
