"""Does fine-tuning the shipped model beat training from scratch on a few hundred scans of a new scanner?

Both runs see the same 200 scans of a scanner profile the shipped model was not trained on
(``configs/scanner/compact.yaml`` by default), for the same number of optimiser steps, and are scored
on the same held-out scans of that profile with the station's ONNX path (``run_onnx_evaluation``):
COCO mAP50 and mAP50-95, and the parcel detection rate at 1 % false alarms with its 95 % bootstrap CI.
The shipped model before fine-tuning (zero-shot on the new scanner) is scored too.

    .venv/bin/python benchmarks/bench_finetune.py                       # the figures in export/README.md

On a 2-core CPU a default-model step at 416 px, batch 8, takes ~2.7 s: the two 150-step runs take ~14 min,
synthesising the 420 scans ~7 min (cached in --work for reruns), scoring ~2 min. On a GPU, minutes.
    .venv/bin/python benchmarks/bench_finetune.py --tiny --checkpoint CKPT --out /tmp/ft.md   # smoke

- fine-tune: ``experiment=finetune`` (frozen early stages, then unfrozen; lr 2e-4; short warm-up).
- scratch: the same model config, data, batch size and steps, with the default from-scratch optimiser.
Both keep the last checkpoint's EMA weights (no early stopping: equal steps means equal steps).
Writes a Markdown table to ``--out`` (default ``benchmarks/results/finetune.md``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--checkpoint", type=Path, default=REPO / "export" / "wildxray-xray.pt",
                   help="the pre-trained wildxray checkpoint (default: export/wildxray-xray.pt)")
    p.add_argument("--scanner", default="compact", help="scanner profile of the new data (configs/scanner)")
    p.add_argument("--train-scans", type=int, default=200)
    p.add_argument("--val-scans", type=int, default=20, help="monitored during training only; not used to pick")
    p.add_argument("--test-scans", type=int, default=200)
    p.add_argument("--steps", type=int, default=150, help="optimiser steps of each run (default 150)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=None, help="input size (default: the checkpoint's)")
    p.add_argument("--synth", nargs="*", default=[], help="extra synth overrides, e.g. image.width=480")
    p.add_argument("--workers", type=int, default=2, help="data loader workers")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: on a shared 2-core machine OpenMP spin-waits made 2 threads "
                        "2.5x slower per step than 1; 0 = torch's default)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, default=REPO / "outputs" / "bench_finetune", help="data and runs")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "finetune.md")
    p.add_argument("--tiny", action="store_true", help="smoke run: a few tiny scans and steps (meaningless figures)")
    return p


def model_overrides(ckpt: dict) -> list[str]:
    """Hydra overrides that rebuild the checkpoint's architecture: the model config whose detector
    matches it (so the from-scratch run trains the very same network)."""
    from omegaconf import OmegaConf

    from wildxray.hydra_compose import compose_config
    from wildxray.paths import config_dir

    want = {k: v for k, v in ckpt["config"]["model"]["detector"].items() if k not in ("weights", "freeze_stages")}
    for path in sorted((config_dir() / "model").glob("*.yaml")):
        det = OmegaConf.to_container(compose_config("train", [f"model={path.stem}", "output_dir=x"]).model.detector)
        if {k: v for k, v in det.items() if k not in ("weights", "freeze_stages")} == want:
            return [f"model={path.stem}"]
    raise SystemExit(f"no configs/model/*.yaml matches the checkpoint's detector {want}")


def synthesise(work: Path, args: argparse.Namespace) -> dict[str, Path]:
    from wildxray.xray.synth_config import load_synth_config
    from wildxray.xray.synth import ensure_dataset

    cfg = load_synth_config([f"scanner={args.scanner}", *args.synth])
    out = {}
    # Seed ranges far apart: no test scan is a training scan; far from the synthetic stream's seeds too.
    for split, n, seed in (("train", args.train_scans, 700_000 + args.seed), ("val", args.val_scans, 710_000 + args.seed),
                           ("test", args.test_scans, 720_000 + args.seed)):
        ann = work / "data" / split / "annotations.json"
        ensure_dataset(ann.parent, n=n, seed=seed, cfg=cfg, progress=False)
        out[split] = ann
    return out


def run_training(name: str, overrides: list[str], work: Path) -> tuple[Path, dict]:
    from wildxray.hydra_compose import compose_config
    from wildxray.training.train import train

    t0 = time.perf_counter()
    summary = train(compose_config("train", [*overrides, f"output_dir={work / name}"]))
    summary["wall_s"] = time.perf_counter() - t0
    return Path(summary["last_checkpoint"]), summary


def score(name: str, ckpt: Path, test_ann: Path, work: Path, n_bootstrap: int) -> dict:
    from wildxray.evaluation.evaluate import run_onnx_evaluation
    from wildxray.export.checkpoint_export import export_checkpoint

    onnx_path = export_checkpoint(ckpt, work / "onnx" / f"{name}.onnx", name=f"bench-{name}")
    res = run_onnx_evaluation(onnx_path, test_ann, work / "eval" / name, n_bootstrap=n_bootstrap, seed=0)
    point = next((p for p in res.parcel.at_far if abs(p.target_far - 0.01) < 1e-9), None)
    dr = point.detection_rate if point else None
    return {"mAP50": res.coco["mAP50"], "mAP50_95": res.coco["mAP"],  # None when nothing could be scored
            "dr_at_1pct": None if dr is None else dr.value, "dr_ci": None if dr is None else (dr.ci_low, dr.ci_high),
            "resolvable": bool(point.resolvable) if point else False, "auc": res.parcel.auc.value}


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "n/a"
    return f"{100 * v:.1f} %" if pct else f"{v:.3f}"


def write_markdown(path: Path, args: argparse.Namespace, rows: dict, runs: dict, n_test: dict, cmd: str) -> str:
    lines = [
        "# Fine-tuning the shipped model vs training from scratch on a new scanner",
        "",
        f"{args.train_scans} synthetic training scans of scanner profile `{args.scanner}`; the same "
        f"{args.steps} optimiser steps at batch {args.batch} for both runs; scored on the same "
        f"{n_test['parcels']} held-out `{args.scanner}` scans ({n_test['contraband']} with contraband, "
        f"{n_test['clean']} clean) through the exported ONNX model.",
        "",
        "| start | mAP50 | mAP50-95 | detection rate at 1 % FAR (95 % CI) | parcel AUC | train time |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("shipped", "starting checkpoint, no fine-tuning"), ("finetune", "fine-tuned from the shipped model"),
                        ("scratch", "from scratch (random init)")):
        r = rows.get(name)
        if r is None:
            continue
        ci = f" ({_fmt(r['dr_ci'][0], True)} – {_fmt(r['dr_ci'][1], True)})" if r["dr_ci"] else ""
        note = "" if r["resolvable"] else " †"
        wall = "–" if name not in runs else (f"{runs[name]['wall_s'] / 60:.1f} min" if runs[name]["wall_s"] >= 120
                                             else f"{runs[name]['wall_s']:.0f} s")
        lines.append(f"| {label} | {_fmt(r['mAP50'])} | {_fmt(r['mAP50_95'])} | {_fmt(r['dr_at_1pct'], True)}{ci}{note} "
                     f"| {_fmt(r['auc'])} | {wall} |")
    ft, sc = rows["finetune"], rows["scratch"]
    diffs = [f"{label} {scale * (ft[k] - sc[k]):+.{digits}f}{unit}"
             for k, label, scale, digits, unit in (("mAP50", "mAP50", 1, 3, ""), ("mAP50_95", "mAP50-95", 1, 3, ""),
                                                   ("dr_at_1pct", "detection rate at 1 % FAR", 100, 1, " points"))
             if ft[k] is not None and sc[k] is not None]
    lines += ["", "Fine-tuning minus scratch: " + (", ".join(diffs) or "n/a") + "."]
    if any(not r["resolvable"] for r in rows.values()):
        lines += ["", "† fewer than 100 clean test parcels: measured at zero false alarms."]
    if args.tiny:
        lines += ["", "**Smoke run (--tiny): a few tiny scans and steps; these figures mean nothing.**"]
    lines += ["", f"- checkpoint: `{args.checkpoint}`", f"- command: `{cmd}`",
              f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
              f"device {runs['finetune'].get('device', 'cpu')}, torch threads {runs['finetune'].get('threads')}",
              f"- date: {datetime.date.today().isoformat()}", ""]
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import torch

    from wildxray.training.checkpoint import load_checkpoint
    from wildxray.training.train import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.checkpoint.is_file():
        print(f"bench_finetune: checkpoint {args.checkpoint} not found (the shipped model is "
              "export/wildxray-xray.pt; pass --checkpoint)", file=sys.stderr)
        return 2
    if args.tiny:
        args.train_scans, args.val_scans, args.test_scans, args.steps, args.batch = 8, 4, 8, 2, 2
        args.synth = ["image.width=192", "image.height=144", *args.synth]
        args.workers, args.size = 0, args.size or 64
    ckpt = load_checkpoint(args.checkpoint)
    size = args.size or int(ckpt["config"]["input_size"])
    work = args.work.resolve()
    t0 = time.perf_counter()
    data = synthesise(work, args)
    print(f"synthesised {args.train_scans}+{args.val_scans}+{args.test_scans} {args.scanner} scans "
          f"in {time.perf_counter() - t0:.0f} s", flush=True)

    common = ["data=coco", f"data.train.ann_file={data['train']}", f"data.val.ann_file={data['val']}",
              *model_overrides(ckpt), f"input_size={size}", f"train.batch_size={args.batch}",
              f"train.max_steps={args.steps}", "train.epochs=100000", "train.early_stopping.patience=0",
              f"train.num_workers={args.workers}", "train.progress=false", f"device={args.device}",
              f"seed={args.seed}"]
    if args.tiny:
        common.append("train=smoke")
    runs = {}
    rows = {}
    n_boot = 100 if args.tiny else 1000
    rows["shipped"] = score("shipped", args.checkpoint, data["test"], work, n_boot)
    last, runs["finetune"] = run_training(
        "finetune", ["experiment=finetune", *common, f"train.init_from={args.checkpoint.resolve()}"], work)
    rows["finetune"] = score("finetune", last, data["test"], work, n_boot)
    last, runs["scratch"] = run_training("scratch", common, work)
    rows["scratch"] = score("scratch", last, data["test"], work, n_boot)
    for r in runs.values():
        r["device"], r["threads"] = str(resolve_device(args.device)), torch.get_num_threads()

    test = json.loads(data["test"].read_text())
    n_contraband = sum(bool(im.get("contraband")) for im in test["images"])
    n_test = {"parcels": len(test["images"]), "contraband": n_contraband, "clean": len(test["images"]) - n_contraband}
    cmd = "python benchmarks/bench_finetune.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(write_markdown(args.out, args, rows, runs, n_test, cmd.strip()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
