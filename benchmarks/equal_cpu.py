"""Side-by-side training at equal CPU time, shared by bench_learning.py and bench_ladder.py.

Every run gets the same budget of its own process's CPU seconds (``train.time_limit_clock=cpu``),
one torch thread and no DataLoader workers (scans are synthesised in the process, so the budget
counts them), and all runs start at once: a shared, loaded machine slows them alike but takes no
run's compute.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: One thread per run: on a shared 2-core machine OpenMP spin-waits make more threads slower.
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def recipe_overrides(args: argparse.Namespace, run_dir: Path) -> list[str]:
    """The shared recipe: ``args`` has size, batch, lr, warmup, minutes, seed and quick."""
    return [
        "data=synthetic", f"input_size={args.size}", f"train.batch_size={args.batch}",
        f"optim.optimizer.lr={args.lr}", f"optim.scheduler.warmup_steps={args.warmup}",
        "train.epochs=100000", "train.max_steps=null", f"train.time_limit_minutes={args.minutes}",
        "train.time_limit_clock=cpu", "train.num_workers=0", "train.early_stopping.patience=0",
        "train.eval_every=100000", f"data.samples_per_epoch={8 if args.quick else 25 * args.batch}",
        f"data.val_size={8 if args.quick else 60}", "train.progress=false", f"seed={args.seed}",
        "device=cpu", f"hydra.run.dir={run_dir}",
    ]


def train_side_by_side(commands: dict[str, list[str]], runs_dir: Path, tool: str) -> dict[str, float]:
    """Start every command at once (logs in ``runs_dir/<name>/train.log``) and wait for all.

    Returns the wall seconds of each; exits naming the run and its log if one fails."""
    env = dict(os.environ, **ONE_THREAD_ENV)
    procs = {}
    for name, cmd in commands.items():
        run = runs_dir / name
        run.mkdir(parents=True, exist_ok=True)
        log = (run / "train.log").open("w")
        procs[name] = (subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT), log,
                       time.perf_counter())
        print(f"started {name}: {run / 'train.log'}", flush=True)
    wall = {}
    for name, (proc, log, t0) in procs.items():
        code = proc.wait()
        log.close()
        if code:
            raise SystemExit(f"{tool}: training {name} failed (exit {code}); see {runs_dir / name / 'train.log'}")
        wall[name] = time.perf_counter() - t0
        print(f"{name} done in {wall[name] / 60:.1f} min wall", flush=True)
    return wall


def write_report(lines: list[str], out: Path, script: str, wall_s: dict[str, float], argv: list[str]) -> str:
    """Append the command, machine, wall times and date to a Markdown table and write it to ``out``."""
    import datetime
    import platform

    lines = [*lines, "", f"- command: `python benchmarks/{script} {' '.join(argv)}`",
             f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, shared; wall time per "
             "run: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in wall_s.items()),
             f"- date: {datetime.date.today().isoformat()}", ""]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text
