"""The composition root of evaluation: COCO mAP + parcel metrics + FROC + confusion matrix +
galleries for one model and one test set, and the files they go to (``metrics.json``,
``report.html``).

Operating thresholds come, in order, from the caller, the model card's ``operating_point``, or
0.5 per class (what an uncalibrated export carries). The parcel decision scores what the card says
(``operating_point.parcel_score``: box scores, or a parcel head's ``parcel_scores`` against
``parcel_thresholds``); when the model has a parcel head, the parcel metrics are also reported for
the other way of scoring a parcel (``parcel_by_source``), side by side.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from wildxray.evaluation.coco_metrics import coco_map
from wildxray.evaluation.froc import DEFAULT_FP_RATES, FrocResult, froc
from wildxray.evaluation.gallery import GalleryItem, ImageLoader, build_gallery
from wildxray.evaluation.matching import confusion_matrix
from wildxray.evaluation.parcel_metrics import DEFAULT_TARGET_FARS, ParcelMetrics, parcel_metrics, per_scanner_metrics
from wildxray.evaluation.records import records_from_coco
from wildxray.runtime.decision import parcel_evidence
from wildxray.types import Detections

log = logging.getLogger("wildxray.evaluate")

UNCALIBRATED_THRESHOLD = 0.5
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
            "bootstrap": {"replicates": self.n_bootstrap, "seed": self.seed, "level": 0.95, "stratified": True},
            "gallery": [
                {"kind": g.kind, "image_id": g.image_id, "file_name": g.file_name, "parcel_score": g.parcel_score}
                for g in self.gallery
            ],
        }


def resolve_thresholds(
    class_names: Sequence[str], thresholds: Mapping[str, float] | None, card: Mapping | None
) -> tuple[dict[str, float], str, float | None]:
    """(thresholds, where they came from, calibrated FAR or None); see the module docstring."""
    if thresholds is not None:
        return {n: float(thresholds[n]) for n in class_names}, "given", None
    op = (card or {}).get("operating_point") or {}
    if op.get("thresholds"):
        t = {n: float(op["thresholds"][n]) for n in class_names}
        far = op.get("target_false_alarm_rate")
        if op.get("calibrated") and far is not None:
            return t, f"card, calibrated for {100 * float(far):g} % false alarms", float(far)
        return t, "card, uncalibrated", None
    return {n: UNCALIBRATED_THRESHOLD for n in class_names}, f"default {UNCALIBRATED_THRESHOLD}", None


def evaluate(
    gt_coco: Mapping,
    predictions: Mapping[int, Detections],
    class_names: Sequence[str],
    thresholds: Mapping[str, float] | None = None,
    image_loader: ImageLoader | None = None,
    target_fars: Sequence[float] = DEFAULT_TARGET_FARS,
    n_bootstrap: int = 1000,
    seed: int = 0,
    card: Mapping | None = None,
    fp_rates: Sequence[float] = DEFAULT_FP_RATES,
    gallery_per_kind: int = 6,
) -> EvalResult:
    """Evaluate ``predictions`` ({image_id: Detections in original pixels}, one per image) on the
    COCO dict ``gt_coco``. ``image_loader(image_id) -> HxWx3 uint8 RGB`` enables the galleries."""
    records = records_from_coco(gt_coco, predictions, class_names)
    thr, source, cal_far = resolve_thresholds(class_names, thresholds, card)
    by_source = {"boxes": parcel_metrics(records, class_names, thr, target_fars, n_bootstrap, seed)}
    op = (card or {}).get("operating_point") or {}
    if records and all(r.detections.parcel_scores is not None for r in records):
        head_records = [replace(r, detections=parcel_evidence(r.detections, "parcel_head")) for r in records]
        head_thr = {n: float(op.get("parcel_thresholds", {}).get(n, UNCALIBRATED_THRESHOLD)) for n in class_names}
        by_source["parcel_head"] = parcel_metrics(head_records, class_names, head_thr, target_fars, n_bootstrap, seed)
    decided_on = op.get("parcel_score", "boxes") if thresholds is None and op.get("parcel_score") in by_source else "boxes"
    pm = by_source[decided_on]
    gallery = build_gallery(records, class_names, thr, image_loader, gallery_per_kind) if image_loader else []
    return EvalResult(
        class_names=list(class_names),
        thresholds=thr,
        thresholds_source=source,
        calibrated_far=cal_far,
        coco=coco_map(gt_coco, predictions, class_names),
        parcel=pm,
        per_scanner=per_scanner_metrics(records, class_names, thr, target_fars, n_bootstrap, seed),
        froc=froc(records, class_names, thr, fp_rates, n_bootstrap, seed),
        confusion=confusion_matrix(records, class_names, thr),
        n_bootstrap=n_bootstrap,
        seed=seed,
        gallery=gallery,
        card=dict(card) if card is not None else None,
        parcel_score_source=decided_on,
        parcel_by_source=by_source if len(by_source) > 1 else {},
    )


def write_outputs(result: EvalResult, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``metrics.json`` and ``report.html`` into ``out_dir``; returns both paths."""
    from wildxray.evaluation.report import write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = out / "metrics.json"
    metrics.write_text(json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    report = write_report(out / "report.html", result, card=result.card)
    return metrics, report


def run_onnx_evaluation(
    model_path: str | Path,
    ann_file: str | Path,
    out_dir: str | Path,
    image_root: str | Path | None = None,
    thresholds: Mapping[str, float] | None = None,
    target_fars: Sequence[float] = DEFAULT_TARGET_FARS,
    n_bootstrap: int = 1000,
    seed: int = 0,
    threads: int | None = None,
) -> EvalResult:
    """Run the ONNX model on a COCO test set exactly as the station would, evaluate, and write
    ``out_dir/metrics.json`` and ``out_dir/report.html``."""
    from wildxray.data.coco import load_coco
    from wildxray.evaluation.inference import predict_dataset
    from wildxray.runtime.model_card import read_card
    from wildxray.runtime.session import OnnxDetector

    card = read_card(model_path)
    class_names = list(card["classes"])
    dataset = load_coco(ann_file, image_root)
    predictions = predict_dataset(OnnxDetector(model_path, threads=threads), dataset)
    index = {rec.id: i for i, rec in enumerate(dataset.images)}
    result = evaluate(
        dataset.coco_dict,
        predictions,
        class_names,
        thresholds=thresholds,
        image_loader=lambda image_id: dataset[index[image_id]][0],
        target_fars=target_fars,
        n_bootstrap=n_bootstrap,
        seed=seed,
        card=card,
    )
    write_outputs(result, out_dir)
    return result


def evaluate_from_config(cfg: Any) -> EvalResult:
    """The evaluation ``configs/evaluate.yaml`` describes (what ``wildxray evaluate`` runs): writes
    ``cfg.output_dir/metrics.json`` and ``report.html``. A ``.pt`` checkpoint is exported to ONNX in
    ``output_dir`` first, so what is scored is always what a station would run."""
    from omegaconf import OmegaConf  # here: the config's own library, absent without wildxray[train]

    out_dir = Path(cfg.output_dir)
    model = Path(cfg.model_file)
    if model.suffix == ".pt":
        from wildxray.export.checkpoint_export import export_checkpoint  # torch: only for a checkpoint

        model = export_checkpoint(model, out_dir / f"{model.stem}.onnx")
        log.info("exported %s -> %s", cfg.model_file, model)
    thresholds = OmegaConf.to_container(cfg.thresholds) if cfg.thresholds else None
    return run_onnx_evaluation(
        model, cfg.data.ann_file, out_dir, image_root=cfg.data.image_root, thresholds=thresholds,
        target_fars=list(cfg.target_fars), n_bootstrap=int(cfg.n_bootstrap), seed=int(cfg.seed), threads=cfg.threads,
    )
