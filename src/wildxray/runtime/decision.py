"""The parcel decision: does this scan alarm, on which classes, and how strongly.

One implementation, used by evaluation, calibration, ``predict`` and the station (numpy only).

Rules
-----
- A parcel **alarms** when any detection's raw score reaches its class's operating threshold
  (``score >= thresholds[class]``); ``alarm_classes`` are those classes, sorted, unique.
- Thresholds differ per class, so raw scores of different classes are not comparable. Each
  detection's **calibrated score** puts them on one scale: a monotone, piecewise-linear map per
  class that sends 0 -> 0, the class threshold ``t`` -> 0.5 and 1 -> 1::

      s <  t:  0.5 * s / t
      s >= t:  0.5 + 0.5 * (s - t) / (1 - t)      (1.0 when t >= 1)

  With the uncalibrated default ``t = 0.5`` the map is the identity.
- The **parcel score** is the highest calibrated score in the parcel (0.0 with no detection).
  Hence ``decision == "alarm"`` exactly when ``parcel_score >= 0.5``, and moving one cut-off on
  the parcel score (the parcel ROC) moves every class threshold together.
- **What is scored** (``PARCEL_SCORE_SOURCES``, the card's ``operating_point.parcel_score``):
  ``"boxes"`` decides on the detections themselves (every model); ``"parcel_head"`` decides on a
  model's image-level ``parcel_scores``, one per class (:func:`parcel_evidence` turns them into one
  pseudo-detection per class, so every rule above holds unchanged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from wildxray.types import Detections

#: The parcel score at which a parcel alarms (every class threshold maps here).
ALARM_LEVEL = 0.5
# Largest float below ALARM_LEVEL: keeps "below threshold" strictly below 0.5 after rounding.
_BELOW_ALARM = math.nextafter(ALARM_LEVEL, 0.0)


#: What a parcel decision can be made on (see the module docstring).
PARCEL_SCORE_SOURCES: tuple[str, ...] = ("boxes", "parcel_head")


def parcel_evidence(detections: Detections, source: str = "boxes") -> Detections:
    """The detections a parcel decision is made on: ``detections`` themselves for ``"boxes"``; for
    ``"parcel_head"`` one entry per class c with score ``parcel_scores[c]`` (boxes all zero)."""
    if source == "boxes":
        return detections
    if source != "parcel_head":
        raise ValueError(f"parcel score source must be one of {PARCEL_SCORE_SOURCES}, got {source!r}")
    if detections.parcel_scores is None:
        raise ValueError("parcel score source 'parcel_head' needs a model with a 'parcel_scores' output")
    p = detections.parcel_scores
    return Detections(np.zeros((len(p), 4), np.float32), p, np.arange(len(p)), p)


@dataclass(frozen=True)
class ParcelDecision:
    """Decision for one parcel.

    decision: ``"alarm"`` or ``"clear"``.
    alarm_classes: class names with at least one detection at or above their threshold, sorted.
    parcel_score: highest calibrated detection score in [0, 1]; 0.0 when there is no detection.
    """

    decision: str
    alarm_classes: tuple[str, ...]
    parcel_score: float

    @property
    def alarm(self) -> bool:
        return self.decision == "alarm"


def threshold_vector(class_names: Sequence[str], thresholds: Mapping[str, float]) -> np.ndarray:
    """Per-label thresholds as float64 [C] in label order; raises on a missing or invalid value."""
    missing = [n for n in class_names if n not in thresholds]
    if missing:
        raise ValueError(f"operating thresholds missing for class(es) {missing}; have {sorted(thresholds)}")
    out = np.array([float(thresholds[n]) for n in class_names], dtype=np.float64)
    bad = [(n, t) for n, t in zip(class_names, out) if not math.isfinite(t) or t < 0.0]
    if bad:
        raise ValueError(f"operating thresholds must be finite and >= 0, got {bad}")
    return out


def calibrated_scores(
    detections: Detections, class_names: Sequence[str], thresholds: Mapping[str, float] | np.ndarray
) -> np.ndarray:
    """Calibrated score of every detection: float64 [K], 0.5 exactly at its class threshold.

    ``thresholds`` is a ``{class name: threshold}`` mapping or a float [C] vector in label order.
    """
    t_vec = (
        np.asarray(thresholds, dtype=np.float64)
        if isinstance(thresholds, np.ndarray)
        else threshold_vector(class_names, thresholds)
    )
    labels = detections.labels
    if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise ValueError(
            f"detection label(s) {sorted(set(labels.tolist()))} outside 0..{len(class_names) - 1} "
            f"for classes {list(class_names)}"
        )
    s = detections.scores.astype(np.float64)
    t = t_vec[labels]
    out = np.empty_like(s)
    below = s < t
    # t > 0 wherever s < t (scores are >= 0), so the division is safe.
    out[below] = np.minimum(ALARM_LEVEL * s[below] / t[below], _BELOW_ALARM)
    above = ~below
    room = 1.0 - t[above]
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = np.where(room > 0, ALARM_LEVEL + ALARM_LEVEL * (s[above] - t[above]) / room, 1.0)
    out[above] = np.clip(upper, ALARM_LEVEL, 1.0)
    return out


def parcel_decision(
    detections: Detections, class_names: Sequence[str], thresholds: Mapping[str, float]
) -> ParcelDecision:
    """Decide one parcel from its detections (any frame; only scores and labels matter).

    detections: scores float32 [K] in [0, 1], labels int64 [K] 0-based into ``class_names``.
    thresholds: ``{class name: raw score threshold}`` for every class (the model card's
    ``operating_point.thresholds``).
    """
    t_vec = threshold_vector(class_names, thresholds)
    if len(detections) == 0:
        return ParcelDecision("clear", (), 0.0)
    cal = calibrated_scores(detections, class_names, t_vec)
    # Decide on the raw comparison (the contract), not on the rounded calibrated score.
    hit = detections.scores.astype(np.float64) >= t_vec[detections.labels]
    classes = tuple(sorted({class_names[i] for i in detections.labels[hit].tolist()}))
    return ParcelDecision("alarm" if classes else "clear", classes, float(cal.max()))
