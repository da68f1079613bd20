"""Turn inspector verdicts into a COCO training set (``wildxray feedback export``).

Output (DESIGN.md "Datasets"):
    DIR/annotations.json   COCO: images, annotations (bbox [x, y, w, h] pixels), categories
    DIR/images/<scan_id>.<ext>   the clean model-view images copied from the results folder

What a scan contributes, from the verdicts in force (latest per item):
- boxes: detections confirmed or relabelled (with the new class) and boxes the inspector drew;
- ``hard_negatives`` (a top-level key that COCO readers ignore): rejected detections, and, on a
  parcel the inspector cleared, every detection at or above its operating threshold;
- image fields ``modality`` (the clean image is pseudo-colour, so dual-energy scans export as
  ``xray``; ``source_modality`` keeps the original), ``contraband`` (any box), ``scan_id``.
A scan is left out, with its reason in the summary, when its review is incomplete (no parcel
verdict and detections above the operating point without a verdict), contradictory (cleared but
boxes confirmed), a contraband verdict has no box, or its clean image is missing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from wildxray.data.coco import coco_annotation, make_coco, save_coco
from wildxray.types import CLASS_NAMES
from wildxray.viewer.db import VerdictDB, audit, utc_now
from wildxray.viewer.index import ResultsIndex, ScanRecord
from wildxray.viewer.verdicts import ScanVerdicts, all_verdicts


class ExportError(ValueError):
    """The export cannot be written at all (the message says why)."""


@dataclass
class ExportSummary:
    annotations: Path
    images: int = 0
    boxes: int = 0
    hard_negatives: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"wrote {self.annotations}: {self.images} images, {self.boxes} boxes, {self.hard_negatives} hard negatives"]
        out += [f"skipped {scan_id}: {reason}" for scan_id, reason in self.skipped]
        return out


def _xywh(box: tuple[float, float, float, float] | list[float]) -> list[float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]


@dataclass
class _ScanExport:
    parcel: str
    boxes: list[tuple[str, tuple[float, float, float, float], str, str]]  # label, xyxy, source, inspector
    negatives: list[tuple[str, tuple[float, float, float, float], float | None]]  # label, xyxy, score


def _resolve(scan: ScanRecord, v: ScanVerdicts) -> _ScanExport | str:
    """The boxes and hard negatives of one scan, or the reason it cannot be exported."""
    boxes, negatives, unresolved = [], [], []
    for det in scan.detections:
        bv = v.boxes.get(f"det:{det.index}")
        if bv is None:
            if det.score >= scan.thresholds.get(det.label, 0.5):
                unresolved.append(det)
        elif bv.verdict in ("confirm", "relabel"):
            # The snapshot taken when the verdict was given, not today's file.
            boxes.append((str(bv.label), bv.box or det.box, "confirmed" if bv.verdict == "confirm" else "relabelled", bv.inspector))
        elif bv.verdict == "reject":
            negatives.append((bv.det_label or det.label, bv.box or det.box, bv.det_score))
    for item, bv in v.boxes.items():
        if item.startswith("add:") and bv.verdict in ("added", "relabel") and bv.box is not None:
            boxes.append((str(bv.label), bv.box, "added", bv.inspector))
    if v.parcel is not None:
        parcel = v.parcel.verdict
    elif unresolved:
        return f"not reviewed: {len(unresolved)} detection(s) above the operating point have no verdict and there is no parcel verdict"
    else:
        parcel = "contraband" if boxes else "clear"
    if parcel == "clear":
        if boxes:
            return f"conflict: parcel cleared but {len(boxes)} box(es) confirmed or drawn"
        negatives += [(d.label, d.box, d.score) for d in unresolved]
    elif unresolved:
        return f"contraband verdict but {len(unresolved)} detection(s) above the operating point have no verdict"
    elif not boxes:
        return "contraband verdict without any confirmed or drawn box"
    unknown = sorted({lab for lab, *_ in boxes + negatives} - set(scan.classes))
    if unknown:
        return f"label(s) {unknown} are not among the model's classes {scan.classes}"
    return _ScanExport(parcel, boxes, negatives)


def export_feedback(db: VerdictDB, results_dir: str | Path | None, out_dir: str | Path, overwrite: bool = False) -> ExportSummary:
    """Write the COCO feedback set; ``results_dir`` None uses the folder the viewer last served."""
    if results_dir is None:
        results_dir = db.get_meta("results_dir")
        if results_dir is None:
            raise ExportError(f"{db.path}: no results folder recorded; pass --results OUT")
    index = ResultsIndex(results_dir, min_interval_s=0)
    out_dir = Path(out_dir)
    ann_path = out_dir / "annotations.json"
    if ann_path.exists() and not overwrite:
        raise ExportError(f"{ann_path} exists; pass --force to overwrite it")
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(ann_path)
    class_names: list[str] | None = None
    images, annotations, hard_negatives = [], [], []
    for scan_id, verdicts in sorted(all_verdicts(db).items()):
        scan = index.get(scan_id)
        if scan is None:
            summary.skipped.append((scan_id, f"no readable result file {scan_id}.json in {index.results_dir}"))
            continue
        resolved = _resolve(scan, verdicts)
        if isinstance(resolved, str):
            summary.skipped.append((scan_id, resolved))
            continue
        src = scan.artifacts.get("image")
        pixels = cv2.imread(str(src), cv2.IMREAD_UNCHANGED) if src is not None else None
        if pixels is None:
            summary.skipped.append((scan_id, "the clean image (artifacts.image) is missing or unreadable"))
            continue
        if pixels.shape[:2] != (scan.height, scan.width):
            summary.skipped.append((scan_id, f"{src.name} is {pixels.shape[1]}x{pixels.shape[0]}, "
                                             f"the result says {scan.width}x{scan.height}"))
            continue
        if class_names is None:
            class_names = scan.classes
        elif scan.classes != class_names:
            raise ExportError(f"{scan.json_path}: model classes {scan.classes} differ from {class_names}; "
                              "export verdicts of one model at a time")
        cat_ids = {name: i + 1 for i, name in enumerate(class_names)}
        image_id = len(images) + 1
        file_name = f"images/{scan_id}{src.suffix.lower()}"
        shutil.copyfile(src, out_dir / file_name)
        images.append({
            "id": image_id, "file_name": file_name, "width": scan.width, "height": scan.height,
            "modality": "photo" if scan.modality == "photo" else "xray", "source_modality": scan.modality,
            "contraband": bool(resolved.boxes), "scan_id": scan_id, "source_name": scan.source_name,
            "parcel_verdict": resolved.parcel,
        })
        for label, box, source, inspector in resolved.boxes:
            xywh = _xywh(box)
            annotations.append(coco_annotation(len(annotations) + 1, image_id, cat_ids[label], xywh,
                                               area=round(xywh[2] * xywh[3], 2), source=source, inspector=inspector))
        for label, box, score in resolved.negatives:
            hard_negatives.append({"image_id": image_id, "bbox": _xywh(box), "category_id": cat_ids[label], "score": score})
    info = {"description": "wildxray inspector feedback", "date_created": utc_now(),
            "results_dir": str(index.results_dir)}
    save_coco(make_coco(images, annotations, class_names or CLASS_NAMES, info=info, hard_negatives=hard_negatives),
              ann_path)
    summary.images, summary.boxes, summary.hard_negatives = len(images), len(annotations), len(hard_negatives)
    with db.connect() as con:
        audit(con, "admin", "feedback_export", None,
              {"out": str(out_dir), "images": summary.images, "boxes": summary.boxes, "skipped": len(summary.skipped)})
    return summary
