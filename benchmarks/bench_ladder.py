"""A learnability ladder: can the detector learn the simulator's classes, and what makes it hard?

The same model (``--model``: ``default``, random init, or ``lite0``, from ImageNet) and recipe train
for the same budget of CPU time (``train.time_limit_clock=cpu``, one torch thread, scans synthesised
in the process) on the endless synthetic stream of three scenes, one rung each, all three at once
(``--sequential``: one after another, one process's memory at a time):

- ``isolated``: contraband alone in its parcel (no clutter, no decoys, no concealment: the issue's
  "easy" set, ``content.clutter=[0,0] content.decoy_probability=0.0 content.conceal_probability=0.0``);
- ``decoys``: the same plus 1-3 look-alikes in every parcel (``content.decoy_probability=1.0``);
- ``full``: the default scene (clutter, decoys, concealment).

Each rung is scored on its own held-out scans of the same scene (``wildxray synth``, seeds far from
the stream's) through the exported ONNX model (``wildxray export``; the station's letterbox and
NMS): class-aware and class-agnostic COCO mAP50 and mAP50-95, and a confusion table at IoU 0.5 and
one score threshold (rows: true class; columns: predicted class, or "missed"), and the boxes
found per object form (the simulator's ``form`` of each box) at that threshold.

    .venv/bin/python benchmarks/bench_ladder.py                 # 3 x 30 CPU-minutes -> benchmarks/results/ladder.md
    .venv/bin/python benchmarks/bench_ladder.py --minutes 5     # a shorter ladder
    .venv/bin/python benchmarks/bench_ladder.py --quick         # smoke run, ~1-2 min (meaningless figures)
    .venv/bin/python benchmarks/bench_ladder.py --model lite0 --sequential   # the shipped architecture
    .venv/bin/python benchmarks/bench_ladder.py --score-only --score-thresh 0.1   # rescore the runs in --work
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from equal_cpu import ONE_THREAD_ENV, REPO, recipe_overrides, train_side_by_side, write_report

EASY = ["content.clutter=[0,0]", "content.decoy_probability=0.0", "content.conceal_probability=0.0"]

#: rung -> (description, synth overrides of its scenes)
RUNGS: dict[str, tuple[str, list[str]]] = {
    "isolated": ("isolated contraband (no clutter, decoys or concealment)", EASY),
    "decoys": ("contraband + 1-3 decoys", ["content.clutter=[0,0]", "content.decoy_probability=1.0",
                                          "content.conceal_probability=0.0"]),
    "full": ("full default scene", []),
}
QUICK_IMAGE = ["image.width=192", "image.height=144"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--minutes", type=float, default=30.0, help="CPU minutes of training per rung (default 30)")
    p.add_argument("--rungs", nargs="*", default=list(RUNGS), choices=list(RUNGS))
    p.add_argument("--model", default="default",
                   help="model config (configs/model/), with its own init: random for default, ImageNet for lite0")
    p.add_argument("--sequential", action="store_true",
                   help="train the rungs one after another (one process's memory at a time) instead of at once")
    p.add_argument("--test-scans", type=int, default=200, help="held-out scans per rung")
    p.add_argument("--size", type=int, default=416, help="input size")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--warmup", type=int, default=30, help="warm-up steps")
    p.add_argument("--score-thresh", type=float, default=0.3, help="score threshold of the confusion table")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, default=REPO / "outputs" / "bench_ladder", help="data, runs, models")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ladder.md")
    p.add_argument("--quick", action="store_true", help="smoke run: tiny scans, seconds of training")
    p.add_argument("--synth", nargs="*", default=[], metavar="KEY=VALUE",
                   help="simulator overrides for every rung's stream and test set, e.g. content.contraband_max_overlap=0.2")
    p.add_argument("--score-only", action="store_true",
                   help="score the runs already in --work again (e.g. at another --score-thresh): no synthesis, no training")
    return p


def _wildxray(*args: str) -> list[str]:
    """The ``wildxray`` command line, run with this interpreter (no reliance on PATH)."""
    return [sys.executable, "-m", "wildxray.cli.main", *args]


def _run(cmd: list[str], log: Path) -> None:
    env = dict(os.environ, **ONE_THREAD_ENV)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as f:
        code = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    if code:
        raise SystemExit(f"bench_ladder: `{' '.join(cmd[2:])}` failed (exit {code}); see {log}")


def test_sets(args: argparse.Namespace) -> dict[str, Path]:
    """``wildxray synth`` one held-out set per rung (seed 880000 + rung index: no stream seed)."""
    out = {}
    for k, rung in enumerate(args.rungs):
        folder = args.work / "data" / rung
        overrides = [*RUNGS[rung][1], *args.synth, *(QUICK_IMAGE if args.quick else [])]
        _run(_wildxray("synth", "--out", str(folder), "--n", str(args.test_scans), "--seed",
                       str(880_000 + 10 * list(RUNGS).index(rung) + args.seed), "--workers", "1", "--no-progress",
                       *overrides), args.work / "logs" / f"synth_{rung}.log")
        out[rung] = folder / "annotations.json"
    return out


def train_command(rung: str, args: argparse.Namespace) -> list[str]:
    synth = [*RUNGS[rung][1], *args.synth, *(QUICK_IMAGE if args.quick else [])]
    quick = ["train=smoke"] if args.quick else []
    return _wildxray("train", f"model={args.model}", *quick,
                     *(f"data.synth.{o}" for o in synth),  # the rung's synth overrides, on the run's data.synth
                     *recipe_overrides(args, args.work / "runs" / rung))


def train_all(args: argparse.Namespace) -> dict[str, float]:
    """Train every rung at equal CPU time (``equal_cpu``), all at once or ``--sequential``; returns the
    wall minutes of each."""
    commands = {r: train_command(r, args) for r in args.rungs}
    runs = args.work / "runs"
    if args.sequential:
        wall = {r: train_side_by_side({r: cmd}, runs, "bench_ladder")[r] for r, cmd in commands.items()}
    else:
        wall = train_side_by_side(commands, runs, "bench_ladder")
    return {r: s / 60 for r, s in wall.items()}


def export(rung: str, args: argparse.Namespace) -> Path:
    onnx_path = args.work / "onnx" / f"{rung}.onnx"
    _run(_wildxray("export", "--checkpoint", str(args.work / "runs" / rung / "last.pt"), "--out", str(onnx_path),
                   "--score-thresh", "0.005"), args.work / "logs" / f"export_{rung}.log")
    return onnx_path


def score(onnx_path: Path, ann: Path, score_thresh: float) -> dict:
    """Class-aware and class-agnostic COCO figures and the confusion table of one model on one set."""
    from wildxray.data.coco import load_coco
    from wildxray.evaluation.coco_metrics import coco_map
    from wildxray.evaluation.confusion import AGNOSTIC, class_agnostic, confusion_at
    from wildxray.evaluation.inference import predict_dataset
    from wildxray.evaluation.matching import recall_by_attribute
    from wildxray.evaluation.records import records_from_coco
    from wildxray.runtime.model_card import read_card
    from wildxray.runtime.session import OnnxDetector

    classes = list(read_card(onnx_path)["classes"])
    dataset = load_coco(ann)
    predictions = predict_dataset(OnnxDetector(onnx_path, threads=1), dataset)
    aware = coco_map(dataset.coco_dict, predictions, classes)
    agnostic = coco_map(*class_agnostic(dataset.coco_dict, predictions), AGNOSTIC)
    cm = confusion_at(dataset.coco_dict, predictions, classes, score_thresh)
    records = records_from_coco(dataset.coco_dict, predictions, classes)
    by_form = recall_by_attribute(records, classes, {c: float(score_thresh) for c in classes}).get("form", {})
    return {"classes": classes, "recall_by_form": by_form, "mAP50": aware["mAP50"], "mAP50_95": aware["mAP"],
            "agnostic_mAP50": agnostic["mAP50"], "agnostic_mAP50_95": agnostic["mAP"],
            "per_class_AP50": aware["per_class_AP50"], "confusion": cm.tolist(),
            "scans": len(dataset.images), "boxes": len(dataset.coco_dict["annotations"])}


def _run_wall_minutes(run: Path) -> float:
    """A finished run's wall time, from its files: config.yaml is written at the start, last.pt at the end."""
    missing = [f for f in ("config.yaml", "last.pt") if not (run / f).is_file()]
    if missing:
        raise SystemExit(f"bench_ladder --score-only: {run} has no {', '.join(missing)}; train it first")
    return ((run / "last.pt").stat().st_mtime - (run / "config.yaml").stat().st_mtime) / 60


