"""Choose per-class operating thresholds for a target false-alarm rate (numpy only).

Problem: on a validation set, pick a raw-score threshold per class so that the share of clean
parcels that alarm (a parcel alarms when any detection reaches its class threshold,
:func:`wildxray.runtime.decision.parcel_decision`) is at most the target, while as many contraband
parcels as possible alarm.

Search: with n clean parcels at most ``floor(target * n)`` may alarm. Start from the lowest
threshold shared by all classes that keeps within that budget, then coordinate ascent: for one
class at a time, with the others fixed, try every distinct validation score of that class (and
"above all of them") and keep the best (most contraband parcels caught, then fewest false alarms);
repeat until nothing improves. The result is never worse than the best shared threshold; it is a
local optimum, not a proven global one. A threshold equals a validation score, and a detection
alarms at ``score >= threshold``.

What is scored: the detections' box scores (``source="boxes"``) or a parcel head's ``parcel_scores``
(``source="parcel_head"``, via :func:`wildxray.runtime.decision.parcel_evidence`). :func:`calibrate_sources`
calibrates both where the model has a parcel head and picks the one that catches more contraband.

When ``n * target < 1`` a single false alarm already exceeds the target: the thresholds then
allow no false alarm on the validation set, and the result says ``achievable = False`` (the set is
too small to show the target rate).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Sequence

import numpy as np

from wildxray.evaluation.records import ParcelRecord
from wildxray.runtime.decision import PARCEL_SCORE_SOURCES, parcel_decision, parcel_evidence

_EPS = 1e-9
_MAX_SWEEPS = 50


class CalibrationError(ValueError):
    """The validation set cannot calibrate anything (no clean or no contraband parcel)."""


@dataclass
class OperatingPoint:
    """Calibrated thresholds and how they did on the validation set.

    thresholds: ``{class: raw score threshold}``. false_alarm_rate / detection_rate: achieved on
    the validation set with exactly these thresholds (through ``parcel_decision``);
    false_alarm_rate_upper95: how high the station's rate may really be, given so few clean parcels.
    achievable: False when the validation set cannot show ``target_far`` (reason says why).
    """

    thresholds: dict[str, float]
    target_far: float
    achievable: bool
    reason: str
    false_alarm_rate: float
    detection_rate: float
    n_clean: int
    n_contraband: int
    false_alarms: int
    allowed_false_alarms: int
    shared_threshold: float
    per_class_detection_rate: dict[str, float | None] = field(default_factory=dict)
    false_alarm_rate_upper95: float = 1.0  # exact one-sided 95 % bound from false_alarms of n_clean
    parcel_score: str = "boxes"  # what the thresholds apply to: box scores or parcel-head scores

    def to_dict(self) -> dict:
        return asdict(self)

    def to_card(self) -> dict:
        """The model card's ``operating_point`` block (docs/internals.md)."""
        validation = {k: v for k, v in self.to_dict().items() if k not in ("thresholds", "target_far")}
        return {
            "thresholds": dict(self.thresholds),
            "calibrated": True,
            "target_false_alarm_rate": self.target_far,
            "validation": validation,
        }


