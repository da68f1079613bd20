"""``wildxray calibrate``: per-class operating thresholds for a target false-alarm rate.

Runs the ONNX model on a labelled validation set exactly as the station would, picks the thresholds
(:func:`wildxray.evaluation.calibration.calibrate_operating_point`) and writes them, with the target
and the validation figures, into the model card (ONNX metadata and ``<model>.card.json``).

    wildxray calibrate --model export/model.onnx --data data/val/annotations.json --target-far 0.01
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wildxray.core.errors import DatasetError


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


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not 0.0 < args.target_far < 1.0:
        print(f"wildxray calibrate: --target-far must be a fraction in (0, 1), got {args.target_far}", file=sys.stderr)
        return 2
    # Here, after parsing (start-up): `--help` and usage errors answer without numpy and OpenCV.
    from wildxray.evaluation.calibration import CalibrationError
    from wildxray.evaluation.model_calibration import calibrate_model, calibration_summary, write_operating_point
    from wildxray.runtime.model_card import ModelCardError
    from wildxray.runtime.session import ModelContractError

    try:
        run = calibrate_model(args.model, args.data, args.images, args.target_far, args.threads, args.parcel_score)
    except (ModelCardError, ModelContractError, FileNotFoundError, DatasetError, CalibrationError, ValueError) as exc:
        print(f"wildxray calibrate: {exc}", file=sys.stderr)
        return 2

    print(json.dumps(run.to_dict(), indent=2) if args.json else calibration_summary(run))
    if args.dry_run:
        return 0 if run.chosen.achievable else 1
    if not run.chosen.achievable and not args.force:
        print("wildxray calibrate: nothing written (use --force to write these thresholds anyway)", file=sys.stderr)
        return 1
    target, card_json = write_operating_point(run, args.output)
    if not args.json:
        print(f"wrote the operating point into {target} and {card_json}")
    return 0
