"""Scans per second per core of the synthetic parcel-scan generator.

CPU time (``time.process_time``) of one single-threaded process, so the figure is per core even on
a shared machine. Includes everything a training worker does: scene, rasterisation, LUT, detector
noise and pseudo-colour encoding (not PNG/TIFF writing).

    .venv/bin/python benchmarks/bench_synth.py --n 200 [overrides ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    from wildxray.xray.config import load_synth_config
    from wildxray.xray.synth import ScanSynthesizer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("overrides", nargs="*")
    args = p.parse_args()
    cfg = load_synth_config(args.overrides)
    t0 = time.perf_counter()
    synth = ScanSynthesizer(cfg)
    synth.sample(np.random.default_rng(10**6))  # builds the colour table
    setup = time.perf_counter() - t0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(args.n):
        synth.sample(np.random.default_rng([args.seed, i]))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"scanner={synth.profile.name} size={synth.width}x{synth.height} n={args.n}")
    print(f"setup (spectra, LUT, bands): {setup:.2f} s")
    print(f"CPU per scan: {1000 * cpu / args.n:.1f} ms  ->  {args.n / cpu:.1f} scans/s per core")
    print(f"wall per scan: {1000 * wall / args.n:.1f} ms (machine load affects this one)")
    print(f"machine: {platform.processor() or platform.machine()}, nproc={os.cpu_count()}, load={os.getloadavg()}")


if __name__ == "__main__":
    main()
