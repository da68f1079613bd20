"""``wildxray predict``: run an ONNX model on image files; write one result JSON + overlay per image.

Torch-free: imports only the runtime (numpy, OpenCV, onnxruntime, tifffile/pydicom for reading).

    wildxray predict --model export/model.onnx --out results/ scans/ extra.png
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm", ".dicom", ".dcs", ".dicos")


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


def collect_inputs(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files to predict (folders expanded, sorted, hidden files skipped) and problems found."""
    files: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files += sorted(f for f in p.iterdir()
                            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.exists():
            files.append(p)  # an explicit file is tried whatever its suffix: a bad one gets an error result
        else:
            problems.append(f"{p}: no such file or folder")
    return files, problems


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from wildxray.runtime.card import ModelCardError
    from wildxray.runtime.result import new_scan_id
    from wildxray.runtime.scan import DEFAULT_MAX_PIXELS, process_file
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
    args.out.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    from tqdm import tqdm

    bar = tqdm(files, unit="scan", disable=args.no_progress or None, file=sys.stderr)
    for f in bar:
        outcome = process_file(detector, f, args.out, new_scan_id(), source_path=str(f),
                               max_pixels=args.max_pixels or DEFAULT_MAX_PIXELS, fsync=False)
        counts[outcome.decision] += 1
        if outcome.error_code:
            tqdm.write(f"{f}: error {outcome.error_code}: {outcome.result['error']['message']}", file=sys.stderr)
    print(f"{len(files)} scans -> {args.out}: {counts['alarm']} alarm, {counts['clear']} clear, "
          f"{counts['error']} error (model {detector.name} {detector.sha256[:12]})")
    return 0
