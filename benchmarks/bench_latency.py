"""End-to-end CPU latency of ONNX detectors, interleaved in one process, and operator profiles.

    python benchmarks/bench_latency.py --model wildxray:export/model.onnx --model yolov8n:/tmp/y.onnx:640

End to end means what a station pays per call, from decoded RGB images to Detections in original
pixels: ``letterbox`` (the package's one implementation), the input tensor, ``session.run``, NMS
(inside the wildxray graph; ``cv2.dnn.NMSBoxesBatched`` after the YOLO graph) and mapping boxes back.
Image decoding is left out (identical for both).

Method: for each thread count, every model gets its own onnxruntime session (intra-op threads =
N, inter-op 1). Warm-up rounds first, then ``runs`` rounds; in each round every model runs once on
the same batch, in an order rotated per round, so background load on a shared machine hits every
model alike. We report the median (and the minimum) of the per-call wall times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from wildxray.types import Detections


@dataclass
class ModelSpec:
    """One model to time: ``kind`` is ``wildxray`` (OnnxDetector) or ``yolo`` (YoloOnnxDetector)."""

    name: str
    kind: str
    path: Path
    input_size: int


@dataclass
class LatencyResult:
    model: str
    input_size: int
    threads: int
    batch: int
    median_ms: float     # per call (the whole batch)
    min_ms: float
    per_image_ms: float  # median_ms / batch
    runs: int


def make_predictor(spec: ModelSpec, threads: int) -> Callable[[Sequence[np.ndarray]], list[Detections]]:
    """``predict_batch`` of a fresh session of ``spec`` with ``threads`` intra-op threads."""
    if spec.kind == "wildxray":
        from wildxray.runtime.session import OnnxDetector

        det = OnnxDetector(spec.path, threads=threads, tile_aspect=float("inf"))
        if det.input_size != spec.input_size:
            raise ValueError(f"{spec.path}: card input size {det.input_size} != {spec.input_size}")
        return det.predict_batch
    if spec.kind == "yolo":
        from yolo_adapter import YoloOnnxDetector

        return YoloOnnxDetector(spec.path, spec.input_size, threads=threads).predict_batch
    raise ValueError(f"model {spec.name}: unknown kind {spec.kind!r} (wildxray | yolo)")


def measure_latency(
    specs: Sequence[ModelSpec],
    images: Sequence[np.ndarray],
    threads: Sequence[int] = (1, 2),
    batches: Sequence[int] = (1, 8),
    runs: int = 20,
    warmup: int = 3,
    log: Callable[[str], None] | None = print,
) -> list[LatencyResult]:
    """Interleaved latency of every spec for each (threads, batch); see the module docstring.

    images: HxWx3 uint8 RGB scans (cycled to fill a batch; a batch holds distinct images).
    """
    if runs < 1 or not images:
        raise ValueError("measure_latency: need runs >= 1 and at least one image")
    results: list[LatencyResult] = []
    for n_threads in threads:
        cv2.setNumThreads(n_threads)  # the resize in letterbox: same for every model
        predictors = [make_predictor(s, n_threads) for s in specs]
        for batch in batches:
            feed = [images[i % len(images)] for i in range(batch)]
            times: dict[int, list[float]] = defaultdict(list)
            for rnd in range(warmup + runs):
                order = list(range(len(specs)))
                shift = rnd % len(order)
                for j in order[shift:] + order[:shift]:
                    t0 = time.perf_counter()
                    predictors[j](feed)
                    dt = (time.perf_counter() - t0) * 1e3
                    if rnd >= warmup:
                        times[j].append(dt)
            for j, spec in enumerate(specs):
                med = statistics.median(times[j])
                res = LatencyResult(spec.name, spec.input_size, n_threads, batch, med, min(times[j]), med / batch, runs)
                results.append(res)
                if log:
                    log(f"  latency {spec.name:<22} threads={n_threads} batch={batch}: median {med:8.1f} ms "
                        f"(min {res.min_ms:.1f}, {res.per_image_ms:.1f} ms/image)")
        del predictors
    return results


def profile_operators(path: str | Path, feed: dict[str, np.ndarray], threads: int = 2, runs: int = 10) -> dict[str, float]:
    """Share of onnxruntime node time per operator type over ``runs`` calls (onnxruntime's
    profiler), largest first; shares sum to 1. ``feed`` is the raw graph input."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="ort-profile-") as tmp:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(tmp) / "profile")
        opts.log_severity_level = 3
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        for _ in range(runs):
            sess.run(None, feed)
        events = json.loads(Path(sess.end_profiling()).read_text())
    per_op: dict[str, float] = defaultdict(float)
    for ev in events:
        if ev.get("cat") == "Node" and ev.get("name", "").endswith("_kernel_time"):
            per_op[ev.get("args", {}).get("op_name", "?")] += float(ev.get("dur", 0))
    total = sum(per_op.values()) or 1.0
    return dict(sorted(((k, v / total) for k, v in per_op.items()), key=lambda kv: -kv[1]))


def _parse_model(text: str) -> ModelSpec:
    parts = text.split(":")
    if parts[0] == "wildxray" and len(parts) == 2:
        from wildxray.runtime.model_card import read_card

        path = Path(parts[1])
        return ModelSpec(path.stem, "wildxray", path, int(read_card(path)["input_size"]))
    if parts[0] in ("yolov8n", "yolo11n") and len(parts) == 3:
        return ModelSpec(f"{parts[0]}-{parts[2]}", "yolo", Path(parts[1]), int(parts[2]))
    raise argparse.ArgumentTypeError(f"--model {text!r}: expected wildxray:PATH or yolov8n|yolo11n:PATH:SIZE")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", type=_parse_model, required=True,
                   help="wildxray:PATH.onnx, or yolov8n:PATH.onnx:SIZE / yolo11n:PATH.onnx:SIZE (repeat)")
    p.add_argument("--images", type=Path, default=None, help="folder of scans (default: random 640x480 images)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    args = p.parse_args(argv)
    if args.images:
        from wildxray.core.image_io import read_image, to_model_image

        files = sorted(f for f in args.images.iterdir() if f.suffix.lower() in (".png", ".jpg", ".jpeg"))[:8]
        images = [to_model_image(read_image(f))[0] for f in files]
    else:
        rng = np.random.default_rng(0)
        images = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(8)]
    results = measure_latency(args.model, images, args.threads, args.batch, args.runs)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
