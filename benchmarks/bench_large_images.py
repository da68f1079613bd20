"""Training on large real-looking scans: wildxray's images/s against Ultralytics' at 640 px.

Real baggage scans come at about 2688x2208 px, single-energy, as JPEG; training at 640 px then
spends most of its time decoding and augmenting pixels the letterbox throws away. This makes such a
set anyone can rebuild: simulated scans (``make_synthetic_splits``) upscaled to 2688x2208 grey JPEGs
with their boxes scaled (masks dropped: real sets have none), laid out as COCO for wildxray and as
YOLO for Ultralytics (the same JPEG files). Then, alternating in rounds so that background load
hits all alike, it trains each set-up for ``--epochs`` and reports the training loop's steady
images/s (``bench_train_speed``'s timing: set-up, cache filling and validation left out):

- ``wildxray full-res``: ``data.presize=null``, augmentation at 2688x2208 (the old behaviour);
- ``wildxray presize``: the default, shrunk to 1.25 x 640 before augmentation;
- ``wildxray presize+ram``: the same with ``data.cache=ram`` (decoded once);
- ``yolov8n`` and ``yolov8n cache=ram``: Ultralytics' trainer, its defaults.

    python benchmarks/bench_large_images.py --work /tmp/large --n-train 48 --epochs 2 --rounds 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import cv2
from bench_accuracy import DataSplits, make_synthetic_splits, train_wildxray, train_yolo

LARGE_W, LARGE_H = 2688, 2208


def upscale_split(ann_file: Path, out_dir: Path, quality: int = 90) -> Path:
    """Write ``out_dir/images/*.jpg`` (grey, 2688x2208) + ``annotations.json`` from a COCO split."""
    from wildxray.data.coco import save_coco

    coco = json.loads(ann_file.read_text())
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    scale = {}
    for img in coco["images"]:
        name = Path(img["file_name"]).with_suffix(".jpg").name
        target = out_dir / "images" / name
        sx, sy = LARGE_W / img["width"], LARGE_H / img["height"]
        if not target.exists():
            rgb = cv2.imread(str(ann_file.parent / img["file_name"]), cv2.IMREAD_COLOR)
            grey = cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY)
            big = cv2.resize(grey, (LARGE_W, LARGE_H), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(target), big, [cv2.IMWRITE_JPEG_QUALITY, quality])
        scale[img["id"]] = (sx, sy)
        img.update(file_name=f"images/{name}", width=LARGE_W, height=LARGE_H, modality="xray")
    for ann in coco["annotations"]:
        sx, sy = scale[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        ann["bbox"] = [x * sx, y * sy, w * sx, h * sy]
        ann["area"] = ann["bbox"][2] * ann["bbox"][3]
        ann.pop("segmentation", None)
    return save_coco(coco, out_dir / "annotations.json")


def large_splits(work: Path, n_train: int, n_val: int) -> DataSplits:
    from wildxray.data.yolo import coco_to_yolo

    small = make_synthetic_splits(work / "small", n_train, n_val, 4)
    train = upscale_split(small.train, work / "large" / "train")
    val = upscale_split(small.val, work / "large" / "val")
    yolo_root = work / "large" / "yolo"
    coco_to_yolo(train, yolo_root, split="train", link="symlink")
    yaml_path = coco_to_yolo(val, yolo_root, split="val", link="symlink")
    return DataSplits(train, val, val, yaml_path, {"train": n_train, "val": n_val})


#: (row name, wildxray overrides) of the wildxray set-ups compared.
WILDXRAY_SETUPS = {
    "wildxray full-res": ("data.presize=null",),
    "wildxray presize": ("data.presize=1.25",),
    "wildxray presize+ram": ("data.presize=1.25", "data.cache=ram"),
}


def run_rounds(splits: DataSplits, work: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in [*WILDXRAY_SETUPS, "yolov8n", "yolov8n cache=ram"]}
    for r in range(args.rounds):
        for name, extra in WILDXRAY_SETUPS.items():
            run = train_wildxray(splits, work / f"{name.replace(' ', '_')}_{r}", args.model, args.size, args.epochs,
                                 args.batch, args.workers, extra=extra, name=name)
            rates[name].append(run.steady_images_per_s)
            print(f"round {r} {name}: {run.steady_images_per_s:.2f} images/s", flush=True)
        if not args.no_yolo:
            for name, cache in (("yolov8n", False), ("yolov8n cache=ram", "ram")):
                run = train_yolo("yolov8n", splits, work / f"yolo_{cache}_{r}", args.size, args.epochs, args.batch,
                                 args.workers, cache=cache)
                rates[name].append(run.steady_images_per_s)
                print(f"round {r} {name}: {run.steady_images_per_s:.2f} images/s", flush=True)
    return {k: v for k, v in rates.items() if v}


def markdown(rates: dict[str, list[float]], args: argparse.Namespace, wall_s: float) -> str:
    base = statistics.median(rates["yolov8n"]) if "yolov8n" in rates else None
    lines = [f"{args.n_train} training scans of {LARGE_W}x{LARGE_H} (grey JPEG), {args.size} px, batch {args.batch}, "
             f"{args.workers} loader workers, {args.epochs} epochs x {args.rounds} rounds; steady training-loop images/s",
             "", "| set-up | images/s (median) | rounds | vs yolov8n |", "|---|---|---|---|"]
    for name, r in rates.items():
        med = statistics.median(r)
        ratio = f"{med / base:.2f}x" if base else "-"
        lines.append(f"| {name} | {med:.2f} | {', '.join(f'{x:.2f}' for x in r)} | {ratio} |")
    lines += ["", f"`python benchmarks/bench_large_images.py {' '.join(args.argv)}` — {platform.machine()}, "
              f"{args.threads} torch threads, {wall_s / 60:.0f} min, {dt.date.today().isoformat()}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=None, help="folder for the scans (reused when present); default: a temp dir")
    p.add_argument("--n-train", type=int, default=48)
    p.add_argument("--n-val", type=int, default=8)
    p.add_argument("--size", type=int, default=640)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--model", default="default")
    p.add_argument("--no-yolo", action="store_true", help="wildxray rows only (no ultralytics installed)")
    p.add_argument("--out", type=Path, default=None, help="also write the table to this markdown file")
    args = p.parse_args(argv)
    args.argv = list(argv) if argv is not None else __import__("sys").argv[1:]
    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="large-") as tmp:
        work = args.work or Path(tmp)
        splits = large_splits(work, args.n_train, args.n_val)
        rates = run_rounds(splits, work / "runs", args)
    text = markdown(rates, args, time.perf_counter() - t0)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
