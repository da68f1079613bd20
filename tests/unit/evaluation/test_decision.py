"""parcel_decision: alarm rule, alarm classes, calibrated parcel score."""

from __future__ import annotations

import numpy as np
import pytest

from wildxray.runtime.decision import ALARM_LEVEL, calibrated_scores, parcel_decision
from wildxray.types import Detections

NAMES = ("ivory", "horn", "scales")
THR = {"ivory": 0.6, "horn": 0.2, "scales": 0.5}


def det(scores, labels) -> Detections:
    n = len(scores)
    return Detections(np.tile([[0, 0, 10, 10]], (n, 1)), np.array(scores, np.float32), np.array(labels))


def test_no_detection_is_clear_with_zero_score():
    d = parcel_decision(Detections.empty(), NAMES, THR)
    assert (d.decision, d.alarm_classes, d.parcel_score) == ("clear", (), 0.0)


def test_below_every_threshold_is_clear_but_scored():
    d = parcel_decision(det([0.59, 0.19], [0, 1]), NAMES, THR)
    assert d.decision == "clear" and d.alarm_classes == ()
    # ivory 0.59/0.6*0.5 = 0.492 outranks horn 0.19/0.2*0.5 = 0.475 on the common scale
    assert d.parcel_score == pytest.approx(0.5 * 0.59 / 0.6, rel=1e-6)
    assert d.parcel_score < ALARM_LEVEL


def test_alarm_classes_sorted_unique_and_score_at_threshold_alarms():
    d = parcel_decision(det([0.2, 0.9, 0.25, 0.1], [1, 2, 1, 0]), NAMES, THR)
    assert d.decision == "alarm"
    assert d.alarm_classes == ("horn", "scales")
    # scales 0.9 at t=0.5 -> 0.9; horn 0.25 at t=0.2 -> 0.5 + 0.5 * 0.05 / 0.8 = 0.53
    assert d.parcel_score == pytest.approx(0.9, rel=1e-6)
    exact = parcel_decision(det([0.6], [0]), NAMES, THR)
    assert exact.alarm and exact.parcel_score == pytest.approx(ALARM_LEVEL)


def test_per_class_thresholds_matter():
    # The same raw score alarms for horn (t=0.2) and not for ivory (t=0.6).
    assert parcel_decision(det([0.3], [1]), NAMES, THR).alarm
    assert not parcel_decision(det([0.3], [0]), NAMES, THR).alarm


def test_calibrated_score_is_monotone_and_identity_at_half():
    s = np.linspace(0, 1, 101)
    d = Detections(np.zeros((101, 4)), s, np.zeros(101, np.int64))
    ident = calibrated_scores(d, NAMES, {"ivory": 0.5, "horn": 0.5, "scales": 0.5})
    np.testing.assert_allclose(ident, s.astype(np.float32), atol=1e-6)
    cal = calibrated_scores(d, NAMES, THR)
    assert np.all(np.diff(cal) > 0) and cal[0] == 0 and cal[-1] == pytest.approx(1.0)
    assert np.array_equal(cal >= ALARM_LEVEL, d.scores >= np.float32(0.6))


def test_alarm_iff_parcel_score_reaches_half_on_random_parcels():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(0, 5))
        thr = dict(zip(NAMES, rng.choice([0.0, 0.3, 0.5, 0.999, 1.0, 1.2], 3)))
        scores = rng.choice([0.0, 0.3, 0.5, 0.7, 1.0], n) if rng.random() < 0.5 else rng.random(n)
        d = parcel_decision(det(scores, rng.integers(0, 3, n)), NAMES, thr)
        assert d.alarm == (d.parcel_score >= ALARM_LEVEL)
        assert 0.0 <= d.parcel_score <= 1.0


def test_bad_thresholds_and_labels_are_named():
    with pytest.raises(ValueError, match="scales"):
        parcel_decision(det([0.3], [0]), NAMES, {"ivory": 0.5, "horn": 0.5})
    with pytest.raises(ValueError, match="finite"):
        parcel_decision(det([0.3], [0]), NAMES, {**THR, "horn": float("nan")})
    with pytest.raises(ValueError, match="label"):
        parcel_decision(det([0.3], [5]), NAMES, THR)


def test_decision_module_is_torch_free():
    import subprocess
    import sys

    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def guard(name, *a, **k):\n"
        "    if name.split('.')[0] in ('torch', 'torchvision', 'matplotlib', 'pycocotools'):\n"
        "        raise ImportError('blocked ' + name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = guard\n"
        "import wildxray.runtime.decision, wildxray.evaluation.calibration\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
