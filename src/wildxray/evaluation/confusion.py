"""Where boxes go: class-agnostic scoring and the confusion table at one score threshold.

Class-agnostic figures ask "is there contraband here?" without "which": every ground-truth box and
every detection is relabelled to one class, "object", and scored as usual. The confusion table says
which class a found box was called, and how many boxes were missed (``matching.confusion_matrix``
pairs detections and boxes class-agnostic at IoU 0.5).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np

from wildxray.evaluation.matching import MATCH_IOU, confusion_matrix
from wildxray.evaluation.records import records_from_coco
from wildxray.types import Detections

AGNOSTIC = ["object"]


def class_agnostic(gt_coco: Mapping, predictions: Mapping[int, Detections]) -> tuple[dict, dict[int, Detections]]:
    """Copies of a COCO ground truth and ``{image_id: Detections}`` with one category, "object"
    (id 1, label 0), for ``coco_metrics.coco_map(gt, predictions, AGNOSTIC)``."""
    gt = copy.deepcopy(dict(gt_coco))
    gt["categories"] = [{"id": 1, "name": AGNOSTIC[0]}]
    for ann in gt.get("annotations", []):
        ann["category_id"] = 1
    preds = {iid: replace(det, labels=np.zeros_like(det.labels)) for iid, det in predictions.items()}
    return gt, preds


def confusion_at(gt_coco: Mapping, predictions: Mapping[int, Detections], class_names: Sequence[str],
                 score_thresh: float, iou: float = MATCH_IOU) -> np.ndarray:
    """int64 [C + 1, C + 1] at one score threshold for every class: rows the true class (last row:
    detections matching no box), columns the predicted class (last column: boxes not found)."""
    records = records_from_coco(gt_coco, predictions, class_names)
    return confusion_matrix(records, class_names, {c: float(score_thresh) for c in class_names}, iou)


def confusion_markdown(cm: np.ndarray, class_names: Sequence[str]) -> str:
    """The table as Markdown: one row per true class (and "no box" for false detections), one
    column per predicted class and "missed"; each true-class row ends with its box count."""
    head = ["true \\ predicted", *class_names, "missed", "boxes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    c = len(class_names)
    for i, name in enumerate([*class_names, "no box"]):
        cells = [str(int(v)) for v in cm[i, :c]]
        if i < c:
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {int(cm[i, c])} | {int(cm[i].sum())} |")
        else:
            lines.append(f"| {name} | " + " | ".join(cells) + " | – | – |")
    return "\n".join(lines)
