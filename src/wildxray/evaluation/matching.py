"""Box matching for box-level figures (FROC, confusion matrix), numpy only.

All boxes are float [N, 4] xyxy in the same frame (original image pixels).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from wildxray.evaluation.records import ParcelRecord
from wildxray.runtime.decision import calibrated_scores, threshold_vector

#: IoU at which a detection counts as finding a ground-truth box (FROC, confusion matrix).
MATCH_IOU = 0.5


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix float64 [N, M] between xyxy boxes a [N, 4] and b [M, 4] (0 for empty unions)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_detections(
    det_boxes: np.ndarray,
    det_scores: np.ndarray,
    det_labels: np.ndarray,
    gt_boxes: np.ndarray,
    gt_labels: np.ndarray,
    iou: float = MATCH_IOU,
) -> np.ndarray:
    """Class-aware greedy matching, COCO style: bool [K] true-positive flags.

    Detections are visited by descending score; each takes the unmatched ground-truth box of its
    class with the highest IoU >= ``iou``. Because the visit order is by score, the flags are the
    same whatever score cut is applied afterwards (so one matching serves a whole FROC sweep).
    """
    k = len(det_scores)
    tp = np.zeros(k, bool)
    if k == 0 or len(gt_labels) == 0:
        return tp
    ious = box_iou(det_boxes, gt_boxes)  # [K, M]
    ious[det_labels[:, None] != gt_labels[None, :]] = -1.0
    taken = np.zeros(len(gt_labels), bool)
    for d in np.argsort(-np.asarray(det_scores), kind="stable"):
        row = np.where(taken, -1.0, ious[d])
        g = int(row.argmax())
        if row[g] >= iou:
            taken[g] = True
            tp[d] = True
    return tp


def confusion_matrix(
    records: Sequence[ParcelRecord],
    class_names: Sequence[str],
    thresholds: dict[str, float],
    iou: float = MATCH_IOU,
) -> np.ndarray:
    """Confusion matrix int64 [C + 1, C + 1] at the operating thresholds.

    Rows are the ground-truth class, columns the predicted class; index C is "background".
    Only detections at or above their class threshold take part. Pairs are matched class-agnostic,
    greedily by descending IoU (>= ``iou``), each box used once: a matched pair counts at
    [gt class, predicted class]; an unmatched ground-truth box at [gt class, background] (missed);
    an unmatched detection at [background, predicted class] (false box).
    """
    c = len(class_names)
    cm = np.zeros((c + 1, c + 1), np.int64)
    for rec in records:
        d_labels, g_labels, gt_to_det = _operating_pairs(rec, class_names, thresholds, iou)
        for gi, di in enumerate(gt_to_det):
            cm[g_labels[gi], c if di < 0 else d_labels[di]] += 1
        for di in np.setdiff1d(np.arange(len(d_labels)), gt_to_det):
            cm[c, d_labels[di]] += 1
    return cm


def _operating_pairs(
    rec: ParcelRecord, class_names: Sequence[str], thresholds: dict[str, float], iou: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept detection labels [K'], ground-truth labels [M], int64 [M]: the kept detection each
    ground-truth box is paired with, or -1).

    Only detections at or above their class threshold are kept; pairs are matched class-agnostic,
    greedily by descending IoU (>= ``iou``), each box used once.
    """
    det = rec.detections
    t_vec = threshold_vector(class_names, thresholds)
    keep = det.scores.astype(np.float64) >= t_vec[det.labels] if len(det) else np.zeros(0, bool)
    d_boxes, d_labels = det.boxes[keep], det.labels[keep]
    g_labels = rec.target.labels
    ious = box_iou(d_boxes, rec.target.boxes)  # [K', M]
    used_d = np.zeros(len(d_labels), bool)
    gt_to_det = np.full(len(g_labels), -1, np.int64)
    for flat in np.argsort(-ious, axis=None, kind="stable"):
        di, gi = np.unravel_index(flat, ious.shape)
        if ious[di, gi] < iou:
            break
        if used_d[di] or gt_to_det[gi] >= 0:
            continue
        used_d[di] = True
        gt_to_det[gi] = di
    return d_labels, g_labels, gt_to_det


def recall_by_attribute(
    records: Sequence[ParcelRecord],
    class_names: Sequence[str],
    thresholds: dict[str, float],
    iou: float = MATCH_IOU,
) -> dict[str, dict[str, dict[str, float | int]]]:
    """Box recall at the operating thresholds, broken down by each box attribute the annotations
    carry (``Target.meta["box_attributes"]``: the simulator's ``form`` and ``concealment``).

    ``{attribute: {value: {"boxes", "found", "found_other_class", "recall"}}}``, values sorted.
    The pairing is the confusion matrix's, so ``found`` is its diagonal cell and
    ``found_other_class`` the rest of its row but "background" (missed), summed over the value's boxes.
    Empty when no box has attributes.
    """
    counts: dict[str, dict[str, list[int]]] = {}
    for rec in records:
        attrs = rec.target.meta.get("box_attributes") or []
        if not attrs:
            continue
        d_labels, g_labels, gt_to_det = _operating_pairs(rec, class_names, thresholds, iou)
        for gi, di in enumerate(gt_to_det):
            same = di >= 0 and d_labels[di] == g_labels[gi]
            for key, value in attrs[gi].items():
                cell = counts.setdefault(key, {}).setdefault(value, [0, 0, 0])
                cell[0] += 1
                cell[1] += int(same)
                cell[2] += int(di >= 0 and not same)
    return {
        key: {v: {"boxes": n, "found": f, "found_other_class": o, "recall": f / n}
              for v, (n, f, o) in sorted(values.items())}
        for key, values in sorted(counts.items())
    }


def detection_flags(
    records: Sequence[ParcelRecord], class_names: Sequence[str], thresholds: dict[str, float], iou: float = MATCH_IOU
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per record: (calibrated scores float64 [K], true-positive flags bool [K]).

    Matching runs in calibrated-score order, so a score cut at ``ALARM_LEVEL`` selects exactly the
    detections at or above their class thresholds.
    """
    out = []
    for rec in records:
        det = rec.detections
        cal = calibrated_scores(det, class_names, thresholds)
        tp = match_detections(det.boxes, cal, det.labels, rec.target.boxes, rec.target.labels, iou)
        out.append((cal, tp))
    return out


__all__ = ["MATCH_IOU", "box_iou", "confusion_matrix", "detection_flags", "match_detections", "recall_by_attribute"]
