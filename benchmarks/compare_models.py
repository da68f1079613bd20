"""Paired comparison of exported models at a fixed false-alarm rate on the same labelled parcels.

Each model (``--model NAME=path.onnx``, the first is the reference) runs over the same COCO set
through onnxruntime as the station runs it; each parcel gets the score its card decides on (the
card's ``parcel_score`` source and thresholds: ``OnnxDetector.decide``, what the station runs).
Then every model is set against the reference with a paired stratified bootstrap
(``wildxray.evaluation.paired``): detection at ``--target-far`` of both, the difference with its
95 % interval, and the share of replicates where the model catches more than the reference.
Answers "is run B better than the shipped model, or is that the set's noise?" before shipping.

    python benchmarks/compare_models.py --data outputs/sets/calib555/annotations.json \
        --model run6=export/wildxray-xray.onnx --model run8a=outputs/run8a.onnx --cache outputs/compare
    python benchmarks/compare_models.py --data outputs/sets/calib555/annotations.json \
        outputs/sets/clean556/annotations.json --model run6=... --model run8a=... --target-far 0.01 0.02 0.05

Several ``--data`` files are pooled: a calibration set plus ``wildxray synth ... clean_fraction=1.0``
scans gives the 1 % cut more clean parcels to rest on. What each model ran to is cached per model
and set under ``--cache`` (keyed by the files' sizes and times), so a new model costs only its own
pass. A card calibrated on this very set chose its thresholds here: its figures are then in-sample
for the per-class thresholds (the sweep over the parcel score is not).

``--calibrate-on`` makes the comparison held out and fair at every rate: instead of the card (tuned
at one rate, often on the very parcels it is judged on), each model is calibrated on those files
at each ``--target-far`` as ``wildxray calibrate --parcel-score auto`` would (per-class thresholds,
and whichever of boxes or parcel head catches more there), then judged on ``--data`` alone:

    python benchmarks/compare_models.py --calibrate-on outputs/sets/calib555/annotations.json \
        --data outputs/sets/clean556/annotations.json outputs/sets/contra557/annotations.json \
        --model run6=export/wildxray-xray.onnx --model run11=outputs/run11.onnx --target-far 0.01 0.05
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from wildxray.data.coco import load_coco
from wildxray.evaluation.calibration import calibrate_sources, score_matrix
from wildxray.evaluation.inference import dataset_records
from wildxray.evaluation.paired import paired_detection_difference
from wildxray.evaluation.records import ParcelRecord
from wildxray.runtime.decision import parcel_decision, parcel_evidence
from wildxray.runtime.session import OnnxDetector
from wildxray.types import Detections, Target


def _cache_key(model: Path, data: Path) -> str:
    parts = [str(p.resolve()) + f":{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in (model, model.with_suffix(".card.json"), data)
             if p.exists()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _summarise(records: list[ParcelRecord], n_classes: int) -> dict[str, np.ndarray]:
    """Per parcel: the highest box score per class (-inf: none), the parcel head (NaN: no head) and
    the classes it holds. Every parcel decision and calibration depends on no more than this."""
    head = np.full((len(records), n_classes), np.nan)
    held = np.zeros((len(records), n_classes), bool)
    for i, r in enumerate(records):
        if r.detections.parcel_scores is not None:
            head[i] = r.detections.parcel_scores
        held[i, r.target.labels] = True
    return {"box": score_matrix(records, n_classes), "head": head, "held": held}


def _records(ev: dict[str, np.ndarray]) -> list[ParcelRecord]:
    """Compact records back from :func:`_summarise`: one detection per detected class at its best score."""
    out = []
    for i, (box, head, held) in enumerate(zip(ev["box"], ev["head"], ev["held"])):
        seen = np.flatnonzero(np.isfinite(box))
        labels = np.flatnonzero(held)
        out.append(ParcelRecord(
            Target(np.zeros((len(labels), 4), np.float32), labels, image_id=i),
            Detections(np.zeros((len(seen), 4), np.float32), box[seen], seen, None if np.isnan(head).any() else head)))
    return out


def model_records(detector: OnnxDetector, model: Path, data: Path, cache: Path | None) -> list[ParcelRecord]:
    """The compact records (:func:`_records`) of ``detector`` (loaded from ``model``) on ``data``, in the
    set's image order."""
    cached = cache / f"{model.stem}-{_cache_key(model, data)}-evidence.npz" if cache else None
    if cached is not None and cached.exists():
        return _records(dict(np.load(cached)))
    _, records = dataset_records(detector, load_coco(data), detector.class_names, source=str(data))
    ev = _summarise(records, len(detector.class_names))
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, **ev)
    return _records(ev)


