"""Parcel-level screening metrics: ROC, AUC, detection rate at fixed false-alarm rates, the
operating point, per-class and per-scanner figures, each with a bootstrap 95 % interval.

Definitions (numpy only):
- A **contraband parcel** (positive) carries at least one ground-truth box; a **clean parcel**
  (negative) carries none. The parcel score and the alarm come from
  :func:`wildxray.runtime.decision.parcel_decision` (the same code the station runs).
- **ROC**: alarm when ``parcel_score >= tau``, tau swept over every distinct score; false-alarm
  rate (FAR) = alarmed clean / clean, detection rate = alarmed contraband / contraband.
- **Detection rate at FAR f** is conservative, never interpolated: the highest detection rate of any
  tau whose FAR on this set is ``<= f``. With n clean parcels only ``floor(f * n)`` false alarms
  are allowed, so when ``n < 1 / f`` the figure is measured at zero false alarms (``resolvable``
  is then False: the set cannot show the target rate).
- **Operating point**: the given per-class thresholds (alarm iff ``parcel_score >= 0.5``).
  Per-class detection rate of class c: among parcels containing c, the share whose alarm classes
  include c. False alarms per 100 clean parcels: alarmed clean parcels x 100 / clean parcels (each
  one costs a manual search); false boxes per 100 clean parcels: detections at or above their
  threshold on clean parcels x 100 / clean parcels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

from wildxray.evaluation.bootstrap import Estimate, percentile_estimate, stratified_indices
from wildxray.evaluation.records import ParcelRecord
from wildxray.runtime.decision import parcel_decision

DEFAULT_TARGET_FARS: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05)
_EPS = 1e-9  # guards floor(f * n) against 0.01 * 300 = 2.9999999999999996


def roc_curve(is_positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full ROC: (fpr, tpr, thresholds), each float64 [U + 1], thresholds descending from +inf.

    is_positive: bool [P]; scores: float [P]. Point i alarms parcels with ``score >= thresholds[i]``
    (the same points as ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``).
    """
    pos = np.asarray(is_positive, bool)
    s = np.asarray(scores, np.float64)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"ROC needs clean and contraband parcels; got {n_neg} clean, {n_pos} contraband")
    thr = np.unique(s)[::-1]
    pos_sorted, neg_sorted = np.sort(s[pos]), np.sort(s[~pos])
    # count of scores >= t = n - (number strictly below t)
    tp = n_pos - np.searchsorted(pos_sorted, thr, side="left")
    fp = n_neg - np.searchsorted(neg_sorted, thr, side="left")
    fpr = np.concatenate([[0.0], fp / n_neg])
    tpr = np.concatenate([[0.0], tp / n_pos])
    return fpr, tpr, np.concatenate([[np.inf], thr])


def roc_auc(pos_scores: np.ndarray, neg_scores: np.ndarray) -> float:
    """Area under the ROC = P(pos > neg) + P(pos == neg) / 2 (equals the trapezoid area)."""
    neg = np.sort(np.asarray(neg_scores, np.float64))
    pos = np.asarray(pos_scores, np.float64)
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(pos) * len(neg)))


@dataclass(frozen=True)
class FarCut:
    """The conservative cut for a target FAR on one set."""

    detection_rate: float
    threshold: float  # on the parcel score; +inf when nothing may alarm
    false_alarm_rate: float  # achieved on this set, <= target
    resolvable: bool  # False when the set has fewer than 1 / target clean parcels


def detection_rate_at_far(pos_scores: np.ndarray, neg_scores: np.ndarray, target_far: float) -> FarCut:
    """Highest detection rate with FAR <= ``target_far`` (see module docstring)."""
    pos = np.asarray(pos_scores, np.float64)
    neg = np.sort(np.asarray(neg_scores, np.float64))[::-1]
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("detection rate at a FAR needs clean and contraband parcels")
    allowed = int(math.floor(target_far * len(neg) + _EPS))
    if allowed >= len(neg):
        thr = float(min(pos.min(), neg.min()))
    else:
        # Alarm only above the (allowed+1)-th highest clean score: at most `allowed` clean alarms.
        above = pos[pos > neg[allowed]]
        thr = float(above.min()) if len(above) else math.inf
    det = float((pos >= thr).mean())
    far = float((neg >= thr).mean())
    return FarCut(det, thr, far, resolvable=len(neg) * target_far >= 1.0 - _EPS)


def detection_rates_at_far_boot(pos_b: np.ndarray, neg_b: np.ndarray, target_far: float) -> np.ndarray:
    """Vectorised detection rate at FAR: pos_b float [B, n_pos], neg_b float [B, n_neg] -> [B]."""
    n_neg = neg_b.shape[1]
    allowed = int(math.floor(target_far * n_neg + _EPS))
    if allowed >= n_neg:
        return np.ones(len(pos_b))
    cut = -np.sort(-neg_b, axis=1)[:, allowed]  # (allowed+1)-th highest clean score, [B]
    return (pos_b > cut[:, None]).mean(axis=1)


@dataclass
class FarPoint:
    target_far: float
    detection_rate: Estimate
    threshold: float | None  # on the parcel score; None when nothing may alarm
    achieved_far: float
    resolvable: bool


@dataclass
class ParcelMetrics:
    """Every parcel-level figure of one (sub)set; see the module docstring for definitions."""

    n_parcels: int
    n_clean: int
    n_contraband: int
    auc: Estimate
    at_far: list[FarPoint]
    detection_rate: Estimate  # at the operating point
    false_alarm_rate: Estimate  # at the operating point
    false_alarms_per_100_clean: Estimate
    false_boxes_per_100_clean: Estimate
    per_class_detection_rate: dict[str, Estimate]
    per_class_parcels: dict[str, int]
    roc: dict[str, list[float]] = field(default_factory=dict)  # fpr, tpr, thresholds (inf -> None)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _ParcelArrays:
    scores: np.ndarray  # float64 [P] parcel scores
    positive: np.ndarray  # bool [P]
    alarm: np.ndarray  # bool [P]
    contains: np.ndarray  # bool [P, C] ground truth holds class c
    alarm_on: np.ndarray  # bool [P, C] alarm raised for class c
    false_boxes: np.ndarray  # int [P] detections >= threshold (counted on clean parcels only)


