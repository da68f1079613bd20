"""Memory of a training run on the synthetic stream: the trainer and its DataLoader workers.

Runs a short ``wildxray train`` (default: ``model=lite0``, batch 16, 416 px, one worker) twice,
with ``train.persistent_workers`` true (workers forked once, before the first step) and false
(a fresh worker forked from the trainer every epoch, as before 2026-12-02), and samples every
process's proportional set size (PSS: shared pages split between the processes sharing them, so
the sum is what the run holds) from ``/proc/<pid>/smaps_rollup`` twice a second. Linux only.

    python benchmarks/bench_train_memory.py                      # lite0, 4 epochs of 64 scans, ~5 min
    python benchmarks/bench_train_memory.py --model default --epochs 3
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pss_kib(pid: int) -> int:
    """The process's PSS in KiB (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Child processes (recursively) of ``pid``, from /proc/<pid>/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            out += kids
            todo += kids
    return out


def measure(args: argparse.Namespace, persistent: bool, work: Path) -> dict:
    run_dir = work / f"persistent_{persistent}"
    cmd = [sys.executable, "-m", "wildxray.cli.train", f"model={args.model}", "data=synthetic",
           f"train.epochs={args.epochs}", f"data.samples_per_epoch={args.samples}", "data.val_size=8",
           f"train.eval_every={args.epochs}", f"train.batch_size={args.batch}", f"model.input_size={args.size}",
           f"train.num_workers={args.workers}", f"train.persistent_workers={str(persistent).lower()}",
           "train.early_stopping.patience=0", "train.progress=false", f"hydra.run.dir={run_dir}"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_total = peak_trainer = peak_workers = 0
    worker_pids: set[int] = set()
    while proc.poll() is None:
        kids = descendants(proc.pid)
        worker_pids.update(kids)
        trainer, workers = pss_kib(proc.pid), sum(pss_kib(k) for k in kids)
        peak_trainer, peak_workers = max(peak_trainer, trainer), max(peak_workers, workers)
        peak_total = max(peak_total, trainer + workers)
        time.sleep(0.5)
    err = proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"training failed ({' '.join(cmd)}):\n{err[-3000:]}")
    gib = 1 / 2**20
    return {"persistent": persistent, "trainer": peak_trainer * gib, "workers": peak_workers * gib,
            "total": peak_total * gib, "processes": len(worker_pids), "seconds": time.perf_counter() - t0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="lite0")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--samples", type=int, default=64, help="scans per epoch")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--size", type=int, default=416)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(args, persistent, Path(tmp)) for persistent in (False, True)]
    print(f"# bench_train_memory ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"model={args.model}, batch {args.batch}, {args.size} px, {args.workers} worker(s), "
          f"{args.epochs} epochs x {args.samples} scans)\n")
    print("| train.persistent_workers | trainer peak PSS | workers peak PSS | run peak PSS | worker processes | wall s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {str(r['persistent']).lower()} | {r['trainer']:.2f} GiB | {r['workers']:.2f} GiB | {r['total']:.2f} GiB "
              f"| {r['processes']} | {r['seconds']:.0f} |")
    print(f"\nrun peak: persistent / per-epoch fork = {rows[1]['total'] / rows[0]['total']:.2f}x")


if __name__ == "__main__":
    main()
