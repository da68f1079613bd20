"""coco_map through pycocotools: perfect predictions give 1.0, worse ones less, edge cases hold."""

from __future__ import annotations

import numpy as np
import pytest

from wildxray.evaluation.coco_metrics import coco_map
from wildxray.types import Detections, coco_categories

NAMES = ("ivory", "horn", "scales")


def gt_set() -> dict:
    images = [{"id": i, "file_name": f"{i}.png", "width": 200, "height": 100} for i in (1, 2, 3)]
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 40]},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [100, 20, 60, 60]},
        {"id": 3, "image_id": 2, "category_id": 1, "bbox": [30, 30, 40, 30]},
    ]  # image 3 is clean; class "scales" has no ground truth
    return {"images": images, "annotations": anns, "categories": coco_categories(NAMES)}


def perfect(gt: dict) -> dict[int, Detections]:
    out = {img["id"]: Detections.empty() for img in gt["images"]}
    for a in gt["annotations"]:
        x, y, w, h = a["bbox"]
        d = out[a["image_id"]]
        out[a["image_id"]] = Detections(
            np.vstack([d.boxes, [[x, y, x + w, y + h]]]), np.append(d.scores, 0.9), np.append(d.labels, a["category_id"] - 1)
        )
    return out


def test_predictions_equal_to_ground_truth_give_map_one(capsys):
    gt = gt_set()
    m = coco_map(gt, perfect(gt), NAMES)
    assert m["mAP"] == pytest.approx(1.0) and m["mAP50"] == pytest.approx(1.0) and m["mAP75"] == pytest.approx(1.0)
    assert m["per_class_AP"]["ivory"] == pytest.approx(1.0) and m["per_class_AP"]["horn"] == pytest.approx(1.0)
    assert m["per_class_AP"]["scales"] is None  # no ground truth: undefined, not 0
    assert len(m["pr_curves"]["recall"]) == 101 and m["pr_curves"]["precision50"]["scales"] is None
    assert capsys.readouterr().out == ""  # pycocotools' printing is silenced


def test_a_shifted_box_lowers_map_and_a_false_positive_lowers_precision():
    gt = gt_set()
    preds = perfect(gt)
    shifted = preds[2]
    preds[2] = Detections(shifted.boxes + np.array([12, 0, 12, 0], np.float32), shifted.scores, shifted.labels)
    m = coco_map(gt, preds, NAMES)
    # IoU of a 40-wide box shifted by 12 px: 28/52 = 0.54 -> a hit at 0.5, a miss from 0.55 up.
    assert m["mAP50"] == pytest.approx(1.0)
    assert m["per_class_AP"]["ivory"] < 0.8 and m["mAP"] < 0.9
    assert m["per_class_AP"]["horn"] == pytest.approx(1.0)

    preds = perfect(gt)
    preds[3] = Detections([[0, 0, 50, 50]], [0.95], [0])  # confident false alarm on the clean parcel
    m2 = coco_map(gt, preds, NAMES)
    assert m2["per_class_AP50"]["ivory"] < 1.0 and m2["per_class_AP50"]["horn"] == pytest.approx(1.0)


def test_empty_predictions_give_zero_not_an_error():
    gt = gt_set()
    m = coco_map(gt, {}, NAMES)
    assert m["mAP"] == 0.0 and m["per_class_AP"]["ivory"] == 0.0 and m["per_class_AP"]["scales"] is None


def test_wrong_categories_or_unknown_images_raise():
    gt = gt_set()
    with pytest.raises(ValueError, match="categories"):
        coco_map(gt, {}, ("ivory", "rhino", "scales"))
    with pytest.raises(ValueError, match="99"):
        coco_map(gt, {99: Detections.empty()}, NAMES)
