"""``wildxray demo``: the whole pipeline on built-in synthetic scans, as a user would run it.

synthesise scans -> train -> export ONNX -> calibrate at 1 % false alarms on a clean-heavy set of its
own -> evaluate (HTML report; when fine-tuning, the starting checkpoint is scored on the same test
scans too) -> run the station's inference on held-out scans -> summary.
Each step is the same code the individual commands run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from wildxray.paths import repo_root


SHIPPED_CHECKPOINT = repo_root() / "export" / "wildxray-xray.pt"
FINETUNE_LR = 5e-4


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wildxray demo",
        description="Run the whole pipeline on synthetic dual-energy parcel scans: synthesise, train, "
        "export ONNX, calibrate, evaluate (HTML report) and predict with the station runtime.",
    )
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder (default: outputs/demo)")
    p.add_argument("--train-scans", type=int, default=1200, help="synthetic training scans (default 1200)")
    p.add_argument("--init-from", type=Path, default=SHIPPED_CHECKPOINT,
                   help="checkpoint to fine-tune from (default: the shipped export/wildxray-xray.pt when present; "
                        "its model config and input size are used)")
    p.add_argument("--from-scratch", action="store_true", help="train from random weights, ignoring --init-from")
    p.add_argument("--val-scans", type=int, default=300, help="validation scans, for early stopping (and calibration under --calib-scans 0)")
    p.add_argument("--test-scans", type=int, default=300, help="held-out test scans for the report")
    p.add_argument("--calib-scans", type=int, default=750,
                   help="scans to calibrate the operating point on, 80%% of them clean as in a parcel stream "
                        "(default 750: ~600 clean parcels bound a 1%% false-alarm rate within 2%%); "
                        "0 calibrates on the validation scans")
    p.add_argument("--minutes", type=float, default=10.0, help="training time budget in minutes (default 10)")
    p.add_argument("--epochs", type=int, default=60, help="maximum epochs (the time budget usually ends first)")
    p.add_argument("--model", default="small", help="model config name in configs/model (default: small)")
    p.add_argument("--size", type=int, default=320, help="model input size S (default 320)")
    p.add_argument("--batch", type=int, default=16, help="training batch size (default 16)")
    p.add_argument("--lr", type=float, default=None,
                   help=f"peak learning rate (default: {FINETUNE_LR:g} when fine-tuning, the optimiser config's from scratch)")
    p.add_argument("--target-far", type=float, default=0.01, help="false-alarm rate to calibrate for (default 0.01)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds, meaningless numbers)")
    return p


def _step(name: str) -> float:
    print(f"\n== {name}", flush=True)
    return time.perf_counter()


def run_demo(args: argparse.Namespace) -> dict:
    from wildxray.cli import calibrate as calibrate_cli
    from wildxray.cli import predict as predict_cli
    from wildxray.config import compose_config
    from wildxray.evaluation.evaluate import run_onnx_evaluation
    from wildxray.export.checkpoint_export import export_checkpoint
    from wildxray.training.train import train
    from wildxray.xray.synth import ensure_dataset

    init = None if args.from_scratch or not args.init_from.is_file() else args.init_from
    if init is not None:
        from wildxray.training.checkpoint import load_checkpoint

        shipped = load_checkpoint(init)["config"]
        # The checkpoint's architecture and input size, or its weights would not fit.
        args.model, args.size = shipped["model"].get("name", "default"), int(shipped["input_size"])
    if args.quick:
        args.train_scans, args.val_scans, args.test_scans, args.calib_scans = 16, 12, 12, 12
        args.epochs, args.batch, args.minutes = 1, 4, None
        args.size = 128 if init is None else args.size
    out = args.out.resolve()
    data = out / "data"
    timings: dict[str, float] = {}

    t = _step(f"1/6 synthesise {args.train_scans}+{args.val_scans}+{args.test_scans}+{args.calib_scans} "
              "dual-energy scans (train, validation, test, calibration)")
    synth_cfg = compose_config("synth")
    # Distinct seed ranges: no test scan is a training scan.
    for split, n, seed in (("train", args.train_scans, args.seed), ("val", args.val_scans, args.seed + 10_000),
                           ("test", args.test_scans, args.seed + 20_000)):
        ensure_dataset(data / split, n=n, seed=seed, cfg=synth_cfg)  # reused only if it is this very set
    calib, calib_name = data / "val", "validation"
    if args.calib_scans > 0:
        # A 1 % rate needs hundreds of clean parcels to pin down (wildxray calibrate prints the bound),
        # and real parcel streams are mostly clean: a clean-heavy set of its own.
        calib, calib_name = data / "calib", "calibration"
        ensure_dataset(calib, n=args.calib_scans, seed=args.seed + 30_000,
                       cfg=compose_config("synth", ["clean_fraction=0.8"]))
    timings["synthesise_s"] = time.perf_counter() - t

    start = f"fine-tuning {init}" if init else "from scratch"
    t = _step(f"2/6 train model={args.model} at {args.size}px, {start}, for up to {args.minutes} min")
    overrides = [
        "data=coco", f"data.train.ann_file={data / 'train' / 'annotations.json'}",
        f"data.val.ann_file={data / 'val' / 'annotations.json'}", f"model={args.model}", f"input_size={args.size}",
        f"train.epochs={args.epochs}", f"train.batch_size={args.batch}", f"output_dir={out / 'train'}",
        f"seed={args.seed}", "train.early_stopping.patience=0",
    ]
    if args.minutes:
        overrides.append(f"train.time_limit_minutes={args.minutes}")
    if init:
        overrides += [f"train.init_from={init}", "optim.scheduler.warmup_steps=20"]
    lr = args.lr if args.lr is not None else (FINETUNE_LR if init else None)
    if lr is not None:
        overrides.append(f"optim.optimizer.lr={lr}")
    if args.quick:
        overrides += ["train.max_steps=2", "train.num_workers=0"]
    summary = train(compose_config("train", overrides))
    timings["train_s"] = time.perf_counter() - t
    ckpt = Path(summary["best_checkpoint"])

    t = _step("3/6 export ONNX (normalisation, decoding and NMS inside the graph)")
    model = export_checkpoint(ckpt, out / "model" / "wildxray-demo.onnx", name="wildxray-demo")
    timings["export_s"] = time.perf_counter() - t

    t = _step(f"4/6 calibrate per-class thresholds for {100 * args.target_far:g} % false alarms on the "
              f"{calib_name} scans")
    code = calibrate_cli.main(["--model", str(model), "--data", str(calib / "annotations.json"),
                               "--target-far", str(args.target_far), "--force"])
    if code not in (0, 1):
        raise RuntimeError(f"calibration failed (exit {code})")
    timings["calibrate_s"] = time.perf_counter() - t

    t = _step("5/6 evaluate on the held-out test scans (COCO mAP, parcel ROC, report)")
    result = run_onnx_evaluation(model, data / "test" / "annotations.json", out / "report",
                                 n_bootstrap=200 if args.quick else 1000, seed=args.seed)
    start_scores = None
    if init is not None:
        # The same test scans through the starting checkpoint: did this run's training help?
        start_model = export_checkpoint(init, out / "model" / "starting-point.onnx", name="starting-point")
        before = run_onnx_evaluation(start_model, data / "test" / "annotations.json", out / "report_starting_point",
                                     n_bootstrap=200, seed=args.seed)
        start_scores = {"checkpoint": str(init), "mAP50": before.coco.get("mAP50"),
                        "mAP50_95": before.coco.get("mAP"), "auc": before.parcel.auc.value}
    timings["evaluate_s"] = time.perf_counter() - t

    t = _step("6/6 station inference on the held-out scans (result JSON + overlays)")
    code = predict_cli.main(["--model", str(model), "--out", str(out / "results"), str(data / "test" / "images")])
    if code != 0:
        raise RuntimeError(f"predict failed (exit {code})")
    timings["predict_s"] = time.perf_counter() - t

    coco = result.coco
    final = {
        "mAP50": coco.get("mAP50"), "mAP50_95": coco.get("mAP"), "headline": result.headline(),
        "auc": result.parcel.auc.value, "starting_point": start_scores,
        "epochs": summary["epochs_run"], "train_stop": summary["stop_reason"],
        "model": str(model), "report": str(out / "report" / "report.html"), "results": str(out / "results"),
        "timings": {k: round(v, 1) for k, v in timings.items()},
    }
    (out / "demo_summary.json").write_text(json.dumps(final, indent=2))
    return final


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    final = run_demo(args)
    print("\n== done")
    print(f"test mAP50 {final['mAP50']:.3f}, mAP50-95 {final['mAP50_95']:.3f} after {final['epochs']} epochs")
    start = final["starting_point"]
    if start:
        from wildxray.evaluation.report import _fmt  # the report's number format ("n/a" for a missing AUC)

        print(f"before training (the starting checkpoint on the same test scans): mAP50 {start['mAP50']:.3f}, "
              f"mAP50-95 {start['mAP50_95']:.3f}, parcel AUC {_fmt(start['auc'], 'num')}; "
              f"after: AUC {_fmt(final['auc'], 'num')}")
    print(final["headline"])
    print(f"report:  {final['report']}")
    print(f"model:   {final['model']}")
    print(f"results: {final['results']}  (inspect with: wildxray viewer --results {final['results']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
