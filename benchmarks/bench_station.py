"""Station benchmark: throughput, latency under a steady load, cold start, peak memory, overhead.

    .venv/bin/python benchmarks/bench_station.py [--model M.onnx] [--n 200] [--steady 100] [--rate 5]

Without ``--model`` it uses ``export/model.onnx`` when present, else exports the *default* model
config (``configs/model/default.yaml``, untrained weights: the speed is what is measured here) with
the real exporter (this step needs torch; the station itself runs torch-free in a subprocess).

Measured, all in this one run on this machine:
1. cold start: station launched with N files already waiting -> first result JSON on disk;
2. throughput: N scans / (last result - first result) with the queue kept full;
3. latency: files dropped (``.part`` then rename) at ``--rate`` per second into an idle station;
   latency = result JSON mtime - rename time; p50/p99;
4. peak RSS: the station's ``VmHWM`` (/proc) at the end of each phase;
5. overhead: station seconds per scan (phase 2) / a bare onnxruntime loop (decode, letterbox, run)
   over the same files, same thread budget, same process start-up excluded.
Writes a markdown table to ``benchmarks/results/station.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def default_model(workdir: Path) -> Path:
    shipped = REPO / "export" / "model.onnx"
    if shipped.exists():
        return shipped
    import torch
    import yaml

    from wildxray.export.card_builder import build_card
    from wildxray.export.onnx_export import export_onnx
    from wildxray.models.build import build_detector
    from wildxray.types import CLASS_NAMES

    cfg = yaml.safe_load((REPO / "configs" / "model" / "default.yaml").read_text())
    kwargs = {k: v for k, v in cfg["detector"].items() if not k.startswith("_")}
    torch.manual_seed(0)
    det = build_detector(len(CLASS_NAMES), **kwargs)
    size = int(cfg["input_size"])
    card = build_card(name="default-untrained", classes=CLASS_NAMES, input_size=size, mean=list(det.mean.flatten().tolist())
                      if hasattr(det, "mean") else [0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225],
                      score_threshold=0.25, iou_threshold=0.6, max_detections=100, opset=17, commit=None)
    return export_onnx(det, workdir / "default.onnx", card, input_size=size)


def make_scans(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """n pseudo-colour parcel-like PNGs (640x480, blobs on a light background)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        img = np.full((480, 640, 3), 235, np.uint8)
        for _ in range(12):
            c = tuple(int(v) for v in rng.integers(0, 255, 3))
            cv2.ellipse(img, (int(rng.integers(40, 600)), int(rng.integers(40, 440))),
                        (int(rng.integers(10, 120)), int(rng.integers(10, 80))), float(rng.integers(0, 180)), 0, 360, c, -1)
        img = cv2.GaussianBlur(img, (5, 5), 0)
        p = folder / f"parcel{i:04d}.png"
        cv2.imwrite(str(p), img)
        paths.append(p)
    return paths


def start_station(model: Path, watch: Path, out: Path, args: list[str]) -> tuple[subprocess.Popen, float]:
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "wildxray.cli.main", "station", "--model", str(model), "--watch",
                             str(watch), "--out", str(out), "--http", "off", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return proc, t0


