"""Accuracy at equal budget: wildxray and Ultralytics YOLO trained from scratch on the same synthetic
scans (same images, epochs, input size and batch), scored by the SAME evaluator on the same test set.

Data: ``wildxray.xray.synth.ensure_dataset`` writes (or reuses, when current) train/val/test sets
with disjoint seeds; the train and val sets are also laid out for Ultralytics with
``wildxray.data.yolo.coco_to_yolo`` (symlinks, so both trainers read the very same PNG files).

Evaluation: each trained model is exported to ONNX and run on the test scans through its runtime
path (``OnnxDetector`` for wildxray, ``yolo_adapter.YoloOnnxDetector`` for YOLO; same score
floor ``yolo_adapter.SCORE_FLOOR`` = 0.001, IoU 0.6, K = 100); ``wildxray.evaluation.evaluate.evaluate`` then computes COCO
mAP50-95 / mAP50 (pycocotools) and the parcel detection rate at 1 % false alarms.
Both trainers keep their last weights (no checkpoint selection on validation data).
"""

from __future__ import annotations

import csv
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from wildxray.types import CLASS_NAMES


@dataclass
class DataSplits:
    train: Path       # COCO annotations.json of each split
    val: Path
    test: Path
    yolo_yaml: Path   # Ultralytics data.yaml (train + val, symlinked images)
    sizes: dict[str, int] = field(default_factory=dict)


@dataclass
class TrainRun:
    name: str
    weights: Path                 # wildxray last.pt or Ultralytics weights/last.pt
    input_size: int
    epochs: int
    batch: int
    seconds: float                # whole run, including set-up and validation
    images_per_s: list[float]     # per epoch, training loop only

    @property
    def steady_images_per_s(self) -> float:
        """Median over epochs after the first (which pays worker start-up), else the only one."""
        rates = self.images_per_s[1:] or self.images_per_s
        return float(statistics.median(rates))


def make_synthetic_splits(work: Path, n_train: int, n_val: int, n_test: int, seed: int = 0,
                          log=print) -> DataSplits:
    """Write (or reuse, when the same n and seed are already there) the three splits under ``work``."""
    from wildxray.data.yolo import coco_to_yolo
    from wildxray.xray.synth_config import load_synth_config
    from wildxray.xray.synth import ensure_dataset

    cfg = load_synth_config([])
    paths = {}
    for split, n, s in (("train", n_train, seed + 1000), ("val", n_val, seed + 2000), ("test", n_test, seed + 3000)):
        folder = work / split
        t0 = time.perf_counter()
        ensure_dataset(folder, n, s, cfg, progress=False)
        log(f"  {n} {split} scans (seed {s}) ready in {time.perf_counter() - t0:.0f} s")
        paths[split] = folder / "annotations.json"
    yolo_root = work / "yolo"
    for split in ("train", "val"):
        yaml_path = coco_to_yolo(paths[split], yolo_root, split=split, link="symlink")
    return DataSplits(paths["train"], paths["val"], paths["test"], yaml_path,
                      {"train": n_train, "val": n_val, "test": n_test})


def train_wildxray(splits: DataSplits, out_dir: Path, model: str = "default", input_size: int = 320,
                   epochs: int = 3, batch: int = 8, workers: int = 2, extra: tuple[str, ...] = (),
                   name: str | None = None) -> TrainRun:
    """``wildxray.training.train.train`` on the COCO splits; validation only after the last epoch.
    ``extra``: more Hydra overrides (e.g. ``data.cache=ram``)."""
    from wildxray.hydra_compose import compose_config
    from wildxray.training.train import train

    overrides = [
        "data=coco", f"data.train.ann_file={splits.train}", f"data.val.ann_file={splits.val}",
        f"model={model}", f"input_size={input_size}", f"train.epochs={epochs}", f"train.batch_size={batch}",
        f"train.num_workers={workers}", "train.progress=false", f"train.eval_every={epochs}",
        "train.early_stopping.patience=0", f"output_dir={out_dir}", *extra,
    ]
    t0 = time.perf_counter()
    summary = train(compose_config("train", overrides))
    seconds = time.perf_counter() - t0
    with (out_dir / "metrics.csv").open() as f:
        rates = [float(r["images_per_s"]) for r in csv.DictReader(f)]
    return TrainRun(name or f"wildxray-{model}", Path(summary["last_checkpoint"]), input_size, epochs, batch, seconds, rates)


def train_yolo(name: str, splits: DataSplits, out_dir: Path, input_size: int = 320, epochs: int = 3,
               batch: int = 8, workers: int = 2, cache: bool | str = False) -> TrainRun:
    """Ultralytics' own trainer with its defaults (optimizer=auto, its augmentation), from YAML,
    offline, no plots; the training loop of each epoch is timed with its callbacks. ``cache``:
    its ``cache=`` (False, "ram", "disk")."""
    from yolo_adapter import build_yolo

    yolo = build_yolo(name)
    marks: dict[str, list[float]] = {"start": [], "end": [], "n": []}
    yolo.add_callback("on_train_epoch_start", lambda tr: marks["start"].append(time.perf_counter()))

    def _end(tr) -> None:
        marks["end"].append(time.perf_counter())
        marks["n"].append(len(tr.train_loader.dataset))

    yolo.add_callback("on_train_epoch_end", _end)
    t0 = time.perf_counter()
    yolo.train(data=str(splits.yolo_yaml), epochs=epochs, imgsz=input_size, batch=batch, workers=workers,
               device="cpu", plots=False, val=False, project=str(out_dir), name=name, exist_ok=True, seed=0,
               amp=False, verbose=False, save=True, cache=cache)
    seconds = time.perf_counter() - t0
    rates = [n / (e - s) for s, e, n in zip(marks["start"], marks["end"], marks["n"])]
    return TrainRun(name, out_dir / name / "weights" / "last.pt", input_size, epochs, batch, seconds, rates)


def evaluate_detector(detector, ann_file: Path, n_bootstrap: int = 200) -> dict:
    """mAP50-95, mAP50 and detection rate at 1 % false alarms of ``detector`` (anything with
    ``predict(image) -> Detections`` in original pixels) on the COCO set ``ann_file``."""
    from wildxray.data.coco import load_coco
    from wildxray.evaluation.evaluate import evaluate
    from wildxray.evaluation.inference import predict_dataset

    dataset = load_coco(ann_file)
    result = evaluate(dataset.coco_dict, predict_dataset(detector, dataset), list(CLASS_NAMES), n_bootstrap=n_bootstrap)
    point = result.headline_point()
    return {
        "mAP50_95": result.coco["mAP"], "mAP50": result.coco["mAP50"],
        "det_rate_at_1pct_far": None if point is None else point.detection_rate.value,
        "far_resolvable": None if point is None else point.resolvable,
        "n_clean": result.parcel.n_clean, "n_contraband": result.parcel.n_contraband,
    }
