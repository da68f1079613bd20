"""``run_demo``: the whole pipeline on built-in synthetic scans, as a user would run it.

synthesise scans -> train -> export ONNX -> calibrate at 1 % false alarms on a clean-heavy set of its
own -> evaluate (HTML report; when fine-tuning, the starting checkpoint is scored on the same test
scans too) -> run the station's inference on held-out scans -> summary. Each step calls the same
library function as the individual command (``wildxray synth/train/export/calibrate/evaluate/predict``).

    final = run_demo(DemoSettings(out=Path("outputs/demo"), quick=True))
    print(demo_summary(final))
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wildxray.hydra_compose import compose_config
from wildxray.evaluation.model_calibration import calibrate_model, calibration_summary, write_operating_point
from wildxray.paths import repo_root
from wildxray.runtime.predict_folder import collect_inputs, predict_folder
from wildxray.runtime.session import OnnxDetector
from wildxray.xray.synth import ensure_dataset

SHIPPED_CHECKPOINT = repo_root() / "export" / "wildxray-xray.pt"
FINETUNE_LR = 5e-4


@dataclass
class DemoSettings:
    """What ``wildxray demo`` runs; its flags, one field each (``wildxray demo --help`` says what each does).

    minutes: the training time budget (None: no budget, the epochs decide). ``init_from`` is used
    when the file exists and ``from_scratch`` is off; its model config and input size then win."""

    out: Path = Path("outputs/demo")
    train_scans: int = 1200
    init_from: Path = SHIPPED_CHECKPOINT
    from_scratch: bool = False
    val_scans: int = 300
    test_scans: int = 300
    calib_scans: int = 750
    minutes: float | None = 10.0
    epochs: int = 60
    model: str = "small"
    size: int = 320
    batch: int = 16
    lr: float | None = None
    target_far: float = 0.01
    seed: int = 0
    quick: bool = False


def _step(name: str) -> float:
    print(f"\n== {name}", flush=True)
    return time.perf_counter()


def _settle(s: DemoSettings) -> Path | None:
    """Apply the starting checkpoint's architecture and ``quick``'s tiny sizes to ``s``; returns the
    checkpoint to fine-tune from (None: from scratch)."""
    init = None if s.from_scratch or not s.init_from.is_file() else s.init_from
    if init is not None:
        from wildxray.training.checkpoint import load_checkpoint  # start-up: torch, as in run_demo

        shipped = load_checkpoint(init)["config"]
        # The checkpoint's architecture and input size, or its weights would not fit.
        s.model, s.size = shipped["model"].get("name", "default"), int(shipped["input_size"])
    if s.quick:
        s.train_scans, s.val_scans, s.test_scans, s.calib_scans = 16, 12, 12, 12
        s.epochs, s.batch, s.minutes = 1, 4, None
        s.size = 128 if init is None else s.size
    return init


def _synthesise(s: DemoSettings, data: Path) -> tuple[Path, str]:
    """The train/val/test sets and the calibration set; returns (calibration folder, its name)."""
    synth_cfg = compose_config("synth")
    # Distinct seed ranges: no test scan is a training scan.
    for split, n, seed in (("train", s.train_scans, s.seed), ("val", s.val_scans, s.seed + 10_000),
                           ("test", s.test_scans, s.seed + 20_000)):
        ensure_dataset(data / split, n=n, seed=seed, cfg=synth_cfg)  # reused only if it is this very set
    if s.calib_scans <= 0:
        return data / "val", "validation"
    # A 1 % rate needs hundreds of clean parcels to pin down (wildxray calibrate prints the bound),
    # and real parcel streams are mostly clean: a clean-heavy set of its own.
    ensure_dataset(data / "calib", n=s.calib_scans, seed=s.seed + 30_000,
                   cfg=compose_config("synth", ["clean_fraction=0.8"]))
    return data / "calib", "calibration"


def train_config(s: DemoSettings, data: Path, out: Path, init: Path | None):
    """The training run's config: configs/train.yaml with the demo's data, model and budget."""
    cfg = compose_config("train", ["data=coco", f"model={s.model}"])
    cfg.data.train.ann_file = str(data / "train" / "annotations.json")
    cfg.data.val.ann_file = str(data / "val" / "annotations.json")
    cfg.input_size, cfg.output_dir, cfg.seed = s.size, str(out / "train"), s.seed
    cfg.train.epochs, cfg.train.batch_size = s.epochs, s.batch
    cfg.train.early_stopping.patience = 0
    if s.minutes:
        cfg.train.time_limit_minutes = s.minutes
    if init:
        cfg.train.init_from = str(init)
        cfg.optim.scheduler.warmup_steps = 20
    lr = s.lr if s.lr is not None else (FINETUNE_LR if init else None)
    if lr is not None:
        cfg.optim.optimizer.lr = lr
    if s.quick:
        cfg.train.max_steps, cfg.train.num_workers = 2, 0
    return cfg


def _score_starting_point(init: Path, test_ann: Path, out: Path, seed: int) -> dict[str, Any]:
    """The same test scans through the starting checkpoint: did this run's training help?"""
    from wildxray.evaluation.evaluate import run_onnx_evaluation  # start-up, as in run_demo
    from wildxray.export.checkpoint_export import export_checkpoint

    start_model = export_checkpoint(init, out / "model" / "starting-point.onnx", name="starting-point")
    before = run_onnx_evaluation(start_model, test_ann, out / "report_starting_point", n_bootstrap=200, seed=seed)
    return {"checkpoint": str(init), "mAP50": before.coco.get("mAP50"), "mAP50_95": before.coco.get("mAP"),
            "auc": before.parcel.auc.value}