def decided_scores(records: list[ParcelRecord], decide) -> np.ndarray:
    """The parcel score of ``decide(detections)`` (a ParcelDecision) for every record: float64 [P]."""
    return np.array([decide(r.detections).parcel_score for r in records], np.float64)


def calibrated_decider(records: list[ParcelRecord], class_names: list[str], target_far: float):
    """(decide, source): the decision ``wildxray calibrate --parcel-score auto`` would ship after
    calibrating on ``records`` at ``target_far``."""
    chosen, _ = calibrate_sources(records, class_names, target_far, "auto")
    return (lambda d: parcel_decision(parcel_evidence(d, chosen.parcel_score), class_names, chosen.thresholds),
            chosen.parcel_score)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, nargs="+", required=True,
                   help="COCO annotation file(s), images beside each; several are pooled (for instance a "
                        "calibration set and a set of extra clean parcels)")
    p.add_argument("--model", action="append", required=True, metavar="NAME=PATH",
                   help="an exported .onnx with its card; give two or more, the first is the reference")
    p.add_argument("--target-far", type=float, nargs="+", default=[0.01], help="false-alarm rates (fractions)")
    p.add_argument("--n-bootstrap", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    p.add_argument("--cache", type=Path, default=None, help="folder for what each model ran to, per set")
    p.add_argument("--calibrate-on", type=Path, nargs="+", default=None, metavar="COCO",
                   help="calibrate every model on these files at each --target-far (instead of its card) "
                        "and judge it on --data alone")
    args = p.parse_args(argv)
    models = []
    for spec in args.model:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).is_file():
            p.error(f"--model {spec!r}: expected NAME=PATH to an existing .onnx file")
        models.append((name, Path(path)))
    if len(models) < 2:
        p.error("give at least two --model")
    if args.calibrate_on and {q.resolve() for q in args.calibrate_on} & {q.resolve() for q in args.data}:
        p.error("--calibrate-on and --data share a file: the parcels a model is judged on must be held out")
    scored = []  # (name, {far: (scores, source)})
    positive = None
    for name, path in models:
        detector = OnnxDetector(path, threads=args.threads)
        records = [r for data in args.data for r in model_records(detector, path, data, args.cache)]
        pos = np.array([not r.is_clean for r in records], bool)
        if positive is None:
            positive = pos
        elif not np.array_equal(pos, positive):
            raise SystemExit(f"{name}: its parcels do not match {models[0][0]}'s")
        by_far = {}
        if args.calibrate_on:
            calib = [r for data in args.calibrate_on for r in model_records(detector, path, data, args.cache)]
            for far in args.target_far:
                decide, source = calibrated_decider(calib, detector.class_names, far)
                by_far[far] = (decided_scores(records, decide), source)
        else:
            scores = decided_scores(records, detector.decide)
            by_far = {far: (scores, detector.parcel_score_source) for far in args.target_far}
        scored.append((name, by_far))
        how = "calibrated on --calibrate-on per rate" if args.calibrate_on else f"its card, parcel score: {detector.parcel_score_source}"
        print(f"scored {name} ({path}, {how}): {int((~pos).sum())} clean, {int(pos.sum())} contraband", file=sys.stderr)
    ref_name, ref = scored[0]
    print(f"| vs {ref_name} | FAR | {ref_name} | model | model − {ref_name} (95 % paired CI) | P(model better) |")
    print("|---|---|---|---|---|---|")
    for name, by_far in scored[1:]:
        for far in args.target_far:
            (s, source), (r, ref_source) = by_far[far], ref[far]
            c = paired_detection_difference(r, s, positive, far, args.n_bootstrap)
            d = c.difference
            label = f"{name} ({source}; {ref_name}: {ref_source})" if args.calibrate_on else f"{name} ({source})"
            print(f"| {label} | {100 * far:g} % | {100 * c.detection_a.value:.1f} % | {100 * c.detection_b.value:.1f} % "
                  f"| {100 * d.value:+.1f} ({100 * d.ci_low:+.1f} … {100 * d.ci_high:+.1f}) | {c.share_b_better:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
