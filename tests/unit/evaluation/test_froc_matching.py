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