def _calibrate(model: Path, calib: Path, target_far: float) -> None:
    """``wildxray calibrate --force``: the thresholds are written even when the set cannot show the target."""
    run = calibrate_model(model, calib / "annotations.json", target_far=target_far)
    print(calibration_summary(run))
    target, card_json = write_operating_point(run)
    print(f"wrote the operating point into {target} and {card_json}")


def _predict(model: Path, images: Path, results: Path) -> None:
    """``wildxray predict``: one result JSON + overlay per scan."""
    files, _ = collect_inputs([images])
    print(predict_folder(OnnxDetector(model), files, results).line())


def run_demo(s: DemoSettings) -> dict[str, Any]:
    """Run every step into ``s.out``; returns (and writes to ``demo_summary.json``) the summary."""
    # Here, not at the top (start-up): cli/demo imports this module for its defaults, and
    # `wildxray demo --help` answers without loading torch (~10 s), matplotlib and pycocotools.
    from wildxray.evaluation.evaluate import run_onnx_evaluation
    from wildxray.export.checkpoint_export import export_checkpoint
    from wildxray.training.train import train

    init = _settle(s)
    out = s.out.resolve()
    data = out / "data"
    timings: dict[str, float] = {}

    t = _step(f"1/6 synthesise {s.train_scans}+{s.val_scans}+{s.test_scans}+{s.calib_scans} "
              "dual-energy scans (train, validation, test, calibration)")
    calib, calib_name = _synthesise(s, data)
    timings["synthesise_s"] = time.perf_counter() - t

    start = f"fine-tuning {init}" if init else "from scratch"
    budget = f"for up to {s.minutes} min" if s.minutes else f"for {s.epochs} epoch{'s' * (s.epochs != 1)}"
    t = _step(f"2/6 train model={s.model} at {s.size}px, {start}, {budget}")
    summary = train(train_config(s, data, out, init))
    timings["train_s"] = time.perf_counter() - t

    t = _step("3/6 export ONNX (normalisation, decoding and NMS inside the graph)")
    model = export_checkpoint(Path(summary["best_checkpoint"]), out / "model" / "wildxray-demo.onnx",
                              name="wildxray-demo")
    timings["export_s"] = time.perf_counter() - t

    t = _step(f"4/6 calibrate per-class thresholds for {100 * s.target_far:g} % false alarms on the "
              f"{calib_name} scans")
    _calibrate(model, calib, s.target_far)
    timings["calibrate_s"] = time.perf_counter() - t

    t = _step("5/6 evaluate on the held-out test scans (COCO mAP, parcel ROC, report)")
    test_ann = data / "test" / "annotations.json"
    result = run_onnx_evaluation(model, test_ann, out / "report", n_bootstrap=200 if s.quick else 1000, seed=s.seed)
    start_scores = _score_starting_point(init, test_ann, out, s.seed) if init is not None else None
    timings["evaluate_s"] = time.perf_counter() - t

    t = _step("6/6 station inference on the held-out scans (result JSON + overlays)")
    _predict(model, data / "test" / "images", out / "results")
    timings["predict_s"] = time.perf_counter() - t

    final = {
        "mAP50": result.coco.get("mAP50"), "mAP50_95": result.coco.get("mAP"), "headline": result.headline(),
        "auc": result.parcel.auc.value, "starting_point": start_scores,
        "epochs": summary["epochs_run"], "train_stop": summary["stop_reason"],
        "model": str(model), "report": str(out / "report" / "report.html"), "results": str(out / "results"),
        "timings": {k: round(v, 1) for k, v in timings.items()},
    }
    (out / "demo_summary.json").write_text(json.dumps(final, indent=2))
    return final


def demo_summary(final: dict[str, Any]) -> str:
    """What ``wildxray demo`` prints at the end: the test figures, before/after when fine-tuning, where things are."""
    from wildxray.evaluation.report import format_figure  # start-up: matplotlib, as in run_demo

    lines = ["", "== done",
             f"test mAP50 {final['mAP50']:.3f}, mAP50-95 {final['mAP50_95']:.3f} after {final['epochs']} epochs"]
    start = final["starting_point"]
    if start:
        lines.append(f"before training (the starting checkpoint on the same test scans): mAP50 {start['mAP50']:.3f}, "
                     f"mAP50-95 {start['mAP50_95']:.3f}, parcel AUC {format_figure(start['auc'], 'num')}; "
                     f"after: AUC {format_figure(final['auc'], 'num')}")
    lines += [final["headline"], f"report:  {final['report']}", f"model:   {final['model']}",
              f"results: {final['results']}  (inspect with: wildxray viewer --results {final['results']})"]
    return "\n".join(lines)
