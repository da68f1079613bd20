"""Per-parcel evaluation records: ground truth and detections of one image side by side.

Numpy only (no pycocotools, no matplotlib), so ``wildxray calibrate`` runs on a station install.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from wildxray.types import Detections, Target


@dataclass
class ParcelRecord:
    """One parcel (image) to evaluate.

    target: ground truth, boxes float32 [M, 4] xyxy in original pixels, labels int64 [M] 0-based.
        A parcel is clean when it carries no box.
    detections: model output for the same image, boxes xyxy in original pixels.
    scanner: the COCO image's ``scanner`` field ("" when absent).
    file_name: the COCO image's ``file_name`` (for galleries and error messages).
    """

    target: Target
    detections: Detections
    scanner: str = ""
    file_name: str = ""

    @property
    def image_id(self) -> int:
        return self.target.image_id

    @property
    def is_clean(self) -> bool:
        return self.target.is_clean


def check_categories(gt_coco: Mapping, class_names: Sequence[str], source: str = "annotations") -> None:
    """Require COCO categories ``id = index + 1`` named as ``class_names`` (DESIGN.md taxonomy)."""
    cats = {int(c["id"]): str(c["name"]) for c in gt_coco.get("categories", [])}
    expected = {i + 1: n for i, n in enumerate(class_names)}
    wrong = {i: cats.get(i) for i, n in expected.items() if cats.get(i) != n}
    extra = sorted(set(cats) - set(expected))
    if wrong or extra:
        raise ValueError(
            f"{source}: categories do not match the model's classes {list(class_names)} "
            f"(expected id = index + 1); mismatched ids {wrong}, unknown ids {extra}"
        )


#: COCO's own annotation keys; any other key with a text value (the simulator's ``form`` and
#: ``concealment``, a user's own tags) is a box attribute that recall can be broken down by.
COCO_ANNOTATION_KEYS = frozenset({"id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation"})


def box_attributes(ann: Mapping) -> dict[str, str]:
    """The text-valued, non-COCO fields of one annotation (``None`` reads as "none")."""
    return {k: ("none" if v is None else v) for k, v in ann.items()
            if k not in COCO_ANNOTATION_KEYS and (v is None or isinstance(v, str))}


def targets_from_coco(gt_coco: Mapping, class_names: Sequence[str], source: str = "annotations") -> dict[int, Target]:
    """Ground truth per image id from a COCO dict (``bbox`` xywh -> xyxy, category id - 1 -> label).

    ``iscrowd`` annotations are skipped (COCO's "ignore" regions carry no parcel label). Each box's
    attributes (``box_attributes``) go, in box order, to ``meta["box_attributes"]``.
    Raises ValueError naming the record for an unknown image id or category.
    """
    check_categories(gt_coco, class_names, source)
    boxes: dict[int, list[list[float]]] = {}
    labels: dict[int, list[int]] = {}
    meta: dict[int, dict] = {}
    for img in gt_coco.get("images", []):
        iid = int(img["id"])
        boxes[iid], labels[iid] = [], []
        meta[iid] = {k: img[k] for k in ("file_name", "scanner", "modality", "width", "height") if k in img}
    for ann in gt_coco.get("annotations", []):
        iid = int(ann["image_id"])
        if iid not in boxes:
            raise ValueError(f"{source}: annotation {ann.get('id')}: unknown image_id {iid}")
        cid = int(ann["category_id"])
        if not 1 <= cid <= len(class_names):
            raise ValueError(f"{source}: annotation {ann.get('id')}: unknown category_id {cid}")
        if ann.get("iscrowd", 0):
            continue
        x, y, w, h = (float(v) for v in ann["bbox"])
        box = [x, y, x + w, y + h]
        if "width" in meta[iid] and "height" in meta[iid]:
            # Same clipping as wildxray.data.coco (validation tolerates a pixel outside the image).
            wd, ht = float(meta[iid]["width"]), float(meta[iid]["height"])
            box = [min(max(box[0], 0.0), wd), min(max(box[1], 0.0), ht), min(max(box[2], 0.0), wd), min(max(box[3], 0.0), ht)]
        boxes[iid].append(box)
        labels[iid].append(cid - 1)
        meta[iid].setdefault("box_attributes", []).append(box_attributes(ann))
    return {
        iid: Target(np.asarray(boxes[iid], np.float32).reshape(-1, 4), np.asarray(labels[iid], np.int64), iid, meta[iid])
        for iid in boxes
    }


def records_from_coco(
    gt_coco: Mapping,
    predictions: Mapping[int, Detections],
    class_names: Sequence[str],
    source: str = "annotations",
) -> list[ParcelRecord]:
    """Pair every COCO image with its detections, in the COCO ``images`` order.

    predictions: ``{image_id: Detections}`` in original pixels, one entry per image of ``gt_coco``
    (an image the model saw and found nothing in has ``Detections.empty()``). A missing or an
    unknown image id raises ValueError: a silently missing prediction would count as a miss.
    """
    targets = targets_from_coco(gt_coco, class_names, source)
    unknown = sorted(set(int(k) for k in predictions) - set(targets))
    if unknown:
        raise ValueError(f"{source}: predictions for image ids not in the annotations: {unknown[:10]}")
    missing = sorted(set(targets) - set(int(k) for k in predictions))
    if missing:
        raise ValueError(f"{source}: no predictions for image ids {missing[:10]} ({len(missing)} images)")
    records = []
    for iid, target in targets.items():
        det = predictions[iid]
        if len(det) and (det.labels.min() < 0 or det.labels.max() >= len(class_names)):
            raise ValueError(f"{source}: image {iid}: detection labels outside 0..{len(class_names) - 1}")
        records.append(
            ParcelRecord(target, det, str(target.meta.get("scanner", "") or ""), str(target.meta.get("file_name", "")))
        )
    return records
