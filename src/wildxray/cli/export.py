"""``wildxray export``: a training checkpoint -> one ONNX file with its model card.

Example::

    wildxray export --checkpoint runs/x/best.pt --out export/model.onnx --size 416
    wildxray export --checkpoint runs/x/best.pt --out export/model_int8.onnx --int8 --calib-images data/synth/images
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wildxray export",
        description=(
            "Export a training checkpoint to ONNX: uint8 [N,S,S,3] RGB letterboxed input; normalisation, "
            "box decoding and NMS inside the graph; outputs boxes/scores/labels/num_detections with a fixed K. "
            "Writes OUT and OUT's <stem>.card.json (also stored in the file's metadata)."
        ),
    )
    p.add_argument("--checkpoint", required=True, help="checkpoint .pt written by 'wildxray train'")
    p.add_argument("--out", required=True, help="output .onnx path")
    p.add_argument("--size", type=int, default=None, help="input size S (multiple of 32; default: the checkpoint's input_size)")
    p.add_argument("--score-thresh", type=float, default=0.01,
                   help="score floor of the graph (default 0.01: low, so evaluation sees the whole ROC; the station alarms and draws overlays at the calibrated class thresholds)")
    p.add_argument("--iou-thresh", type=float, default=0.6, help="class-aware NMS IoU threshold (default 0.6)")
    p.add_argument("--max-det", type=int, default=100, help="K, detections per image (default 100)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17, default 17)")
    p.add_argument("--modality", choices=("xray", "xray_dual", "photo"), default=None, help="card modality (default: from the config, else xray)")
    p.add_argument("--no-simplify", action="store_true", help="skip onnxslim graph simplification")
    p.add_argument("--weights-out", default=None,
                   help="also write a slim fine-tuning checkpoint (EMA weights, config, classes; no optimiser "
                        "state) for 'wildxray train train.init_from=...'")
    q = p.add_argument_group("INT8 (static QDQ quantisation; decoding, NMS and the head's final convs stay fp32)")
    q.add_argument("--int8", action="store_true",
                   help="write OUT as an INT8 model; the fp32 export is kept beside it as <stem>.fp32.onnx")
    q.add_argument("--calib-images", metavar="DIR", default=None,
                   help="calibration scans (PNG/JPEG RGB or dual-energy TIFF), letterboxed as the station does")
    q.add_argument("--calib-max", type=int, default=100, help="use at most this many calibration images (default 100)")
    q.add_argument("--calib-method", choices=("minmax", "percentile", "entropy"), default="minmax",
                   help="activation range calibration (default minmax)")
    return p


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.int8 and not args.calib_images:
        parser.error("--int8 needs --calib-images DIR")
    # Here, after parsing (start-up): `--help` and usage errors answer without loading torch (~10 s).
    from wildxray.export.checkpoint_export import export_checkpoint, export_int8
    from wildxray.export.onnx_export import card_path_for
    from wildxray.training.checkpoint import write_weights_checkpoint

    options = dict(input_size=args.size, score_thresh=args.score_thresh, iou_thresh=args.iou_thresh,
                   max_det=args.max_det, opset=args.opset, simplify=not args.no_simplify, modality=args.modality)
    try:
        if args.int8:
            out, fp32 = export_int8(args.checkpoint, args.out, args.calib_images, args.calib_max, args.calib_method,
                                    **options)
            print(f"wrote fp32 {fp32} and {card_path_for(fp32)}")
        else:
            out = export_checkpoint(args.checkpoint, args.out, **options)
        if args.weights_out:
            print(f"wrote {write_weights_checkpoint(args.checkpoint, args.weights_out)}")
    except (FileNotFoundError, ValueError) as exc:
        print(f"wildxray export: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} and {card_path_for(out)}")
    return 0