def wait_results(out: Path, n: int, timeout: float) -> dict[str, float]:
    """source_name -> result JSON mtime, once n results exist."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        files = list(out.glob("*.json"))
        if len(files) >= n:
            return {json.loads(f.read_text())["source_name"]: f.stat().st_mtime for f in files}
        time.sleep(0.01)
    raise TimeoutError(f"{len(list(out.glob('*.json')))} of {n} results after {timeout}s")


def peak_rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) / 1024


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)


def bare_loop(model: Path, files: list[Path], threads: int) -> float:
    """Seconds per scan for decode + letterbox + session.run, one session, ``threads`` intra-op threads."""
    import onnxruntime as ort

    from wildxray.runtime.model_card import read_card
    from wildxray.core.letterbox import letterbox

    card = read_card(model)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    canvas, _ = letterbox(np.zeros((10, 10, 3), np.uint8), card["input_size"], card["padding_value"])
    sess.run(None, {"images": canvas[None]})  # warm-up, as the station's first scan is not in phase 2
    t0 = time.perf_counter()
    for f in files:
        img = cv2.cvtColor(cv2.imread(str(f), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        canvas, _ = letterbox(img, card["input_size"], card["padding_value"])
        sess.run(None, {"images": canvas[None]})
    return (time.perf_counter() - t0) / len(files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path)
    ap.add_argument("--n", type=int, default=200, help="scans in the throughput phase")
    ap.add_argument("--steady", type=int, default=100, help="scans in the steady-rate phase")
    ap.add_argument("--rate", type=float, default=5.0, help="arrivals per second in the steady phase")
    ap.add_argument("--station-args", default="", help="extra station options, e.g. '--workers 1 --threads 2'")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "station.md")
    args = ap.parse_args()
    extra = args.station_args.split()
    work = Path(tempfile.mkdtemp(prefix="wildxray-bench-"))
    model = args.model or default_model(work)
    from wildxray.runtime.model_card import read_card

    card = read_card(model)
    src = make_scans(work / "src", max(args.n, args.steady))

    # Phases 1+2: N files waiting, then launch -> cold start and throughput.
    watch, out = work / "in1", work / "out1"
    watch.mkdir()
    for p in src[: args.n]:
        os.link(p, watch / p.name)
    time.sleep(0.3)  # older than the settle time: all are ready at once
    proc, t_launch = start_station(model, watch, out, extra)
    done = wait_results(out, args.n, timeout=600)
    times = sorted(done.values())
    cold_start = times[0] - t_launch
    station_per_scan = (times[-1] - times[0]) / (len(times) - 1)
    rss1 = peak_rss_mb(proc.pid)
    stop(proc)

    # Phase 3: steady arrivals into an idle station.
    watch, out = work / "in2", work / "out2"
    watch.mkdir()
    proc, _ = start_station(model, watch, out, extra)
    proc.stdout.readline()  # "ready" line
    arrivals = {}
    t_next = time.time()
    for p in src[: args.steady]:
        t_next += 1.0 / args.rate
        time.sleep(max(0.0, t_next - time.time()))
        tmp = watch / (p.name + ".part")
        tmp.write_bytes(p.read_bytes())
        os.replace(tmp, watch / p.name)
        arrivals[p.name] = time.time()
    done = wait_results(out, args.steady, timeout=120)
    lat = np.array([done[k] - arrivals[k] for k in arrivals]) * 1e3
    rss2 = peak_rss_mb(proc.pid)
    stop(proc)

    threads_total = 2
    bare = bare_loop(model, src[: args.n], threads_total)
    rows = [
        ("throughput (queue full)", f"{1 / station_per_scan:.1f} scans/s", ">= 15 scans/s"),
        (f"latency p50 @ {args.rate:g} scans/s", f"{np.percentile(lat, 50):.0f} ms", ""),
        (f"latency p99 @ {args.rate:g} scans/s", f"{np.percentile(lat, 99):.0f} ms", "<= 250 ms"),
        ("cold start to first result", f"{cold_start:.2f} s", "<= 1 s"),
        ("peak RSS", f"{max(rss1, rss2):.0f} MB", "<= 300 MB"),
        ("bare onnxruntime loop", f"{1 / bare:.1f} scans/s ({bare * 1e3:.1f} ms/scan)", ""),
        ("station / bare time per scan", f"{station_per_scan / bare:.2f}x", "<= 1.15x"),
    ]
    cmd = "python benchmarks/bench_station.py " + " ".join(sys.argv[1:])
    lines = [
        "# Station benchmark", "",
        f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores visible, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        f"- model: {card.get('name')} ({model.name}), input {card['input_size']} px",
        f"- inputs: {args.n} (throughput) and {args.steady} (latency) synthetic 640x480 PNG parcels",
        f"- station options: defaults{(' + ' + args.station_args) if extra else ''} (2 workers x 1 onnxruntime "
        "thread, settle 100 ms, fsync on)" if not extra else f"- station options: {args.station_args}",
        f"- bare loop: one session, {threads_total} intra-op threads, decode + letterbox + run, no output",
        f"- load average at the end (1/5/15 min): {' / '.join(f'{x:.1f}' for x in os.getloadavg())} "
        "(other jobs on the machine inflate every figure)",
        f"- command: `{cmd.strip()}`", "",
        "| measure | result | target |", "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows], "",
        "Latency runs from the rename of the file into the hot folder to the result JSON's mtime; it "
        "includes the settle time (100 ms by default) the station waits before taking a file.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
