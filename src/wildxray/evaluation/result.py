"""``EvalResult``: every number an evaluation produces, what ``metrics.json`` holds and the report shows.

Its own module so that ``evaluate`` (which builds it) and ``report`` (which renders it) both
import it and not each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wildxray.evaluation.froc import FrocResult
from wildxray.evaluation.gallery import GalleryItem
from wildxray.evaluation.parcel_metrics import ParcelMetrics

#: The false-alarm rate of the headline sentence (1 %, else the first rate evaluated).
HEADLINE_FAR = 0.01


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100.0 * v:.1f} %"


@dataclass
class EvalResult:
    """Every number the report shows. Rates are fractions in [0, 1]; ``to_json`` is what
    ``metrics.json`` holds (galleries excluded)."""

    class_names: list[str]
    thresholds: dict[str, float]
    thresholds_source: str  # "given" | "card (calibrated ...)" | "card (uncalibrated)" | "default 0.5"
    calibrated_far: float | None  # the FAR the thresholds were calibrated for, when known
    coco: dict
    parcel: ParcelMetrics
    per_scanner: dict[str, ParcelMetrics]
    froc: FrocResult
    confusion: np.ndarray  # int64 [C + 1, C + 1], rows gt, columns predicted, last = background
    n_bootstrap: int
    seed: int
    gallery: list[GalleryItem] = field(default_factory=list)
    card: dict | None = None
    parcel_score_source: str = "boxes"  # what ``parcel`` scored: box scores or the parcel head
    parcel_by_source: dict[str, ParcelMetrics] = field(default_factory=dict)  # both, when the model has a head
    # box recall by annotation attribute (matching.recall_by_attribute); empty without attributes
    recall_by_attribute: dict[str, dict[str, dict]] = field(default_factory=dict)

    def headline_point(self):
        """The detection-rate-at-FAR entry used for the headline (1 %, else the first)."""
        pts = self.parcel.at_far
        if not pts:
            return None
        return next((p for p in pts if math.isclose(p.target_far, HEADLINE_FAR)), pts[0])

    def headline(self) -> str:
        """One sentence a customs officer can act on."""
        p = self.headline_point()
        if p is None or p.detection_rate.value is None:
            return (
                f"The test set has {self.parcel.n_clean} clean and {self.parcel.n_contraband} contraband "
                "parcels; a detection rate at a fixed false-alarm rate needs both."
            )
        e = p.detection_rate
        text = (
            f"At {100 * p.target_far:g} % false alarms on clean parcels it catches {_pct(e.value)} "
            f"(95 % CI {_pct(e.ci_low)} – {_pct(e.ci_high)}) of parcels with contraband "
            f"({self.parcel.n_contraband} contraband, {self.parcel.n_clean} clean parcels)."
        )
        if not p.resolvable:
            text += f" With {self.parcel.n_clean} clean parcels this was measured at zero false alarms."
        return text

    def operating_sentence(self) -> str:
        d, f = self.parcel.detection_rate, self.parcel.false_alarm_rate
        return (
            f"At the model's operating thresholds ({self.thresholds_source}) it alarmed on "
            f"{_pct(f.value)} of clean parcels (95 % CI {_pct(f.ci_low)} – {_pct(f.ci_high)}) and caught "
            f"{_pct(d.value)} (95 % CI {_pct(d.ci_low)} – {_pct(d.ci_high)}) of parcels with contraband."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "headline": self.headline(),
            "operating_point_summary": self.operating_sentence(),
            "class_names": list(self.class_names),
            "thresholds": dict(self.thresholds),
            "thresholds_source": self.thresholds_source,
            "calibrated_false_alarm_rate": self.calibrated_far,
            "coco": self.coco,
            "parcel": self.parcel.to_dict(),
            "parcel_score_source": self.parcel_score_source,
            "parcel_by_source": {k: v.to_dict() for k, v in self.parcel_by_source.items()},
            "per_scanner": {k: v.to_dict() for k, v in self.per_scanner.items()},
            "froc": self.froc.to_dict(),
            "confusion_matrix": {"labels": [*self.class_names, "background"], "rows_gt_cols_pred": self.confusion.tolist()},
            "recall_by_attribute": self.recall_by_attribute,
            "bootstrap": {"replicates": self.n_bootstrap, "seed": self.seed, "level": 0.95, "stratified": True},
            "gallery": [
                {"kind": g.kind, "image_id": g.image_id, "file_name": g.file_name, "parcel_score": g.parcel_score}
                for g in self.gallery
            ],
        }
