"""COCO box mAP through pycocotools (never hand-written), with its printing silenced."""

from __future__ import annotations

import contextlib
import copy
import io
import math
from typing import Mapping, Sequence

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from wildxray.data.coco import coco_annotation
from wildxray.evaluation.records import check_categories
from wildxray.types import Detections


def _quiet_coco(dataset: dict) -> COCO:
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _gt_dataset(gt: Mapping) -> dict:
    """A copy of the ground truth with the fields COCOeval needs (``area``, ``iscrowd``, ``id``)."""
    ds = copy.deepcopy(dict(gt))
    ds.setdefault("info", {})
    for i, ann in enumerate(ds.get("annotations", [])):
        ann.setdefault("id", i + 1)
        ann.setdefault("iscrowd", 0)
        ann.setdefault("area", float(ann["bbox"][2]) * float(ann["bbox"][3]))
    return ds


def _results_dataset(gt_ds: dict, predictions: Mapping[int, Detections]) -> dict:
    """Detections as a COCO result set: bbox xywh in original pixels, category id = label + 1."""
    anns = []
    for iid, det in predictions.items():
        xywh = det.boxes.astype(np.float64).copy()
        xywh[:, 2:] -= xywh[:, :2]
        for box, score, label in zip(xywh, det.scores, det.labels):
            anns.append(coco_annotation(len(anns) + 1, int(iid), int(label) + 1, [float(v) for v in box],
                                        score=float(score)))
    return {"info": {}, "images": gt_ds["images"], "categories": gt_ds["categories"], "annotations": anns}


def _mean_valid(p: np.ndarray) -> float | None:
    valid = p[p > -1]
    return float(valid.mean()) if valid.size else None


def coco_map(
    gt: Mapping, predictions: Mapping[int, Detections], class_names: Sequence[str]
) -> dict:
    """COCO box metrics of ``predictions`` against the COCO dict ``gt``.

    predictions: ``{image_id: Detections}``, boxes xyxy float in ORIGINAL image pixels, labels
    0-based (category id = label + 1). An image without an entry has no detections.
    Returns ``mAP`` (AP@[.5:.95]), ``mAP50``, ``mAP75``, ``per_class_AP`` and ``per_class_AP50``
    ({class: AP or None when the class has no ground truth}), ``pr_curves`` (``recall`` [101] and
    ``precision50`` {class: [101]}: COCO's interpolated precision at IoU 0.5, all areas, 100
    detections), and ``stats`` (COCOeval's 12 summary numbers, -1 where undefined).
    Figures undefined for the set (no ground-truth box at all) are None.
    """
    check_categories(gt, class_names, "ground truth")
    known = {int(img["id"]) for img in gt.get("images", [])}
    unknown = sorted(set(int(k) for k in predictions) - known)
    if unknown:
        raise ValueError(f"predictions for image ids not in the ground truth: {unknown[:10]}")
    gt_ds = _gt_dataset(gt)
    coco_gt = _quiet_coco(gt_ds)
    coco_dt = _quiet_coco(_results_dataset(gt_ds, predictions))
    ev = COCOeval(coco_gt, coco_dt, iouType="bbox")
    ev.params.catIds = list(range(1, len(class_names) + 1))
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval["precision"]  # [T=10 IoUs, R=101 recall, K classes, A=4 areas, M=3 maxDets]
    iou_50 = int(np.argmin(np.abs(ev.params.iouThrs - 0.5)))
    all_area, max_dets = 0, -1

    def stat(v: float) -> float | None:
        return None if v < 0 or math.isnan(v) else float(v)

    per_ap, per_ap50, pr = {}, {}, {}
    for k, name in enumerate(class_names):
        per_ap[name] = _mean_valid(precision[:, :, k, all_area, max_dets])
        per_ap50[name] = _mean_valid(precision[iou_50, :, k, all_area, max_dets])
        curve = precision[iou_50, :, k, all_area, max_dets]
        pr[name] = None if (curve <= -1).all() else np.clip(curve, 0.0, 1.0).tolist()
    return {
        "mAP": stat(ev.stats[0]),
        "mAP50": stat(ev.stats[1]),
        "mAP75": stat(ev.stats[2]),
        "per_class_AP": per_ap,
        "per_class_AP50": per_ap50,
        "pr_curves": {"recall": ev.params.recThrs.tolist(), "precision50": pr},
        "stats": [float(s) for s in ev.stats],
    }
