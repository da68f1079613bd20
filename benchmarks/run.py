"""wildxray against Ultralytics YOLOv8n / YOLO11n on this CPU: latency, accuracy at equal budget,
INT8, training throughput and the mAP-latency frontier, in one command.

    python benchmarks/run.py --quick            # < 15 min on 2 cores; ratios on the last lines
    python benchmarks/run.py --profile medium   # ~40 min: 800 scans, 10 epochs, 320 px
    python benchmarks/run.py --out /tmp/bench   # full budget (800 scans, 12 epochs, input 416; 1-2 h)

Needs the benchmark-only extra (benchmarks/requirements-bench.txt: Ultralytics, AGPL-3.0, never
imported by the wildxray package). Nothing is downloaded: YOLO models are built from YAML.
Writes OUT/results.json and OUT/frontier.png (copy them to benchmarks/ to publish).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # sibling benchmark modules (benchmarks/ is not a package)

import numpy as np  # noqa: E402

from bench_accuracy import TrainRun, evaluate_detector, make_synthetic_splits, train_wildxray, train_yolo  # noqa: E402
from bench_latency import ModelSpec, measure_latency, profile_operators  # noqa: E402
from bench_train_speed import speed_rows  # noqa: E402
from yolo_adapter import SCORE_FLOOR  # noqa: E402

PROFILES = {
    # n_train, n_val, n_test, epochs, train size, batch, latency runs, frontier sizes (wildxray / yolo)
    "quick": dict(n_train=160, n_val=16, n_test=80, epochs=3, size=320, batch=8, runs=20,
                  wx_sizes=(256, 320, 416), yolo_sizes=(320, 640)),
    # fits about 40 min of a 2-core CPU: enough training for both models to learn something
    "medium": dict(n_train=800, n_val=60, n_test=300, epochs=10, size=320, batch=8, runs=20,
                   wx_sizes=(256, 320, 416), yolo_sizes=(320, 640)),
    "full": dict(n_train=800, n_val=60, n_test=300, epochs=12, size=416, batch=8, runs=30,
                 wx_sizes=(320, 416, 512), yolo_sizes=(416, 640)),
}


def machine() -> dict:
    """What the figures were measured on."""
    import onnxruntime
    import torch

    model_name = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines():
            if line.startswith("Model name"):
                model_name = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        from importlib.metadata import version

        ultra = version("ultralytics")
    except Exception:  # noqa: BLE001
        ultra = None
    return {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "cpu": model_name, "python": platform.python_version(), "onnxruntime": onnxruntime.__version__,
            "torch": torch.__version__, "ultralytics": ultra, "loadavg_start": list(os.getloadavg())}


def export_wildxray(ckpt: Path, out: Path, size: int) -> Path:
    from wildxray.export.checkpoint_export import export_checkpoint

    return export_checkpoint(ckpt, out, input_size=size, score_thresh=SCORE_FLOOR, iou_thresh=0.6, max_det=100)


def test_images(ann_file: Path, n: int = 8) -> list[np.ndarray]:
    from wildxray.data.coco import load_coco

    ds = load_coco(ann_file)
    return [ds[i][0] for i in range(min(n, len(ds)))]


def frontier_plot(points: list[dict], path: Path, title: str) -> None:
    """mAP50-95 against ms/image (threads 2, batch 1); one series per model family."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"wildxray": ("o-", "tab:blue"), "wildxray-int8": ("o:", "tab:cyan"), "yolov8n": ("s--", "tab:red"),
              "yolo11n": ("^--", "tab:orange")}
    for family, (style, colour) in styles.items():
        pts = sorted((p for p in points if p["family"] == family and p["mAP50_95"] is not None), key=lambda p: p["ms"])
        if not pts:
            continue
        ax.plot([p["ms"] for p in pts], [p["mAP50_95"] for p in pts], style, color=colour, label=family)
        for p in pts:
            ax.annotate(p["label"], (p["ms"], p["mAP50_95"]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    for p in points:  # latency-only marks (untrained YOLO11n at 640): a vertical line
        if p["mAP50_95"] is None:
            ax.axvline(p["ms"], color=styles.get(p["family"], ("", "grey"))[1], ls=":", lw=1)
            ax.annotate(f"{p['label']} (latency only)", (p["ms"], ax.get_ylim()[1]), rotation=90, fontsize=7,
                        va="top", ha="right")
    ax.set_xlabel("end-to-end latency, ms per image (letterbox + onnxruntime + NMS; 2 threads, batch 1)")
    ax.set_ylabel("mAP50-95 (synthetic test scans)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small budget: < 15 min on 2 cores (= --profile quick)")
    p.add_argument("--profile", choices=sorted(PROFILES), default="full",
                   help="budget: quick (< 15 min), medium (~40 min), full (1-2 h on 2 cores)")
    p.add_argument("--out", type=Path, default=Path("outputs/bench_yolo"), help="work and result folder")
    p.add_argument("--reuse", action="store_true", help="reuse OUT's finished training runs from an earlier call")
    args = p.parse_args(argv)
    profile = "quick" if args.quick else args.profile
    prof = PROFILES[profile]
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    os.environ.setdefault("YOLO_OFFLINE", "1")
    import torch

    torch.set_num_threads(2)

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.0f} s] {msg}", flush=True)

    results: dict = {"machine": machine(), "profile": profile, "settings": prof,
                     "command": " ".join([Path(sys.executable).name, *sys.argv])}
    size, epochs, batch = prof["size"], prof["epochs"], prof["batch"]

    # 1. Data: the same scans for both trainers.
    log("data")
    splits = make_synthetic_splits(out / "data", prof["n_train"], prof["n_val"], prof["n_test"], log=log)

    # 2. Training at equal budget (this also measures training throughput).
    runs = {}
    saved = out / "train_runs.json"
    previous = json.loads(saved.read_text()) if args.reuse and saved.is_file() else {}
    for key, what in (("wildxray", "wildxray default"), ("yolov8n", "yolov8n")):
        v = previous.get(key)
        if v and Path(v["weights"]).is_file() and v["epochs"] == epochs and v["input_size"] == size:
            runs[key] = TrainRun(**{**v, "weights": Path(v["weights"])})
            log(f"reusing the {what} training run in {Path(v['weights']).parent}")
            continue
        log(f"training {what}: {prof['n_train']} scans, {epochs} epochs, {size} px, batch {batch}")
        if key == "wildxray":
            runs[key] = train_wildxray(splits, out / "train_wildxray", "default", size, epochs, batch)
        else:
            runs[key] = train_yolo("yolov8n", splits, out / "train_yolo", size, epochs, batch)
        saved.write_text(json.dumps({k: {**asdict(r), "weights": str(r.weights)} for k, r in runs.items()}))
    results["train_speed"] = [asdict(r) for r in speed_rows(list(runs.values()))]
    results["train_runs"] = {k: {"seconds": v.seconds, "images_per_s": v.images_per_s} for k, v in runs.items()}

    # 3. Export: wildxray at several sizes (+ INT8 at the training size), YOLO at several sizes.
    log("exporting")
    from yolo_adapter import build_yolo, export_yolo_onnx

    models = out / "models"
    wx = {s: export_wildxray(runs["wildxray"].weights, models / f"wildxray_default_{s}.onnx", s)
          for s in sorted(set(prof["wx_sizes"]) | {size, 416})}
    yl = {s: export_yolo_onnx(runs["yolov8n"].weights, models / f"yolov8n_{s}.onnx", s)
          for s in sorted(set(prof["yolo_sizes"]) | {size, 640})}
    y11 = export_yolo_onnx(build_yolo("yolo11n"), models / "yolo11n_640_untrained.onnx", 640)
    from wildxray.export.quantize import quantize_onnx

    t0 = time.perf_counter()
    int8 = {s: quantize_onnx(wx[s], models / f"wildxray_default_{s}_int8.onnx", splits.train.parent / "images",
                             max_images=100) for s in sorted({size, 416})}
    log(f"INT8 quantisation of {len(int8)} models in {time.perf_counter() - t0:.0f} s")

    # 4. Accuracy: the same evaluator for every model.
    from wildxray.runtime.session import OnnxDetector
    from yolo_adapter import YoloOnnxDetector

    acc = {}
    for s, path in wx.items():
        acc[f"wildxray@{s}"] = evaluate_detector(OnnxDetector(path, threads=2), splits.test)
    for s, path in int8.items():
        acc[f"wildxray-int8@{s}"] = evaluate_detector(OnnxDetector(path, threads=2), splits.test)
    for s, path in yl.items():
        acc[f"yolov8n@{s}"] = evaluate_detector(YoloOnnxDetector(path, s, threads=2), splits.test)
    for k, v in acc.items():
        log(f"  accuracy {k:<20} mAP50-95 {v['mAP50_95']:.4f}  mAP50 {v['mAP50']:.4f}  "
            f"det@1%FAR {v['det_rate_at_1pct_far']}")
    results["accuracy"] = acc

    # 5. Latency, end to end, interleaved.
    log("latency (threads 1 and 2, batch 1 and 8)")
    images = test_images(splits.test)
    main_specs = [ModelSpec("wildxray-default-416", "wildxray", wx[416], 416),
                  ModelSpec("wildxray-default-416-int8", "wildxray", int8[416], 416),
                  ModelSpec(f"wildxray-default-{size}", "wildxray", wx[size], size),
                  ModelSpec("yolov8n-640", "yolo", yl[640], 640),
                  ModelSpec("yolo11n-640", "yolo", y11, 640),
                  ModelSpec(f"yolov8n-{size}", "yolo", yl[size], size)]
    main_specs = list({s.name: s for s in main_specs}.values())  # at size 416 two entries coincide
    lat = measure_latency(main_specs, images, (1, 2), (1, 8), prof["runs"], log=log)
    results["latency"] = [asdict(r) for r in lat]
    log("frontier latency (threads 2, batch 1)")
    front_specs = [ModelSpec(f"wildxray@{s}", "wildxray", pth, s) for s, pth in wx.items()]
    front_specs += [ModelSpec(f"wildxray-int8@{s}", "wildxray", pth, s) for s, pth in int8.items()]
    front_specs += [ModelSpec(f"yolov8n@{s}", "yolo", pth, s) for s, pth in yl.items()]
    front_specs.append(ModelSpec("yolo11n@640", "yolo", y11, 640))
    front_lat = {r.model: r.per_image_ms for r in measure_latency(front_specs, images, (2,), (1,), prof["runs"], log=log)}
    points = []
    for name, ms in front_lat.items():
        family = name.split("@")[0]  # wildxray, wildxray-int8, yolov8n, yolo11n
        a = acc.get(name, {})
        points.append({"family": family, "label": name.replace("wildxray", "wx").replace("-int8", " int8"),
                       "name": name, "ms": ms, "mAP50_95": a.get("mAP50_95"), "mAP50": a.get("mAP50")})
    results["frontier"] = points
    frontier_plot(points, out / "frontier.png",
                  f"{results['machine']['cpu']}, {results['machine']['nproc']} cores, onnxruntime "
                  f"{results['machine']['onnxruntime']}, {results['machine']['date'][:10]} ({results['profile']})")

    # 6. Where the time goes: onnxruntime's profiler, operator shares.
    log("operator profiles")
    rng = np.random.default_rng(0)
    u8 = {s: {"images": rng.integers(0, 256, (1, s, s, 3), dtype=np.uint8)} for s in (416,)}
    results["profile_ops"] = {
        "wildxray-default-416": profile_operators(wx[416], u8[416], 2, 10),
        "wildxray-default-416-int8": profile_operators(int8[416], u8[416], 2, 10),
        "yolov8n-640": profile_operators(yl[640], {"images": rng.random((1, 3, 640, 640), dtype=np.float32)}, 2, 10),
    }
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results["seconds"] = time.perf_counter() - t_start
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))

    # 7. Ratios (last lines).
    def lat_of(name: str, threads: int, batch_: int) -> float:
        return next(r.per_image_ms for r in lat if r.model == name and r.threads == threads and r.batch == batch_)

    wx_name = "wildxray-default-416"
    a_wx, a_y = acc[f"wildxray@{size}"], acc[f"yolov8n@{size}"]
    a_int8 = acc[f"wildxray-int8@{size}"]
    speed = {r["trainer"]: r["images_per_s"] for r in results["train_speed"]}
    print()
    print(f"machine: {results['machine']['cpu']}, {results['machine']['nproc']} cores, load average "
          f"{results['machine']['loadavg_start'][0]:.1f} -> {results['machine']['loadavg_end'][0]:.1f}; "
          f"total {results['seconds'] / 60:.1f} min; results in {out}")
    for t in (1, 2):
        for b in (1, 8):
            print(f"latency ratio {wx_name} / yolov8n-640, threads {t}, batch {b}: "
                  f"{lat_of(wx_name, t, b) / lat_of('yolov8n-640', t, b):.2f}  "
                  f"(int8: {lat_of(wx_name + '-int8', t, b) / lat_of('yolov8n-640', t, b):.2f}; "
                  f"vs yolo11n-640: {lat_of(wx_name, t, b) / lat_of('yolo11n-640', t, b):.2f})  target <= 0.50")
    print(f"accuracy at equal budget ({size} px, {epochs} epochs, {prof['n_train']} scans): mAP50-95 wildxray "
          f"{a_wx['mAP50_95']:.4f} vs yolov8n {a_y['mAP50_95']:.4f} (diff {a_wx['mAP50_95'] - a_y['mAP50_95']:+.4f}, "
          f"target >= 0); mAP50 {a_wx['mAP50']:.4f} vs {a_y['mAP50']:.4f}")
    print(f"INT8 mAP50-95 change at {size}: {100 * (a_int8['mAP50_95'] - a_wx['mAP50_95']):+.2f} points (target >= -1.00)")
    print(f"training images/s ratio wildxray / yolov8n at {size} px, batch {batch}: "
          f"{speed['wildxray-default'] / speed['yolov8n']:.2f} (target >= 1.00)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
