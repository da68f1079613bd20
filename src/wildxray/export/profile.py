"""Measure a model config's cost: GFLOPs (PyTorch) and onnxruntime latency of its exported graph.

    python -m wildxray.export.profile --model default small --threads 2 --runs 20

Latency is end to end as a station sees it: ``core.letterbox.letterbox`` of a 1280x960 image,
then the ONNX graph (normalisation, network, decoding, NMS), batch 1; median of ``runs`` after warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import hydra
import numpy as np
import onnxruntime as ort
import torch
from hydra import compose, initialize_config_dir
from torch.utils.flop_counter import FlopCounterMode

from wildxray.core.letterbox import letterbox
from wildxray.export.card_builder import build_card
from wildxray.export.onnx_export import export_onnx
from wildxray.models.detector import Detector
from wildxray.paths import config_dir
from wildxray.types import CLASS_NAMES


@dataclass
class Profile:
    name: str
    input_size: int
    gflops: float
    params_m: float
    latency_ms: float
    latency_min_ms: float
    threads: int


def count_gflops(detector: Detector, input_size: int) -> float:
    """Forward FLOPs (2 per multiply-add) of one ``[1, 3, S, S]`` image, in GFLOPs."""
    detector = detector.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        detector(torch.zeros(1, 3, input_size, input_size))
    return counter.get_total_flops() / 1e9


def onnx_latency_ms(onnx_path: str | Path, input_size: int, threads: int = 2, runs: int = 20, warmup: int = 5) -> tuple[float, float]:
    """(median, min) wall time in ms of letterbox + ``session.run`` on one 1280x960 image.

    The minimum is the better estimate on a shared machine, where other processes inflate the median.
    """
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    image = np.random.default_rng(0).integers(0, 256, (960, 1280, 3), dtype=np.uint8)
    times = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        canvas, _ = letterbox(image, input_size)
        sess.run(None, {"images": canvas[None]})
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def profile_config(name: str, threads: int = 2, runs: int = 20, input_size: int | None = None) -> Profile:
    """Instantiate ``configs/model/<name>.yaml`` (random weights, 6 classes), export it, time it."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name=None, overrides=[f"+model={name}"])
    size = input_size or int(cfg.model.input_size)
    detector = hydra.utils.instantiate(cfg.model.detector, num_classes=len(CLASS_NAMES)).eval()
    gflops = count_gflops(detector, size)
    card = build_card(name=name, classes=CLASS_NAMES, input_size=size, mean=detector.mean.flatten().tolist(),
                      std=detector.std.flatten().tolist(), score_threshold=0.05, iou_threshold=0.6,
                      max_detections=100, opset=17, commit="n/a")
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(detector, Path(tmp) / f"{name}.onnx", card, size)
        median, fastest = onnx_latency_ms(path, size, threads, runs)
    params = sum(p.numel() for p in detector.parameters()) / 1e6
    return Profile(name, size, gflops, params, median, fastest, threads)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", default=["default", "small"], help="configs/model names")
    p.add_argument("--size", type=int, default=None, help="override the config's input_size")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{'model':<10} {'size':>5} {'GFLOPs':>7} {'params(M)':>9} {'median(ms)':>10} {'min(ms)':>8}  threads")
    for name in args.model:
        r = profile_config(name, args.threads, args.runs, args.size)
        print(f"{r.name:<10} {r.input_size:>5} {r.gflops:>7.2f} {r.params_m:>9.2f} {r.latency_ms:>10.2f} {r.latency_min_ms:>8.2f}  {r.threads}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
