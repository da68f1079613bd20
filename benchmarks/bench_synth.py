"""Speed of the synthetic parcel-scan generator: per core, and the whole ``wildxray synth`` command
at 1 vs 2 worker processes.

1. Scans/s per core of ``ScanSynthesizer.sample``: CPU time (``time.process_time``) of one
   single-threaded process, so the figure is per core even on a shared machine. Includes everything
   a training worker does: scene, rasterisation, masks, LUT, detector noise and pseudo-colour
   encoding (not PNG/TIFF writing).
2. With ``--command-n N``: the whole command (``wildxray synth --out TMP --n N --workers K``, setup,
   PNG, TIFF and COCO RLE included) run as a subprocess, alternating K = 1 and K = 2 for
   ``--rounds`` rounds in one session: wall time of each, their ratio per round (the figure to trust
   on a shared machine), the command's CPU per scan (itself and its workers), and a check that both
   wrote byte-identical files.

    .venv/bin/python benchmarks/bench_synth.py --n 200 [--command-n 100 --rounds 2] [overrides ...]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def per_core(n: int, seed: int, overrides: list[str]) -> None:
    """Part 1: ``sample`` alone, one process, CPU time."""
    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    from wildxray.xray.synth_config import load_synth_config
    from wildxray.xray.synth import ScanSynthesizer

    cfg = load_synth_config(overrides)
    t0 = time.perf_counter()
    synth = ScanSynthesizer(cfg)
    if synth.randomiser is not None:  # randomise=true: build the pool's physics here, not in the timed scans
        synth.randomiser.prepare()
    synth.sample(np.random.default_rng(10**6))  # builds the colour table
    setup = time.perf_counter() - t0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        synth.sample(np.random.default_rng([seed, i]))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"scanner={synth.profile.name} size={synth.width}x{synth.height} n={n}")
    print(f"setup (spectra, LUT, bands): {setup:.2f} s")
    print(f"CPU per scan: {1000 * cpu / n:.1f} ms  ->  {n / cpu:.1f} scans/s per core")
    print(f"wall per scan: {1000 * wall / n:.1f} ms (machine load affects this one)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for descendants: the workers too
    return usage.ru_utime + usage.ru_stime


def run_command(out: Path, n: int, seed: int, workers: int, overrides: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one ``wildxray synth`` run into ``out``."""
    cmd = [sys.executable, "-m", "wildxray.cli.main", "synth", "--out", str(out), "--n", str(n), "--seed", str(seed),
           "--workers", str(workers), "--no-progress", *overrides]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, _children_cpu() - cpu0


def differing_files(a: Path, b: Path) -> list[str]:
    """Files present in only one of two folders, or with other bytes (empty: byte-identical)."""
    files = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    other = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    return sorted(str(f) for f in files ^ other | {f for f in files & other if not filecmp.cmp(a / f, b / f, shallow=False)})


def whole_command(n: int, seed: int, rounds: int, overrides: list[str]) -> None:
    """Part 2: the command at 1 and 2 workers, alternating, one round after the other."""
    ratios = []
    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
        for r in range(rounds):
            walls, cpus = {}, {}
            for k in (1, 2):
                walls[k], cpus[k] = run_command(Path(tmp) / f"w{k}", n, seed, k, overrides)
            differ = differing_files(Path(tmp) / "w1", Path(tmp) / "w2")
            identical = "yes" if not differ else f"NO: {len(differ)} differ, e.g. {differ[:3]}"
            ratios.append(walls[1] / walls[2])
            print(f"round {r + 1}: n={n}  workers=1 {walls[1]:.2f} s ({n / walls[1]:.2f} scans/s)  "
                  f"workers=2 {walls[2]:.2f} s ({n / walls[2]:.2f} scans/s)  ratio {ratios[-1]:.2f}x  "
                  f"CPU per scan {1000 * cpus[1] / n:.0f} / {1000 * cpus[2] / n:.0f} ms "
                  f"({n / cpus[1]:.1f} / {n / cpus[2]:.1f} scans/s per core)  identical files: {identical}  "
                  f"load {os.getloadavg()[0]:.2f}")
    print(f"speed-up, 2 workers over 1: {', '.join(f'{x:.2f}x' for x in ratios)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200, help="scans for the per-core figure (0: skip it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--command-n", type=int, default=0, help="scans per whole-command run (0: skip)")
    p.add_argument("--rounds", type=int, default=2, help="alternating 1-/2-worker rounds of the command")
    p.add_argument("overrides", nargs="*")
    args = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, nproc={os.cpu_count()}, load={os.getloadavg()}")
    if args.n > 0:
        per_core(args.n, args.seed, args.overrides)
    if args.command_n > 0:
        whole_command(args.command_n, args.seed, args.rounds, args.overrides)


if __name__ == "__main__":
    main()
