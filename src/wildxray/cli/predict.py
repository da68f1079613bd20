"""``wildxray predict``: run an ONNX model on image files; write one result JSON + overlay per image.

Torch-free: imports only the runtime (numpy, OpenCV, onnxruntime, tifffile/pydicom for reading).

    wildxray predict --model export/model.onnx --out results/ scans/ extra.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wildxray.runtime.predict_folder import IMAGE_SUFFIXES, collect_inputs, predict_folder


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wildxray predict",
        description="Run an exported wildxray ONNX model on images. For each image write "
                    "OUT/<scan_id>.json (the scan result: detections in original pixels, alarm/clear "
                    "at the model card's operating point) and OUT/<scan_id>.png (overlay). Files that "
                    "cannot be read get an 'error' result instead of stopping the run.",
        epilog="Exit status: 0 when every input was processed (error results included), 2 for usage "
               "errors (no inputs, unreadable model or model card).")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help=f"image files or folders (folders: files ending in {', '.join(IMAGE_SUFFIXES)})")
    p.add_argument("--model", required=True, type=Path, help="exported .onnx model with its model card")
    p.add_argument("--out", required=True, type=Path, help="results folder (created if missing)")
    p.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: all cores)")
    p.add_argument("--max-pixels", type=int, default=None, help="refuse images declaring more pixels (default 64e6)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    # Here, after parsing (start-up): `--help` and usage errors answer without numpy and OpenCV.
    from wildxray.runtime.model_card import ModelCardError
    from wildxray.runtime.session import ModelContractError, OnnxDetector

    files, problems = collect_inputs(args.paths)
    for msg in problems:
        print(f"wildxray predict: {msg}", file=sys.stderr)
    if not files:
        print("wildxray predict: no input images found", file=sys.stderr)
        return 2
    try:
        detector = OnnxDetector(args.model, threads=args.threads)
    except (ModelCardError, ModelContractError, FileNotFoundError) as exc:
        print(f"wildxray predict: {exc}", file=sys.stderr)
        return 2
    summary = predict_folder(detector, files, args.out, max_pixels=args.max_pixels, progress=not args.no_progress)
    print(summary.line())
    return 0
