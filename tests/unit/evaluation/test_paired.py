"""Paired bootstrap of detection at a fixed false-alarm rate: point values equal the unpaired
figure, a model against itself differs by exactly 0, a clearly better model is found better, and the
paired interval is narrower than the two separate ones when the models share their hard parcels."""

from __future__ import annotations

import numpy as np
import pytest

from wildxray.evaluation.paired import paired_detection_difference
from wildxray.evaluation.parcel_metrics import detection_rate_at_far


def _scores(rng: np.random.Generator, n_pos: int = 200, n_neg: int = 800, shift: float = 1.0):
    pos = np.r_[np.ones(n_pos, bool), np.zeros(n_neg, bool)]
    difficulty = rng.normal(size=n_pos + n_neg)  # shared by every model scored on these parcels
    base = np.where(pos, shift, 0.0) + difficulty
    return pos, base


def test_point_values_are_the_unpaired_detection_rates():
    rng = np.random.default_rng(0)
    pos, base = _scores(rng)
    a = base + 0.3 * rng.normal(size=base.shape)
    b = base + 0.3 * rng.normal(size=base.shape)
    cmp = paired_detection_difference(a, b, pos, target_far=0.01, n_bootstrap=200)
    assert cmp.detection_a.value == detection_rate_at_far(a[pos], a[~pos], 0.01).detection_rate
    assert cmp.detection_b.value == detection_rate_at_far(b[pos], b[~pos], 0.01).detection_rate
    assert cmp.difference.value == pytest.approx(cmp.detection_b.value - cmp.detection_a.value)
    assert (cmp.n_clean, cmp.n_contraband) == (800, 200)


def test_a_model_against_itself_differs_by_nothing():
    rng = np.random.default_rng(1)
    pos, base = _scores(rng)
    cmp = paired_detection_difference(base, base.copy(), pos, n_bootstrap=300)
    assert cmp.difference.value == 0.0
    assert cmp.difference.ci_low == 0.0 and cmp.difference.ci_high == 0.0
    assert cmp.share_b_better == 0.5


def test_a_clearly_better_model_is_found_better_and_the_pairing_narrows_the_interval():
    rng = np.random.default_rng(2)
    pos, base = _scores(rng, shift=1.5)
    a = base + 0.2 * rng.normal(size=base.shape)
    b = a + np.where(pos, 0.8, 0.0)  # the same parcels, contraband scored higher
    cmp = paired_detection_difference(a, b, pos, n_bootstrap=500)
    assert cmp.difference.value > 0.1
    assert cmp.difference.ci_low > 0.0
    assert cmp.share_b_better > 0.99
    # Unpaired, the two intervals would overlap; paired, the difference's interval excludes zero.
    paired_width = cmp.difference.ci_high - cmp.difference.ci_low
    unpaired_width = (cmp.detection_a.ci_high - cmp.detection_a.ci_low) + (cmp.detection_b.ci_high - cmp.detection_b.ci_low)
    assert paired_width < 0.75 * unpaired_width
    swapped = paired_detection_difference(b, a, pos, n_bootstrap=500)
    assert swapped.difference.value == pytest.approx(-cmp.difference.value)
    assert swapped.share_b_better < 0.01


def test_refuses_mismatched_or_one_sided_sets():
    pos = np.array([True, False, False])
    with pytest.raises(ValueError, match="one length"):
        paired_detection_difference(np.zeros(3), np.zeros(2), pos)
    with pytest.raises(ValueError, match="clean and contraband"):
        paired_detection_difference(np.zeros(3), np.zeros(3), np.zeros(3, bool))
    with pytest.raises(ValueError, match="finite"):
        paired_detection_difference(np.array([0.0, np.nan, 1.0]), np.zeros(3), pos)