def run_steps(rung: str, work: Path) -> int:
    from wildxray.training.checkpoint import load_checkpoint

    return int(load_checkpoint(work / "runs" / rung / "last.pt")["step"])


def _f(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _init_words(model: str) -> str:
    """How the model config initialises its backbone, read from the config itself (for the report)."""
    from wildxray.hydra_compose import compose_config

    weights = compose_config("train", [f"model={model}"]).model.detector.get("weights")
    return "random init" if weights is None else f"backbone weights `{weights}`"


def write_markdown(args: argparse.Namespace, scores: dict, steps: dict, wall: dict, generator: str) -> str:
    import numpy as np

    from wildxray.evaluation.confusion import confusion_markdown

    lines = [
        "# Learnability ladder: the same model and recipe on three scenes",
        "",
        f"Each rung: `model={args.model}` ({_init_words(args.model)}), {args.minutes:g} "
        "CPU-minutes of its own process (one torch "
        f"thread, scans synthesised in the process) on the synthetic stream of its scene (generator `{generator}`), "
        f"{args.size} px, batch {args.batch}, AdamW lr {args.lr:g}, {args.warmup} warm-up steps then cosine, EMA; "
        f"the rungs trained {'one after another' if args.sequential else 'at the same time'}. "
        "Each scored on its own held-out scans of the same scene through the "
        "exported ONNX model. Class-agnostic: every box and detection relabelled as one class."
        + (f" Simulator overrides on every rung: `{' '.join(args.synth)}`." if args.synth else ""),
        "",
        "| rung | steps | held-out scans (boxes) | mAP50 | mAP50-95 | class-agnostic mAP50 | class-agnostic mAP50-95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for rung, s in scores.items():
        lines.append(f"| {RUNGS[rung][0]} | {steps[rung]} | {s['scans']} ({s['boxes']}) | {_f(s['mAP50'])} | "
                     f"{_f(s['mAP50_95'])} | {_f(s['agnostic_mAP50'])} | {_f(s['agnostic_mAP50_95'])} |")
    first = next(iter(scores.values()))
    lines += ["", "AP50 per class:", "", "| rung | " + " | ".join(first["classes"]) + " |",
              "|---|" + "---|" * len(first["classes"])]
    for rung, s in scores.items():
        lines.append(f"| {rung} | " + " | ".join(_f(s["per_class_AP50"].get(c)) for c in s["classes"]) + " |")
    forms = sorted({f for s in scores.values() for f in s.get("recall_by_form", {})})
    if forms:
        lines += ["", f"Boxes found by their own class (IoU 0.5, score >= {args.score_thresh:g}), by the simulator's "
                      "form of the object:", "", "| form | " + " | ".join(scores) + " |", "|---|" + "---|" * len(scores)]
        for form in forms:
            cells = []
            for s in scores.values():
                c = s.get("recall_by_form", {}).get(form)
                cells.append("–" if c is None else f"{c['found']}/{c['boxes']}")
            lines.append(f"| {form} | " + " | ".join(cells) + " |")
    for rung, s in scores.items():
        lines += ["", f"### Confusion, {RUNGS[rung][0]} (IoU 0.5, score >= {args.score_thresh:g})", "",
                  confusion_markdown(np.array(s["confusion"]), s["classes"])]
    if args.quick:
        lines += ["", "**Smoke run (--quick): tiny scans, seconds of training; these figures mean nothing.**"]
    elif args.model == "default" and min(steps.values()) < 1000:  # from random init it needs thousands of steps
        lines += ["", f"**Only {min(steps.values())} optimiser steps per rung: a smoke figure, not a measurement "
                      "of learnability.**"]
    return write_report(lines, args.out, "bench_ladder.py", {k: 60 * v for k, v in wall.items()}, sys.argv[1:])


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from wildxray.xray.synth import generator_fingerprint

    if args.quick:
        args.minutes, args.size, args.batch, args.warmup = min(args.minutes, 0.05), 64, 2, 1
        args.test_scans = min(args.test_scans, 8)
    args.work = args.work.resolve()
    if args.score_only:
        sets = {r: args.work / "data" / r / "annotations.json" for r in args.rungs}
        wall = {r: _run_wall_minutes(args.work / "runs" / r) for r in args.rungs}
    else:
        sets = test_sets(args)
        wall = train_all(args)
    scores = {r: score(export(r, args), sets[r], args.score_thresh) for r in args.rungs}
    steps = {r: run_steps(r, args.work) for r in args.rungs}
    (args.work / "scores.json").write_text(json.dumps({"scores": scores, "steps": steps}, indent=1))
    print(write_markdown(args, scores, steps, wall, generator_fingerprint()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
