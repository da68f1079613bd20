"""Class-agnostic relabelling and the confusion table at one score threshold."""

from __future__ import annotations

import numpy as np

from wildxray.evaluation.coco_metrics import coco_map
from wildxray.evaluation.confusion import AGNOSTIC, class_agnostic, confusion_at, confusion_markdown
from wildxray.types import Detections

CLASSES = ["ivory", "horn", "bone"]


def _gt() -> dict:
    return {
        "images": [{"id": 1, "width": 100, "height": 100, "file_name": "a.png"},
                   {"id": 2, "width": 100, "height": 100, "file_name": "b.png"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0},  # ivory
            {"id": 2, "image_id": 1, "category_id": 3, "bbox": [60, 60, 20, 20], "area": 400, "iscrowd": 0},  # bone
            {"id": 3, "image_id": 2, "category_id": 2, "bbox": [30, 30, 30, 30], "area": 900, "iscrowd": 0},  # horn
        ],
        "categories": [{"id": i + 1, "name": n} for i, n in enumerate(CLASSES)],
    }


def _det(boxes, scores, labels) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32),
                      np.array(labels, np.int64))


def _predictions() -> dict[int, Detections]:
    # image 1: the ivory box called bone (right place, wrong class), a weak guess at the bone box;
    # image 2: the horn found as horn, and a false box
    return {1: _det([[10, 10, 30, 30], [60, 60, 80, 80]], [0.9, 0.1], [2, 2]),
            2: _det([[30, 30, 60, 60], [0, 0, 10, 10]], [0.8, 0.7], [1, 0])}


def test_class_agnostic_scores_finding_regardless_of_class():
    gt, preds = _gt(), _predictions()
    aware = coco_map(gt, preds, CLASSES)
    agnostic = coco_map(*class_agnostic(gt, preds), AGNOSTIC)
    assert aware["per_class_AP50"]["ivory"] == 0.0  # the ivory was called bone
    assert agnostic["mAP50"] > aware["mAP50"]  # ... but it was found
    assert gt["annotations"][0]["category_id"] == 1 and preds[1].labels.tolist() == [2, 2]  # inputs untouched


def test_confusion_rows_are_true_classes_and_columns_predicted_or_missed():
    cm = confusion_at(_gt(), _predictions(), CLASSES, score_thresh=0.3)
    assert cm.shape == (4, 4)
    assert cm[0, 2] == 1  # ivory -> bone
    assert cm[1, 1] == 1  # horn -> horn
    assert cm[2, 3] == 1  # bone missed: its only detection scored 0.1 < 0.3
    assert cm[3, 0] == 1  # a false ivory box
    assert cm.sum() == 4
    assert confusion_at(_gt(), _predictions(), CLASSES, score_thresh=0.05)[2, 2] == 1  # lower cut: found
    table = confusion_markdown(cm, CLASSES)
    assert table.splitlines()[0] == "| true \\ predicted | ivory | horn | bone | missed | boxes |"
    assert "| ivory | 0 | 0 | 1 | 0 | 1 |" in table and "| bone | 0 | 0 | 0 | 1 | 1 |" in table
    assert "| no box | 1 | 0 | 0 | – | – |" in table
