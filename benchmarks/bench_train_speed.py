"""Training throughput: images per second of wildxray's trainer against Ultralytics' at the same
input size and batch, on the same scans and CPU threads.

Each trainer's own epoch loop is timed (wildxray: ``metrics.csv`` ``images_per_s``; Ultralytics:
``on_train_epoch_start``/``on_train_epoch_end`` callbacks), so set-up and validation are left out and
data loading + augmentation + forward + loss + backward + optimiser step are in. The first epoch pays
data-loader start-up and is dropped when there are more. On a machine shared with other jobs the
two runs see different background load; ``--rounds`` alternates short runs to even that out.

    python benchmarks/bench_train_speed.py --data /tmp/bench/data --size 320 --batch 8 --rounds 2
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench_accuracy import TrainRun, make_synthetic_splits, train_wildxray, train_yolo


@dataclass
class SpeedRow:
    trainer: str
    input_size: int
    batch: int
    images_per_s: float
    epochs_timed: int


def speed_rows(runs: list[TrainRun]) -> list[SpeedRow]:
    """One row per training run: its steady images/s (see ``TrainRun.steady_images_per_s``)."""
    return [SpeedRow(r.name, r.input_size, r.batch, r.steady_images_per_s, max(1, len(r.images_per_s) - 1)) for r in runs]


def alternate(data_dir: Path, work: Path, size: int, batch: int, rounds: int, epochs: int = 2,
              n_train: int = 96, model: str = "default", yolo: str = "yolov8n") -> dict[str, list[float]]:
    """``rounds`` x (wildxray run, YOLO run) of ``epochs`` epochs on ``n_train`` scans, alternating;
    returns each trainer's steady images/s per round."""
    splits = make_synthetic_splits(data_dir, n_train, 8, 8)
    out: dict[str, list[float]] = {"wildxray": [], yolo: []}
    for r in range(rounds):
        out["wildxray"].append(train_wildxray(splits, work / f"wx_{r}", model, size, epochs, batch).steady_images_per_s)
        out[yolo].append(train_yolo(yolo, splits, work / f"yolo_{r}", size, epochs, batch).steady_images_per_s)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder for the synthetic scans (reused if present)")
    p.add_argument("--size", type=int, default=320)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--n-train", type=int, default=96)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory(prefix="train-speed-") as tmp:
        res = alternate(args.data, Path(tmp), args.size, args.batch, args.rounds, args.epochs, args.n_train)
    for name, rates in res.items():
        print(f"{name:<10} size {args.size} batch {args.batch}: median {statistics.median(rates):.2f} images/s "
              f"(rounds: {', '.join(f'{r:.2f}' for r in rates)})")
    wx, yl = statistics.median(res["wildxray"]), statistics.median(res["yolov8n"])
    print(f"training images/s ratio wildxray / yolov8n: {wx / yl:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
