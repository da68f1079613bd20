"""Report galleries: which parcels to show (missed, false alarms, hits) and their pictures.

Pictures are HxWx3 uint8 RGB: ground-truth boxes in white, detections drawn by
:func:`wildxray.runtime.overlay.draw_overlay` (the station's overlay; alarm classes thicker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import cv2
import numpy as np

from wildxray.evaluation.records import ParcelRecord
from wildxray.runtime.decision import ParcelDecision, calibrated_scores, parcel_decision
from wildxray.runtime.overlay import draw_overlay
from wildxray.types import Detections

GALLERY_KINDS: tuple[str, ...] = ("missed", "false_alarm", "hit")
#: Detections drawn in galleries: calibrated score >= this (half-way to the class threshold), so a
#: missed parcel shows what the model almost flagged.
DRAW_LEVEL = 0.25

ImageLoader = Callable[[int], np.ndarray]  # image id -> HxWx3 uint8 RGB


@dataclass
class GalleryItem:
    """One gallery picture. image: HxWx3 uint8 RGB with boxes drawn, long side <= max_side."""

    kind: str
    image_id: int
    file_name: str
    parcel_score: float
    alarm_classes: tuple[str, ...]
    gt_classes: tuple[str, ...]
    image: np.ndarray


def select_gallery(
    records: Sequence[ParcelRecord], decisions: Sequence[ParcelDecision], per_kind: int = 6
) -> dict[str, list[int]]:
    """Indices into ``records`` per kind: missed = contraband parcels that stayed clear (lowest
    score first), false_alarm = clean parcels that alarmed (highest first), hit = contraband parcels
    that alarmed (highest first)."""
    kinds: dict[str, list[int]] = {k: [] for k in GALLERY_KINDS}
    for i, (rec, dec) in enumerate(zip(records, decisions)):
        if rec.is_clean:
            if dec.alarm:
                kinds["false_alarm"].append(i)
        else:
            kinds["hit" if dec.alarm else "missed"].append(i)
    score = [d.parcel_score for d in decisions]
    kinds["missed"].sort(key=lambda i: score[i])
    kinds["false_alarm"].sort(key=lambda i: -score[i])
    kinds["hit"].sort(key=lambda i: -score[i])
    return {k: v[:per_kind] for k, v in kinds.items()}


def render(
    image: np.ndarray,
    record: ParcelRecord,
    decision: ParcelDecision,
    class_names: Sequence[str],
    thresholds: Mapping[str, float],
    max_side: int = 480,
) -> np.ndarray:
    """Draw ground truth and detections (original pixels) on ``image``, then shrink to ``max_side``."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"gallery image {record.image_id} ({record.file_name}): need HxWx3 uint8 RGB, got {image.dtype} {image.shape}")
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thick = max(1, int(round(max(h, w) / 400)))
    for box, label in zip(record.target.boxes, record.target.labels):
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), (255, 255, 255), thick)
        cv2.putText(out, f"gt {class_names[label]}", (x1 + 2, max(10, y2 - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                    max(0.35, max(h, w) / 1600), (255, 255, 255), 1, cv2.LINE_AA)
    det = record.detections
    if len(det):
        keep = calibrated_scores(det, class_names, thresholds) >= DRAW_LEVEL
        out = draw_overlay(out, Detections(det.boxes[keep], det.scores[keep], det.labels[keep]), class_names, decision.alarm_classes)
    scale = max_side / max(h, w)
    if scale < 1.0:
        out = cv2.resize(out, (max(1, int(round(w * scale))), max(1, int(round(h * scale)))), interpolation=cv2.INTER_AREA)
    return out


def build_gallery(
    records: Sequence[ParcelRecord],
    class_names: Sequence[str],
    thresholds: Mapping[str, float],
    image_loader: ImageLoader,
    per_kind: int = 6,
    max_side: int = 480,
) -> list[GalleryItem]:
    """Select and render the gallery; ``image_loader(image_id)`` returns the original image."""
    decisions = [parcel_decision(r.detections, class_names, thresholds) for r in records]
    items = []
    for kind, indices in select_gallery(records, decisions, per_kind).items():
        for i in indices:
            rec, dec = records[i], decisions[i]
            picture = render(image_loader(rec.image_id), rec, dec, class_names, thresholds, max_side)
            gt = tuple(sorted({class_names[k] for k in rec.target.labels.tolist()}))
            items.append(GalleryItem(kind, rec.image_id, rec.file_name, dec.parcel_score, dec.alarm_classes, gt, picture))
    return items