def _arrays(records: Sequence[ParcelRecord], class_names: Sequence[str], thresholds: Mapping[str, float]) -> _ParcelArrays:
    c = len(class_names)
    p = len(records)
    arr = _ParcelArrays(np.zeros(p), np.zeros(p, bool), np.zeros(p, bool), np.zeros((p, c), bool), np.zeros((p, c), bool), np.zeros(p, np.int64))
    index = {n: i for i, n in enumerate(class_names)}
    for i, rec in enumerate(records):
        dec = parcel_decision(rec.detections, class_names, thresholds)
        arr.scores[i] = dec.parcel_score
        arr.positive[i] = not rec.is_clean
        arr.alarm[i] = dec.alarm
        arr.contains[i, rec.target.labels] = True
        arr.alarm_on[i, [index[n] for n in dec.alarm_classes]] = True
        if rec.is_clean and len(rec.detections):
            t = np.array([thresholds[class_names[k]] for k in rec.detections.labels], np.float64)
            arr.false_boxes[i] = int((rec.detections.scores.astype(np.float64) >= t).sum())
    return arr


def parcel_metrics(
    records: Sequence[ParcelRecord],
    class_names: Sequence[str],
    thresholds: Mapping[str, float],
    target_fars: Sequence[float] = DEFAULT_TARGET_FARS,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> ParcelMetrics:
    """Parcel metrics with stratified bootstrap 95 % intervals (``n_bootstrap`` replicates, seeded).

    Figures that need both kinds of parcel (AUC, rates at FAR) are None when one kind is absent.
    """
    a = _arrays(records, class_names, thresholds)
    pos_i, neg_i = np.flatnonzero(a.positive), np.flatnonzero(~a.positive)
    n_pos, n_neg = len(pos_i), len(neg_i)
    bp, bn = stratified_indices(n_pos, n_neg, n_bootstrap, seed)
    bp, bn = pos_i[bp], neg_i[bn]  # [B, n_pos], [B, n_neg] indices into the records
    both = n_pos > 0 and n_neg > 0

    def est(value: float | None, reps: np.ndarray | None) -> Estimate:
        if reps is None or n_bootstrap == 0:
            return Estimate(value) if value is not None and math.isfinite(value) else Estimate(None)
        return percentile_estimate(value, reps)

    s = a.scores
    auc = est(roc_auc(s[pos_i], s[neg_i]), np.array([roc_auc(s[p], s[n]) for p, n in zip(bp, bn)])) if both else Estimate(None)
    roc: dict[str, list] = {}
    at_far: list[FarPoint] = []
    if both:
        fpr, tpr, thr = roc_curve(a.positive, s)
        roc = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": [None if math.isinf(t) else float(t) for t in thr]}
        for f in target_fars:
            cut = detection_rate_at_far(s[pos_i], s[neg_i], f)
            reps = detection_rates_at_far_boot(s[bp], s[bn], f) if n_bootstrap else None
            thr_f = None if math.isinf(cut.threshold) else cut.threshold
            at_far.append(FarPoint(float(f), est(cut.detection_rate, reps), thr_f, cut.false_alarm_rate, cut.resolvable))

    def mean_or_none(x: np.ndarray) -> float | None:
        return float(x.mean()) if x.size else None

    det = est(mean_or_none(a.alarm[pos_i]), a.alarm[bp].mean(axis=1) if n_pos else None)
    far = est(mean_or_none(a.alarm[neg_i]), a.alarm[bn].mean(axis=1) if n_neg else None)
    fa100 = est(None if far.value is None else 100.0 * far.value, 100.0 * a.alarm[bn].mean(axis=1) if n_neg else None)
    fb = a.false_boxes
    fb100 = est(100.0 * float(fb[neg_i].mean()) if n_neg else None, 100.0 * fb[bn].mean(axis=1) if n_neg else None)

    per_class: dict[str, Estimate] = {}
    per_count: dict[str, int] = {}
    hit = a.contains & a.alarm_on
    for k, name in enumerate(class_names):
        n_k = int(a.contains[:, k].sum())
        per_count[name] = n_k
        if n_k == 0:
            per_class[name] = Estimate(None)
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = hit[bp, k].sum(axis=1) / a.contains[bp, k].sum(axis=1) if n_bootstrap else None
        per_class[name] = est(float(hit[:, k].sum() / n_k), reps)

    return ParcelMetrics(len(records), n_neg, n_pos, auc, at_far, det, far, fa100, fb100, per_class, per_count, roc)


def scanners(records: Sequence[ParcelRecord]) -> list[str]:
    """Distinct ``scanner`` values in the set, sorted ("" for images without one)."""
    return sorted({r.scanner for r in records})


def per_scanner_metrics(
    records: Sequence[ParcelRecord],
    class_names: Sequence[str],
    thresholds: Mapping[str, float],
    target_fars: Sequence[float] = DEFAULT_TARGET_FARS,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, ParcelMetrics]:
    """One :class:`ParcelMetrics` per scanner when the set holds two or more, else ``{}``."""
    names = scanners(records)
    if len(names) < 2:
        return {}
    return {
        name or "(none)": parcel_metrics([r for r in records if r.scanner == name], class_names, thresholds, target_fars, n_bootstrap, seed)
        for name in names
    }
