"""The composition root of evaluation: COCO mAP + parcel metrics + FROC + confusion matrix +
recall by box attribute + galleries for one model and one test set, and the files they go to (``metrics.json``,
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
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from omegaconf import OmegaConf

from wildxray.data.coco import load_coco
from wildxray.evaluation.coco_metrics import coco_map
from wildxray.evaluation.froc import DEFAULT_FP_RATES, froc
from wildxray.evaluation.gallery import ImageLoader, build_gallery
from wildxray.evaluation.inference import predict_dataset
from wildxray.evaluation.matching import confusion_matrix, recall_by_attribute
from wildxray.evaluation.parcel_metrics import DEFAULT_TARGET_FARS, parcel_metrics, per_scanner_metrics
from wildxray.evaluation.records import records_from_coco
from wildxray.evaluation.report import write_report
from wildxray.evaluation.result import EvalResult
from wildxray.runtime.decision import parcel_evidence
from wildxray.runtime.model_card import read_card
from wildxray.runtime.session import OnnxDetector
from wildxray.types import Detections

log = logging.getLogger("wildxray.evaluate")

UNCALIBRATED_THRESHOLD = 0.5


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
        recall_by_attribute=recall_by_attribute(records, class_names, thr),
    )


def write_outputs(result: EvalResult, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``metrics.json`` and ``report.html`` into ``out_dir``; returns both paths."""
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
    out_dir = Path(cfg.output_dir)
    model = Path(cfg.model_file)
    if model.suffix == ".pt":
        # Here, not at the top: torch (~10 s) loads only for a .pt checkpoint; an .onnx model is
        # scored without it.
        from wildxray.export.checkpoint_export import export_checkpoint

        model = export_checkpoint(model, out_dir / f"{model.stem}.onnx")
        log.info("exported %s -> %s", cfg.model_file, model)
    thresholds = OmegaConf.to_container(cfg.thresholds) if cfg.thresholds else None
    return run_onnx_evaluation(
        model, cfg.data.ann_file, out_dir, image_root=cfg.data.image_root, thresholds=thresholds,
        target_fars=list(cfg.target_fars), n_bootstrap=int(cfg.n_bootstrap), seed=int(cfg.seed), threads=cfg.threads,
    )
