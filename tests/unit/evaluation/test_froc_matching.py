"""Box matching, confusion matrix and FROC on constructed sets with hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.evaluation.helpers import NAMES, random_records, record
from wildxray.evaluation.froc import froc
from wildxray.evaluation.matching import box_iou, confusion_matrix, match_detections
from wildxray.evaluation.records import ParcelRecord
from wildxray.types import Detections, Target

HALF = {n: 0.5 for n in NAMES}


def test_box_iou_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50 / 150, 0.0], [0.0, 0.0, 0.0]])


def test_match_is_class_aware_greedy_by_score_and_one_to_one():
    gt_b = np.array([[0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    gt_l = np.array([0, 1])
    det_b = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60], [1, 0, 11, 10]], np.float32)
    det_s = np.array([0.6, 0.9, 0.8, 0.7])
    det_l = np.array([0, 0, 0, 0])  # the third is at the horn box but says ivory
    tp = match_detections(det_b, det_s, det_l, gt_b, gt_l)
    assert tp.tolist() == [False, True, False, False]  # 0.9 takes the ivory box; duplicates are FPs


def test_confusion_matrix_counts():
    thr = {"ivory": 0.5, "horn": 0.5, "scales": 0.5}
    recs = [
        record(1, [0, 1], [0.9, 0.8], [0, 0]),  # two ivory detections on the ivory box; the horn box is not found
        ParcelRecord(Target([[0, 0, 10, 10]], [1], 2), Detections([[0, 0, 10, 10]], [0.7], [2])),  # horn called scales
        record(3, [], [0.9, 0.3], [2, 1], hit=False),  # false scales box; horn below threshold ignored
        record(4, [2], [0.2], [2]),  # scales missed (below threshold)
    ]
    cm = confusion_matrix(recs, NAMES, thr)
    bg = 3
    assert cm[0, 0] == 1  # ivory -> ivory
    assert cm[1, 2] == 1  # horn -> scales
    assert cm[1, bg] == 1  # the horn box of record 1 missed
    assert cm[bg, 0] == 1  # record 1's second ivory detection on the same box: a false box
    assert cm[bg, 2] == 1  # false scales box on the clean parcel
    assert cm[2, bg] == 1  # scales missed
    assert cm.sum() == 6


def test_froc_on_a_constructed_set():
    recs = [
        record(1, [0], [0.9], [0]),  # TP at 0.9
        record(2, [1], [0.6], [1]),  # TP at 0.6
        record(3, [2], [0.3], [2]),  # TP at 0.3 (below the operating threshold)
        record(4, [], [0.8], [0], hit=False),  # FP at 0.8
        record(5, [], [0.4], [1], hit=False),  # FP at 0.4
    ]
    f = froc(recs, NAMES, HALF, fp_rates=(0.0, 0.2, 0.4), n_bootstrap=0)
    assert f.n_gt_boxes == 3 and f.n_images == 5
    assert f.at_fp_rate[0.0].value == pytest.approx(1 / 3)  # only above 0.8
    assert f.at_fp_rate[0.2].value == pytest.approx(2 / 3)  # one FP (0.8) allowed: cut above 0.4
    assert f.at_fp_rate[0.4].value == pytest.approx(1.0)
    assert f.operating_sensitivity.value == pytest.approx(2 / 3)
    assert f.operating_fp_per_image.value == pytest.approx(1 / 5)
    assert f.curve["sensitivity"][-1] == pytest.approx(1.0) and f.curve["fp_per_image"][-1] == pytest.approx(2 / 5)


def test_froc_intervals_contain_the_point_and_narrow():
    small = froc(random_records(30, 60, seed=4, separation=0.8), NAMES, HALF, n_bootstrap=300, seed=2)
    large = froc(random_records(300, 600, seed=4, separation=0.8), NAMES, HALF, n_bootstrap=300, seed=2)
    for f in (small, large):
        for e in [*f.at_fp_rate.values(), f.operating_sensitivity, f.operating_fp_per_image]:
            assert e.ci_low <= e.value <= e.ci_high
    ws = small.operating_sensitivity.ci_high - small.operating_sensitivity.ci_low
    wl = large.operating_sensitivity.ci_high - large.operating_sensitivity.ci_low
    assert wl < 0.6 * ws


def _coco_with_forms():
    """Three images: a tusk found as ivory, a horn found as scales, a horn missed; ``concealment``
    null on one box (read as "none"), a numeric field that is not an attribute."""
    box = [0.0, 0.0, 10.0, 10.0]
    return {
        "images": [{"id": i, "file_name": f"{i}.png", "width": 100, "height": 100} for i in (1, 2, 3)],
        "categories": [{"id": i + 1, "name": n} for i, n in enumerate(NAMES)],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": box, "area": 100, "iscrowd": 0,
             "form": "ivory/tusk", "concealment": None, "density": 1.9},
            {"id": 2, "image_id": 2, "category_id": 2, "bbox": box, "area": 100, "iscrowd": 0,
             "form": "horn/whole", "concealment": "foil"},
            {"id": 3, "image_id": 3, "category_id": 2, "bbox": box, "area": 100, "iscrowd": 0,
             "form": "horn/whole", "concealment": "foil"},
        ],
    }


def test_recall_by_attribute_follows_the_confusion_pairing():
    from wildxray.evaluation.matching import recall_by_attribute
    from wildxray.evaluation.records import records_from_coco

    d = lambda label, score: Detections([[0, 0, 10, 10]], [score], [label])  # noqa: E731
    preds = {1: d(0, 0.9), 2: d(2, 0.8), 3: d(1, 0.4)}  # image 3's horn is below its 0.5 threshold
    recs = records_from_coco(_coco_with_forms(), preds, NAMES)
    got = recall_by_attribute(recs, NAMES, HALF)
    assert set(got) == {"form", "concealment"}  # "density" is a number, not an attribute
    assert got["form"]["ivory/tusk"] == {"boxes": 1, "found": 1, "found_other_class": 0, "recall": 1.0}
    assert got["form"]["horn/whole"] == {"boxes": 2, "found": 0, "found_other_class": 1, "recall": 0.0}
    assert got["concealment"]["none"]["found"] == 1 and got["concealment"]["foil"]["boxes"] == 2
    cm = confusion_matrix(recs, NAMES, HALF)
    assert cm[1, 2] == got["form"]["horn/whole"]["found_other_class"] and cm[1, 3] == 1  # one horn missed


def test_recall_by_attribute_is_empty_without_attributes():
    from wildxray.evaluation.matching import recall_by_attribute

    assert recall_by_attribute([record(1, [0], [0.9], [0])], NAMES, HALF) == {}
