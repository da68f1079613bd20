"""calibrate_operating_point: meets the target FAR where the set can show it, says so where it
cannot, and per-class thresholds beat a shared one where classes differ."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tests.unit.evaluation.helpers import NAMES, random_records, record
from wildxray.evaluation.calibration import (
    CalibrationError,
    calibrate_operating_point,
    clean_parcels_needed,
    false_alarm_upper_bound,
)
from wildxray.evaluation.parcel_metrics import parcel_metrics
from wildxray.runtime.decision import parcel_decision


def _rates(records, thresholds):
    alarm = np.array([parcel_decision(r.detections, NAMES, thresholds).alarm for r in records])
    clean = np.array([r.is_clean for r in records])
    return alarm[~clean].mean(), alarm[clean].mean()


@pytest.mark.parametrize("target", [0.01, 0.02, 0.05, 0.1])
def test_hits_the_target_false_alarm_rate_where_achievable(target):
    recs = random_records(150, 300, seed=11, separation=1.0)
    op = calibrate_operating_point(recs, NAMES, target)
    assert op.achievable and op.reason == ""
    det, far = _rates(recs, op.thresholds)
    assert far <= target
    # Overlapping continuous scores: every allowed false alarm buys detections, so the budget is used.
    assert op.false_alarms == op.allowed_false_alarms == int(np.floor(target * 300 + 1e-9))
    assert (op.detection_rate, op.false_alarm_rate) == pytest.approx((det, far))
    # ... and the achieved figures are what the evaluation measures at these thresholds.
    m = parcel_metrics(recs, NAMES, op.thresholds, n_bootstrap=0)
    assert m.false_alarm_rate.value == pytest.approx(op.false_alarm_rate)
    assert m.detection_rate.value == pytest.approx(op.detection_rate)
    card = op.to_card()
    assert card["calibrated"] is True and card["target_false_alarm_rate"] == target
    assert card["validation"]["false_alarm_rate"] == op.false_alarm_rate


def test_detection_grows_with_the_allowed_false_alarm_rate():
    recs = random_records(150, 300, seed=12, separation=1.0)
    dets = [calibrate_operating_point(recs, NAMES, t).detection_rate for t in (0.01, 0.02, 0.05, 0.1)]
    assert dets == sorted(dets) and dets[-1] > dets[0]


def test_too_few_clean_parcels_is_not_achievable_and_says_why():
    recs = random_records(30, 50, seed=1)
    op = calibrate_operating_point(recs, NAMES, 0.01)
    assert not op.achievable
    assert "50 clean parcels" in op.reason and "1/50" in op.reason and "100 clean parcels" in op.reason
    assert op.false_alarms == 0 and _rates(recs, op.thresholds)[1] == 0.0


def test_no_clean_or_no_contraband_parcel_raises():
    with pytest.raises(CalibrationError, match="0 clean"):
        calibrate_operating_point([record(1, [0], [0.9], [0])], NAMES, 0.01)
    with pytest.raises(CalibrationError, match="0 contraband"):
        calibrate_operating_point([record(1, [], [0.9], [0], hit=False)], NAMES, 0.01)
    with pytest.raises(ValueError, match="target"):
        calibrate_operating_point(random_records(5, 5, 0), NAMES, 1.5)


def test_per_class_thresholds_beat_a_shared_threshold():
    # Ivory's detector fires high on clean parcels (look-alike carvings); horn's stays low.
    recs = []
    for i in range(10):
        recs.append(record(i, [0], [0.95], [0]))  # ivory, found only above 0.9
        recs.append(record(100 + i, [1], [0.3 + 0.01 * i], [1]))  # horn, low but clean horn is lower
    for j in range(100):
        lab = j % 2
        s = 0.8 + 0.001 * j if lab == 0 else 0.1 + 0.001 * j
        recs.append(record(200 + j, [], [s], [lab], hit=False))
    op = calibrate_operating_point(recs, NAMES, 0.01)
    assert op.detection_rate == 1.0 and op.false_alarms <= 1
    assert op.thresholds["ivory"] > 0.89 and op.thresholds["horn"] <= 0.3 + 1e-6
    # The best shared threshold cannot catch the horn parcels without ivory false alarms.
    shared = {n: op.shared_threshold for n in NAMES}
    assert _rates(recs, shared)[0] < 1.0


def _brute_force_best(recs, target):
    clean = np.array([r.is_clean for r in recs])
    budget = int(np.floor(target * clean.sum() + 1e-9))
    cands = []
    for k in range(len(NAMES)):
        s = sorted({float(v) for r in recs for v, lab in zip(r.detections.scores, r.detections.labels) if lab == k})
        cands.append(s + [2.0])
    best = 0
    for combo in itertools.product(*cands):
        thr = dict(zip(NAMES, combo))
        alarm = np.array([parcel_decision(r.detections, NAMES, thr).alarm for r in recs])
        if alarm[clean].sum() <= budget:
            best = max(best, int(alarm[~clean].sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_matches_exhaustive_search_on_small_sets(seed):
    recs = random_records(8, 20, seed=seed, separation=0.8)
    op = calibrate_operating_point(recs, NAMES, 0.1)
    assert op.false_alarms <= op.allowed_false_alarms == 2
    assert round(op.detection_rate * 8) == _brute_force_best(recs, 0.1)


def test_clean_scores_of_one_cannot_be_switched_off_and_say_so():
    recs = [record(i, [0], [0.9], [0]) for i in range(5)]
    recs += [record(10 + j, [], [1.0], [0], hit=False) for j in range(3)]
    recs += [record(20 + j, [], [0.1], [0], hit=False) for j in range(97)]
    op = calibrate_operating_point(recs, NAMES, 0.01)
    assert not op.achievable and "strictest thresholds" in op.reason
    assert all(0.0 <= t <= 1.0 for t in op.thresholds.values())  # the model card's range


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 145), (1, 145), (2, 300), (5, 510), (30, 1000), (39, 40)])
def test_false_alarm_bound_is_the_exact_clopper_pearson_one(k, n):
    """At the bound, seeing k or fewer false alarms has probability 5 % (an independent exact sum)."""
    p = false_alarm_upper_bound(k, n)
    assert k / n < p < 1.0
    tail = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))
    assert tail == pytest.approx(0.05, abs=1e-9)
    if k == 0:
        assert p == pytest.approx(1 - 0.05 ** (1 / n))  # ~3/n, the rule of three
    assert false_alarm_upper_bound(k, n, confidence=0.99) > p
    assert false_alarm_upper_bound(n, n) == 1.0
    with pytest.raises(ValueError, match="3 of 2"):
        false_alarm_upper_bound(3, 2)


@pytest.mark.parametrize("target", [0.005, 0.01, 0.05])
def test_clean_parcels_needed_bounds_the_rate_within_twice_the_target(target):
    n = clean_parcels_needed(target)
    assert false_alarm_upper_bound(math.floor(target * n + 1e-9), n) <= 2 * target
    assert n == math.ceil(6 / target - 1e-9)  # six false alarms' worth, whatever the target
    smaller = math.ceil(5 / target - 1e-9)  # five false alarms' worth is not enough
    assert false_alarm_upper_bound(math.floor(target * smaller + 1e-9), smaller) > 2 * target


def test_operating_point_carries_the_bound_of_what_it_achieved():
    recs = random_records(150, 300, seed=11, separation=1.0)
    op = calibrate_operating_point(recs, NAMES, 0.01)
    assert op.false_alarm_rate_upper95 == false_alarm_upper_bound(op.false_alarms, op.n_clean)
    assert op.to_card()["validation"]["false_alarm_rate_upper95"] == op.false_alarm_rate_upper95
