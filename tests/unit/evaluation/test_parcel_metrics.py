"""Parcel ROC/AUC against scikit-learn, conservative detection rate at FAR, bootstrap intervals,
operating-point figures, per-scanner tables."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from tests.unit.evaluation.helpers import NAMES, random_records, record
from wildxray.evaluation.parcel_metrics import (
    detection_rate_at_far,
    parcel_metrics,
    per_scanner_metrics,
    roc_auc,
    roc_curve,
)

HALF = {n: 0.5 for n in NAMES}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_and_auc_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(300) < 0.3
    # Rounded scores make ties, the case hand-written ROC code gets wrong.
    s = np.round(np.where(y, rng.normal(0.6, 0.2, 300), rng.normal(0.4, 0.2, 300)).clip(0, 1), 2)
    fpr, tpr, thr = roc_curve(y, s)
    sk_fpr, sk_tpr, sk_thr = sk_roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thr[1:], sk_thr[1:])
    assert roc_auc(s[y], s[~y]) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_parcel_metrics_auc_equals_sklearn_on_parcel_scores():
    recs = random_records(60, 140, seed=3)
    m = parcel_metrics(recs, NAMES, HALF, n_bootstrap=50)
    y = np.array([not r.is_clean for r in recs])
    s = np.array([float(r.detections.scores.max()) for r in recs])  # t = 0.5: calibrated = raw
    assert m.auc.value == pytest.approx(roc_auc_score(y, s), abs=1e-6)
    assert (m.n_clean, m.n_contraband, m.n_parcels) == (140, 60, 200)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("far", [0.005, 0.01, 0.02, 0.05, 0.1])
def test_detection_rate_at_far_is_the_best_roc_point_within_the_target(seed, far):
    rng = np.random.default_rng(seed)
    y = rng.random(400) < 0.4
    s = np.round(np.where(y, rng.normal(0.65, 0.2, 400), rng.normal(0.35, 0.2, 400)), 2)
    cut = detection_rate_at_far(s[y], s[~y], far)
    fpr, tpr, _ = sk_roc_curve(y, s, drop_intermediate=False)
    assert cut.detection_rate == pytest.approx(tpr[fpr <= far + 1e-12].max())
    assert cut.false_alarm_rate <= far
    assert cut.false_alarm_rate == pytest.approx(np.mean(s[~y] >= cut.threshold))
    assert cut.detection_rate == pytest.approx(np.mean(s[y] >= cut.threshold))


def test_far_below_resolution_is_flagged():
    cut = detection_rate_at_far(np.array([0.9, 0.8]), np.array([0.1, 0.85, 0.2]), 0.01)
    assert not cut.resolvable and cut.false_alarm_rate == 0.0 and cut.detection_rate == 0.5


def test_bootstrap_intervals_contain_point_and_narrow_with_more_parcels():
    small = parcel_metrics(random_records(40, 80, seed=5, separation=0.7), NAMES, HALF, n_bootstrap=400, seed=1)
    large = parcel_metrics(random_records(400, 800, seed=5, separation=0.7), NAMES, HALF, n_bootstrap=400, seed=1)
    for m in (small, large):
        ests = [m.auc, m.detection_rate, m.false_alarm_rate, m.false_alarms_per_100_clean, *[p.detection_rate for p in m.at_far]]
        ests += [e for e in m.per_class_detection_rate.values()]
        for e in ests:
            assert e.ci_low <= e.value <= e.ci_high
    for name in ("auc", "detection_rate", "false_alarm_rate"):
        ws = getattr(small, name).ci_high - getattr(small, name).ci_low
        wl = getattr(large, name).ci_high - getattr(large, name).ci_low
        assert wl < 0.6 * ws, (name, ws, wl)
    assert large.at_far[-1].detection_rate.ci_high - large.at_far[-1].detection_rate.ci_low < (
        small.at_far[-1].detection_rate.ci_high - small.at_far[-1].detection_rate.ci_low
    )


def test_bootstrap_is_seeded():
    recs = random_records(30, 60, seed=9)
    a = parcel_metrics(recs, NAMES, HALF, n_bootstrap=100, seed=4)
    b = parcel_metrics(recs, NAMES, HALF, n_bootstrap=100, seed=4)
    assert a.to_dict() == b.to_dict()


def test_operating_point_figures_on_a_constructed_set():
    thr = {"ivory": 0.5, "horn": 0.3, "scales": 0.9}
    recs = [
        record(1, [0], [0.7], [0]),  # ivory found
        record(2, [0], [0.4], [0]),  # ivory missed
        record(3, [1], [0.35], [1]),  # horn found (t = 0.3)
        record(4, [2, 0], [0.8, 0.6], [2, 0]),  # scales missed (t = 0.9), ivory found
        record(5, [], [0.95, 0.96], [2, 2], hit=False),  # clean, false alarm with two boxes
        record(6, [], [0.45], [0], hit=False),  # clean, below threshold
        record(7, [], [], []),  # clean, nothing
        record(8, [], [0.31], [1], hit=False),  # clean, horn false alarm
    ]
    m = parcel_metrics(recs, NAMES, thr, n_bootstrap=0)
    assert m.detection_rate.value == pytest.approx(3 / 4)
    assert m.false_alarm_rate.value == pytest.approx(2 / 4)
    assert m.false_alarms_per_100_clean.value == pytest.approx(50.0)
    assert m.false_boxes_per_100_clean.value == pytest.approx(300 / 4)
    assert m.per_class_detection_rate["ivory"].value == pytest.approx(2 / 3)
    assert m.per_class_detection_rate["horn"].value == pytest.approx(1.0)
    assert m.per_class_detection_rate["scales"].value == pytest.approx(0.0)
    assert m.per_class_parcels == {"ivory": 3, "horn": 1, "scales": 1}


def test_one_kind_only_leaves_undefined_figures_none():
    m = parcel_metrics([record(1, [0], [0.7], [0])], NAMES, HALF, n_bootstrap=20)
    assert m.auc.value is None and m.at_far == [] and m.false_alarm_rate.value is None
    assert m.detection_rate.value == 1.0


def test_per_scanner_tables_only_with_two_scanners():
    recs = random_records(30, 60, seed=2)
    assert per_scanner_metrics(recs, NAMES, HALF, n_bootstrap=10) == {}
    for i, r in enumerate(recs):
        r.scanner = "rapiscan-620" if i % 3 else "smiths-6040"
    tables = per_scanner_metrics(recs, NAMES, HALF, n_bootstrap=10)
    assert sorted(tables) == ["rapiscan-620", "smiths-6040"]
    assert sum(t.n_parcels for t in tables.values()) == len(recs)
    sub = [r for r in recs if r.scanner == "smiths-6040"]
    assert tables["smiths-6040"].auc.value == pytest.approx(parcel_metrics(sub, NAMES, HALF, n_bootstrap=0).auc.value)
