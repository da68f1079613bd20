"""``wildxray calibrate``: per-class operating thresholds for a target false-alarm rate.

Runs the ONNX model on a labelled validation set exactly as the station would, picks the thresholds
(:func:`wildxray.evaluation.calibration.calibrate_operating_point`) and writes them, with the target
and the validation figures, into the model card (ONNX metadata and ``<model>.card.json``).

    wildxray calibrate --model export/model.onnx --data data/val/annotations.json --target-far 0.01
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wildxray calibrate",
        description="Choose per-class score thresholds on a labelled validation set so that at most "
                    "the target share of clean parcels alarms while as many contraband parcels as "
                    "possible do, and store them in the model card. The station and 'wildxray "
                    "predict' then act at this operating point.",
        epilog="Exit status: 0 thresholds written (or shown with --dry-run); 1 the target cannot be "
               "shown on this set (too few clean parcels): nothing written, or written with status 0 "
               "under --force; 2 usage, "
               "model or dataset errors. The validation set must hold clean parcels (images without "
               "boxes) and contraband parcels; with n clean parcels a target below 1/n cannot be shown.")
    p.add_argument("--model", required=True, type=Path, help="exported .onnx model with its model card")
    p.add_argument("--data", required=True, type=Path, help="COCO annotation file of the validation set")
    p.add_argument("--images", type=Path, default=None, help="image folder (default: the annotation file's folder)")
    p.add_argument("--target-far", type=float, default=0.01,
                   help="target false-alarm rate on clean parcels, as a fraction (default 0.01 = 1%%)")
    p.add_argument("--output", type=Path, default=None,
                   help="write a calibrated copy of the model here instead of updating --model in place")
    p.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: all cores)")
    p.add_argument("--dry-run", action="store_true", help="print the operating point, write nothing")
    p.add_argument("--force", action="store_true",
                   help="write the thresholds even when the set is too small to show the target")
    p.add_argument("--json", action="store_true", help="print the operating point as JSON")
    p.add_argument("--parcel-score", choices=("auto", "boxes", "parcel_head"), default="auto",
                   help="what the parcel decision scores: the highest box score per class, or the model's "
                        "image-level parcel_scores output (models with a parcel head); auto calibrates both "
                        "and keeps the one that catches more contraband (default)")
    return p


def _summary(op, model: Path, points: dict | None = None) -> str:
    from wildxray.evaluation.calibration import clean_parcels_needed

    lines = [f"model: {model}"]
    for name, other in (points or {}).items():
        lines.append(f"scored on {name}: detection {100 * other.detection_rate:.1f} % at {other.false_alarms}/"
                     f"{other.n_clean} false alarms" + ("  <- used" if other is op else ""))
    lines += [
        f"validation: {op.n_contraband} contraband, {op.n_clean} clean parcels",
        f"target false-alarm rate: {100 * op.target_far:g} % (at most {op.allowed_false_alarms} clean "
        f"parcel{'' if op.allowed_false_alarms == 1 else 's'})",
        f"achieved: false alarms {op.false_alarms}/{op.n_clean} = {100 * op.false_alarm_rate:.2f} % "
        f"(95 % upper bound {100 * op.false_alarm_rate_upper95:.2f} %), "
        f"detection {100 * op.detection_rate:.1f} % of contraband parcels",
        "thresholds: " + ", ".join(f"{k}={v:.4f}" for k, v in op.thresholds.items()),
    ]
    rates = [f"{k}={'n/a' if v is None else f'{100 * v:.1f} %'}" for k, v in op.per_class_detection_rate.items()]
    lines.append("per-class detection: " + ", ".join(rates))
    if op.reason:
        lines.append(("NOT ACHIEVABLE: " if not op.achievable else "note: ") + op.reason)
    elif op.false_alarm_rate_upper95 > 2 * op.target_far:
        lines.append(
            f"note: {op.n_clean} clean parcels bound the station's false-alarm rate only to "
            f"{100 * op.false_alarm_rate_upper95:.1f} % (95 %); calibrate on about "
            f"{clean_parcels_needed(op.target_far)} clean parcels to bound it within twice the target")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not 0.0 < args.target_far < 1.0:
        print(f"wildxray calibrate: --target-far must be a fraction in (0, 1), got {args.target_far}", file=sys.stderr)
        return 2
    from wildxray.data.coco import load_coco
    from wildxray.data.errors import DatasetError
    from wildxray.evaluation.calibration import CalibrationError, calibrate_sources, card_operating_point
    from wildxray.evaluation.inference import dataset_records
    from wildxray.runtime.card import ModelCardError, read_card, validate_card
    from wildxray.runtime.session import ModelContractError, OnnxDetector

    try:
        card = validate_card(read_card(args.model), args.model)
        detector = OnnxDetector(args.model, threads=args.threads)
        dataset = load_coco(args.data, args.images)
        _, records = dataset_records(detector, dataset, card["classes"], source=str(args.data))
        op, points = calibrate_sources(records, card["classes"], args.target_far, args.parcel_score)
    except (ModelCardError, ModelContractError, FileNotFoundError, DatasetError, CalibrationError, ValueError) as exc:
        print(f"wildxray calibrate: {exc}", file=sys.stderr)
        return 2

    by_source = {k: v.to_dict() for k, v in points.items()}
    print(json.dumps(op.to_dict() | {"by_source": by_source}, indent=2) if args.json else _summary(op, args.model, points))
    if args.dry_run:
        return 0 if op.achievable else 1
    if not op.achievable and not args.force:
        print("wildxray calibrate: nothing written (use --force to write these thresholds anyway)", file=sys.stderr)
        return 1
    from wildxray.runtime.card import write_card

    target = args.model
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.model, args.output)
        target = args.output
    card["operating_point"] = card_operating_point(points, op)
    card_json = write_card(target, card)
    if not args.json:
        print(f"wrote the operating point into {target} and {card_json}")
    return 0
