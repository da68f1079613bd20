"""The cross-scanner table: how a model trained on one set-up detects on every scanner profile.

Rows: training set-ups. Either exported models you name (``--model NAME=path.onnx``), or, with
``--train-minutes M``, two trainings made here side by side at equal CPU time from the same start
(``--init``): ``default only`` (the default profile, no randomisation) and ``randomised`` (the
training stream's scanner/display randomisation over the non-held-out profiles), each exported.
Columns: every profile under ``configs/scanner/`` (the held-out ones marked, never seen in training),
and ``raw``: every profile's raw 16-bit (high, low) channels fed through the station's own
``encode_dual_energy`` instead of that scanner's display, pooled. Cells: mAP50 / mAP50-95 / share of
contraband parcels caught at 1 % false alarms (ROC, the model's own parcel score), scored through
ONNX as the station runs the model (``run_onnx_evaluation``).

    python benchmarks/cross_scanner.py --work outputs/cross --n 300 --model shipped=export/wildxray-xray.onnx
    python benchmarks/cross_scanner.py --work outputs/cross --n 300 --train-minutes 60 \
        --init export/wildxray-xray.pt --model-config lite0 --out benchmarks/results/cross_scanner.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from equal_cpu import REPO, recipe_overrides, train_side_by_side, write_report  # noqa: E402

SCANNER_DIR = REPO / "configs" / "scanner"


def profiles() -> dict[str, bool]:
    """Profile name -> held out, for every ``configs/scanner/*.yaml`` (``held_out: true`` marks one)."""
    out = {}
    for path in sorted(SCANNER_DIR.glob("*.yaml")):
        out[path.stem] = bool((yaml.safe_load(path.read_text()) or {}).get("held_out", False))
    if "default" in out:  # the default profile first: the reference column
        out = {"default": out.pop("default"), **out}
    return out


def test_sets(work: Path, names: list[str], n: int, seed: int) -> dict[str, Path]:
    """One seeded test set per profile (written once), plus ``raw``: all of them through their raw files."""
    from wildxray.hydra_compose import compose_config
    from wildxray.data.coco import save_coco
    from wildxray.xray.synth import ensure_dataset

    sets = {}
    for name in names:
        folder = work / "sets" / name
        ensure_dataset(folder, n=n, seed=seed, cfg=compose_config("synth", [f"scanner={name}"]), progress=False)
        sets[name] = folder / "annotations.json"
    # raw: the same scans, their 16-bit channels instead of the vendor display (paths relative to one root)
    images, annotations = [], []
    for name in names:
        coco = json.loads(sets[name].read_text())
        offset = len(images)
        ids = {}
        for img in coco["images"]:
            ids[img["id"]] = offset + len(ids) + 1
            images.append(dict(img, id=ids[img["id"]], file_name=f"{name}/{img['raw_file']}", modality="xray_dual"))
        for ann in coco["annotations"]:
            annotations.append(dict(ann, id=len(annotations) + 1, image_id=ids[ann["image_id"]]))
    raw = {"images": images, "annotations": annotations, "categories": coco["categories"]}
    sets["raw"] = save_coco(raw, work / "sets" / "raw_annotations.json")
    return sets


def train_setups(args: argparse.Namespace, held_out: set[str]) -> tuple[dict[str, Path], dict[str, float]]:
    """Train ``default only`` and ``randomised`` side by side for ``--train-minutes`` CPU minutes; export both."""
    import subprocess

    runs = args.work / "runs"
    # the training stream's own seed, far from the test sets' (scan i of seed s is default_rng([s, i]))
    args = argparse.Namespace(**{**vars(args), "minutes": args.train_minutes, "seed": args.train_seed})
    base = [sys.executable, "-m", "wildxray.cli.train", f"model={args.model_config}"]
    if args.init:
        base.append(f"train.init_from={args.init}")
    commands = {
        "default_only": [*base, *recipe_overrides(args, runs / "default_only"), "data.randomise=false"],
        "randomised": [*base, *recipe_overrides(args, runs / "randomised"), "data.randomise=true"],
    }
    wall = train_side_by_side(commands, runs, "cross_scanner")
    models = {}
    for name in commands:
        onnx = runs / name / "model.onnx"
        subprocess.run([sys.executable, "-m", "wildxray.cli.main", "export", "--checkpoint", str(runs / name / "last.pt"),
                        "--out", str(onnx), "--score-thresh", "0.005"], cwd=REPO, check=True)
        models[name.replace("_", " ")] = onnx
    return models, wall


def cell(metrics: dict) -> dict[str, float]:
    """mAP50, mAP50-95 and detection at 1 % false alarms (the model's own parcel score) of one metrics.json."""
    parcel = metrics["parcel"]
    source = metrics.get("parcel_score_source") or "boxes"
    if metrics.get("parcel_by_source"):
        parcel = metrics["parcel_by_source"].get(source, parcel)
    at_1 = next(p["detection_rate"]["value"] for p in parcel["at_far"] if abs(p["target_far"] - 0.01) < 1e-9)
    return {"mAP50": metrics["coco"]["mAP50"], "mAP": metrics["coco"]["mAP"], "det_at_1pct": at_1}


def score(models: dict[str, Path], sets: dict[str, Path], work: Path, n_bootstrap: int) -> dict[str, dict[str, dict]]:
    from wildxray.evaluation.evaluate import run_onnx_evaluation

    table: dict[str, dict[str, dict]] = {}
    for model, onnx in models.items():
        for column, ann in sets.items():
            out = work / "eval" / model.replace(" ", "_") / column
            run_onnx_evaluation(onnx, ann, out, image_root=ann.parent if column == "raw" else None,
                                n_bootstrap=n_bootstrap, seed=0)
            table.setdefault(model, {})[column] = cell(json.loads((out / "metrics.json").read_text()))
            print(f"{model} on {column}: {table[model][column]}", flush=True)
    return table


def markdown(table: dict[str, dict[str, dict]], held_out: set[str], n: int, seed: int) -> list[str]:
    columns = list(next(iter(table.values())))
    head = [f"{c} (held out)" if c in held_out else c for c in columns]
    lines = [f"{n} test scans per profile (seed {seed}); cell: mAP50 / mAP50-95 / contraband parcels caught at "
             "1 % false alarms; `raw`: every profile's raw channels through `encode_dual_energy`, pooled", "",
             "| training set-up | " + " | ".join(head) + " |", "|---" * (len(columns) + 1) + "|"]
    for model, row in table.items():
        cells = [f"{row[c]['mAP50']:.3f} / {row[c]['mAP']:.3f} / {100 * row[c]['det_at_1pct']:.1f} %" for c in columns]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, required=True, help="folder for test sets, runs and evaluations")
    p.add_argument("--n", type=int, default=300, help="test scans per profile")
    p.add_argument("--seed", type=int, default=777)
    p.add_argument("--model", action="append", default=[], metavar="NAME=PATH.onnx", help="a model to score (repeatable)")
    p.add_argument("--profiles", nargs="*", default=None, help="columns (default: every configs/scanner profile)")
    p.add_argument("--train-minutes", type=float, default=None, help="also train default-only and randomised, this many CPU minutes each")
    p.add_argument("--init", default=None, help="checkpoint both trainings start from")
    p.add_argument("--model-config", default="lite0")
    p.add_argument("--train-seed", type=int, default=12)
    p.add_argument("--size", type=int, default=416)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--quick", action="store_true", help="tiny epochs and validation (smoke test)")
    p.add_argument("--n-bootstrap", type=int, default=200)
    p.add_argument("--out", type=Path, default=None, help="markdown file for the table")
    args = p.parse_args(argv)
    argv = list(argv) if argv is not None else sys.argv[1:]

    known = profiles()
    names = args.profiles or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        p.error(f"unknown profile(s) {unknown}; configs/scanner has {list(known)}")
    held_out = {n for n in names if known[n]}
    models = {}
    for spec in args.model:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).is_file():
            p.error(f"--model wants NAME=PATH.onnx of an existing file, got {spec!r}")
        models[name] = Path(path)
    wall: dict[str, float] = {}
    t0 = time.perf_counter()
    if args.train_minutes:
        trained, wall = train_setups(args, held_out)
        models.update(trained)
    if not models:
        p.error("nothing to score: give --model NAME=PATH.onnx and/or --train-minutes")
    sets = test_sets(args.work, names, args.n, args.seed)
    table = score(models, sets, args.work, args.n_bootstrap)
    wall["scoring"] = time.perf_counter() - t0 - sum(wall.values())
    out = args.out or args.work / "cross_scanner.md"
    (args.work / "cross_scanner.json").write_text(json.dumps(table, indent=1))
    print(write_report(markdown(table, held_out, args.n, args.seed), out, "cross_scanner.py", wall, argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