def false_alarm_upper_bound(false_alarms: int, n_clean: int, confidence: float = 0.95) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound on a false-alarm rate seen as k of n.

    The p at which seeing ``k`` or fewer alarms has probability ``1 - confidence``; for k = 0 this is
    ``1 - (1 - confidence) ** (1 / n)`` (about 3/n, the "rule of three"). It says how far the
    station's real rate may lie above what a small validation set showed."""
    k, n = int(false_alarms), int(n_clean)
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= false alarms <= clean parcels, got {k} of {n}")
    if k == n:
        return 1.0
    alpha = 1.0 - confidence

    def cdf(p: float) -> float:  # P(X <= k) for X ~ Binomial(n, p), 0 < p < 1
        logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                + i * math.log(p) + (n - i) * math.log1p(-p) for i in range(k + 1)]
        return float(sum(math.exp(v) for v in logs))

    lo, hi = k / n, 1.0  # cdf falls from >= 1/2-ish at k/n to 0 at 1: bisect for cdf == alpha
    for _ in range(100):
        mid = 0.5 * (lo + hi)  # > 0: hi stays above lo >= 0
        if cdf(mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def clean_parcels_needed(target_far: float, ratio: float = 2.0, confidence: float = 0.95) -> int:
    """About how many clean parcels bound the false-alarm rate within ``ratio`` x the target.

    Taken at the set sizes where exactly m false alarms meet the target; m grows until the bound
    on m of ceil(m / target) falls to ratio x target (m = 6 for ratio 2, whatever the target)."""
    for m in range(1, 10_000):
        n = math.ceil(m / target_far - _EPS)
        if false_alarm_upper_bound(m, n, confidence) <= ratio * target_far:
            return n
    raise ValueError(f"no set size bounds a {target_far} false-alarm rate within {ratio}x")


def score_matrix(records: Sequence[ParcelRecord], n_classes: int) -> np.ndarray:
    """Highest raw score per parcel and class: float64 [P, C], -inf where the class was not detected."""
    m = np.full((len(records), n_classes), -np.inf)
    for i, rec in enumerate(records):
        det = rec.detections
        if len(det):
            np.maximum.at(m[i], det.labels, det.scores.astype(np.float64))
    return m


def _above_all(values: np.ndarray) -> float:
    """A threshold no validation score reaches (1.0 when the class was never detected).

    Capped at 1.0 (the model card's range): a score of exactly 1.0 cannot be switched off."""
    finite = values[np.isfinite(values)]
    return min(float(np.nextafter(finite.max(), np.inf)), 1.0) if finite.size else 1.0


def _count(alarm: np.ndarray, clean: np.ndarray) -> tuple[int, int]:
    """(contraband parcels alarmed, clean parcels alarmed)."""
    return int(alarm[~clean].sum()), int(alarm[clean].sum())


def _shared_threshold(m: np.ndarray, clean: np.ndarray, budget: int) -> float:
    """The lowest threshold shared by all classes with at most ``budget`` clean parcels alarmed.

    m: float64 [P, C] highest score per parcel and class; clean: bool [P]."""
    parcel_max = m.max(axis=1)  # [P]
    if budget >= int(clean.sum()):
        return float(np.min(parcel_max[np.isfinite(parcel_max)], initial=1.0))
    # Anything at or below the (budget+1)-th highest clean score would alarm one too many.
    bar = np.sort(parcel_max[clean])[::-1][budget]
    higher = np.unique(m[np.isfinite(m) & (m > bar)])
    return float(higher.min()) if higher.size else _above_all(m.ravel())


def _coordinate_ascent(m: np.ndarray, clean: np.ndarray, budget: int, t: np.ndarray) -> np.ndarray:
    """Per-class thresholds from the start ``t`` [C]: one class at a time, the others fixed, take the
    candidate that catches the most contraband within ``budget``; stop when a sweep changes nothing."""
    t = t.copy()
    n_classes = m.shape[1]
    best = _count((m >= t).any(axis=1), clean)
    for _ in range(_MAX_SWEEPS):
        improved = False
        for c in range(n_classes):
            others = np.delete(np.arange(n_classes), c)
            other_alarm = (m[:, others] >= t[others]).any(axis=1)  # [P]
            base_det, base_fa = _count(other_alarm, clean)
            free = ~other_alarm
            col = m[:, c]
            cand = np.append(np.unique(col[np.isfinite(col)]), _above_all(col))  # ascending
            # Parcels each candidate adds on top of the other classes' alarms (score >= candidate).
            pos_sorted = np.sort(col[free & ~clean])
            neg_sorted = np.sort(col[free & clean])
            det = base_det + len(pos_sorted) - np.searchsorted(pos_sorted, cand, side="left")
            fa = base_fa + len(neg_sorted) - np.searchsorted(neg_sorted, cand, side="left")
            ok = fa <= budget
            if not ok.any():
                continue
            # Most detections, then fewest false alarms, then the highest threshold.
            key = np.lexsort((cand, -fa, det))  # last key is primary; ascending
            key = key[ok[key]]
            j = key[-1]
            if (det[j], -fa[j]) > (best[0], -best[1]):
                t[c] = cand[j]
                best = (int(det[j]), int(fa[j]))
                improved = True
        if not improved:
            break
    return t


def _unmet_reason(n_clean: int, target_far: float, budget: int, fa_n: int, det_n: int) -> tuple[bool, str]:
    """(achievable, why the target is not shown or met: "" when it is)."""
    if n_clean * target_far < 1.0 - _EPS:
        return False, (
            f"with {n_clean} clean parcels the smallest non-zero false-alarm rate is 1/{n_clean} = "
            f"{100.0 / n_clean:.2f} %, above the target {100.0 * target_far:.2f} %; the thresholds allow "
            f"no false alarm on this set, so the target rate is not shown. Calibrate on at least "
            f"{math.ceil(1.0 / target_far - _EPS) if target_far > 0 else 'infinitely many'} clean parcels."
        )
    if fa_n > budget:
        return False, (
            f"{fa_n} of {n_clean} clean parcels alarm even at the strictest thresholds (scores of 1.0), "
            f"more than the {budget} the target allows"
        )
    if det_n == 0:
        return True, "the target is met only by letting nothing alarm: no contraband parcel is detected"
    return True, ""


def calibrate_operating_point(
    records: Sequence[ParcelRecord], class_names: Sequence[str], target_far: float = 0.01, source: str = "boxes"
) -> OperatingPoint:
    """Per-class thresholds maximising parcel detection with clean-parcel FAR <= ``target_far``.

    records: validation parcels with their detections (any frame; only scores and labels are used).
    source: ``"boxes"`` or ``"parcel_head"`` (needs ``parcel_scores`` on every record's detections).
    Raises CalibrationError when there is no clean or no contraband parcel.
    """
    if not 0.0 <= target_far < 1.0:
        raise ValueError(f"target false-alarm rate must be in [0, 1), got {target_far}")
    records = [replace(r, detections=parcel_evidence(r.detections, source)) for r in records]
    clean = np.array([r.is_clean for r in records], bool)
    n_clean, n_pos = int(clean.sum()), int((~clean).sum())
    if n_clean == 0 or n_pos == 0:
        raise CalibrationError(
            f"calibration needs clean and contraband parcels; the validation set has {n_clean} clean "
            f"and {n_pos} contraband parcels"
        )
    budget = int(math.floor(target_far * n_clean + _EPS))
    m = score_matrix(records, len(class_names))  # [P, C]
    shared = _shared_threshold(m, clean, budget)
    t = _coordinate_ascent(m, clean, budget, np.full(len(class_names), shared))

    thresholds = {n: float(v) for n, v in zip(class_names, t)}
    # Report what the station will do: the figures come from parcel_decision itself.
    decisions = [parcel_decision(r.detections, class_names, thresholds) for r in records]
    alarm = np.array([d.alarm for d in decisions], bool)
    det_n, fa_n = _count(alarm, clean)
    per_class: dict[str, float | None] = {}
    for k, name in enumerate(class_names):
        holders = [i for i, r in enumerate(records) if k in r.target.labels]
        per_class[name] = (
            sum(name in decisions[i].alarm_classes for i in holders) / len(holders) if holders else None
        )
    achievable, reason = _unmet_reason(n_clean, target_far, budget, fa_n, det_n)
    return OperatingPoint(
        thresholds=thresholds, target_far=float(target_far), achievable=achievable, reason=reason,
        false_alarm_rate=fa_n / n_clean, detection_rate=det_n / n_pos, n_clean=n_clean, n_contraband=n_pos,
        false_alarms=fa_n, allowed_false_alarms=budget, shared_threshold=shared,
        per_class_detection_rate=per_class, false_alarm_rate_upper95=false_alarm_upper_bound(fa_n, n_clean),
        parcel_score=source,
    )


def calibrate_sources(
    records: Sequence[ParcelRecord], class_names: Sequence[str], target_far: float = 0.01, source: str = "auto"
) -> tuple[OperatingPoint, dict[str, OperatingPoint]]:
    """Calibrate on box scores and, when every record carries ``parcel_scores``, on the parcel head.

    Returns (the chosen point, every calibrated point by source). ``source="auto"`` chooses the one
    that catches the most contraband parcels within the target (an achievable point first; boxes on
    a tie); ``"boxes"``/``"parcel_head"`` force one (ValueError if the model has no parcel head)."""
    if source not in ("auto", *PARCEL_SCORE_SOURCES):
        raise ValueError(f"parcel score source must be auto or one of {PARCEL_SCORE_SOURCES}, got {source!r}")
    points = {"boxes": calibrate_operating_point(records, class_names, target_far, "boxes")}
    if records and all(r.detections.parcel_scores is not None for r in records):
        points["parcel_head"] = calibrate_operating_point(records, class_names, target_far, "parcel_head")
    if source == "auto":
        chosen = max(points.values(), key=lambda op: (op.achievable, op.detection_rate, -op.false_alarms))
    elif source in points:
        chosen = points[source]
    else:
        raise ValueError("parcel score source 'parcel_head' needs a model with a 'parcel_scores' output")
    return chosen, points


def card_operating_point(points: dict[str, OperatingPoint], chosen: OperatingPoint) -> dict:
    """The card's ``operating_point`` block: box thresholds always (the overlay and the viewer draw
    boxes at them); with a parcel-head choice also ``parcel_thresholds``, the decision's own."""
    block = points["boxes"].to_card()
    block["parcel_score"] = chosen.parcel_score
    if chosen.parcel_score == "parcel_head":
        block["box_validation"] = block["validation"]
        block["parcel_thresholds"] = dict(chosen.thresholds)
        block["validation"] = chosen.to_card()["validation"]
    return block
