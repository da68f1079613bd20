"""``wildxray feedback export``: inspector verdicts -> a COCO training set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wildxray.core.errors import DatasetError
from wildxray.viewer.db import VerdictDB

EPILOG = """example:
  wildxray feedback export --db verdicts.sqlite --out data/feedback-2025-06
  wildxray train data.train.ann_file=data/feedback-2025-06/annotations.json ...

Confirmed and relabelled detections and drawn boxes become COCO annotations; rejected detections
are listed under the top-level key "hard_negatives". Scans whose review is incomplete are skipped
and listed with the reason."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wildxray feedback", description="Turn inspector verdicts into training data.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    e = sub.add_parser("export", help="write a COCO dataset (annotations.json + images/) from the verdicts",
                       description="Write DIR/annotations.json and DIR/images/ from a verdict database.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("--db", type=Path, required=True, help="verdict database written by 'wildxray viewer'")
    e.add_argument("--results", type=Path, help="results folder (default: the one the viewer last served)")
    e.add_argument("--out", type=Path, required=True, help="output folder")
    e.add_argument("--force", action="store_true", help="overwrite DIR/annotations.json if it exists")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    # Here, after parsing (start-up): `--help` and usage errors answer without numpy and OpenCV.
    from wildxray.viewer.feedback import ExportError, export_feedback

    if not args.db.is_file():
        print(f"wildxray feedback: verdict database {args.db} does not exist", file=sys.stderr)
        return 2
    try:
        summary = export_feedback(VerdictDB(args.db), args.results, args.out, overwrite=args.force)
    except (ExportError, DatasetError, FileNotFoundError, ValueError) as exc:  # DatasetError: save_coco refused
        print(f"wildxray feedback: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 0
