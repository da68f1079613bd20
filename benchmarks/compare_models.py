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
scans gives the 1 % cut more clean parcels to rest on. Scores are cached per model and set under
``--cache`` (keyed by the files' sizes and times), so a new model costs only its own pass. A card
calibrated on this very set chose its thresholds here: its figures are then in-sample for the
per-class thresholds (the sweep over the parcel score is not).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from wildxray.data.coco import load_coco
from wildxray.evaluation.inference import dataset_records
from wildxray.evaluation.paired import paired_detection_difference
from wildxray.runtime.session import OnnxDetector


def _cache_key(model: Path, data: Path) -> str:
    parts = [str(p.resolve()) + f":{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in (model, model.with_suffix(".card.json"), data)
             if p.exists()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def parcel_scores(model: Path, data: Path, threads: int, cache: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(score float [P], is_positive bool [P], source) in the set's image order, for ``model``: the
    parcel score of the station's own decision (``OnnxDetector.decide``)."""
    cached = cache / f"{model.stem}-{_cache_key(model, data)}.npz" if cache else None
    if cached is not None and cached.exists():
        z = np.load(cached)
        return z["scores"], z["positive"], str(z["source"])
    detector = OnnxDetector(model, threads=threads)
    _, records = dataset_records(detector, load_coco(data), detector.class_names, source=str(data))
    scores = np.array([detector.decide(r.detections).parcel_score for r in records], np.float64)
    positive = np.array([not r.is_clean for r in records], bool)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, scores=scores, positive=positive, source=np.array(detector.parcel_score_source))
    return scores, positive, detector.parcel_score_source


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
    p.add_argument("--cache", type=Path, default=None, help="folder for per-model parcel scores")
    args = p.parse_args(argv)
    models = []
    for spec in args.model:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).is_file():
            p.error(f"--model {spec!r}: expected NAME=PATH to an existing .onnx file")
        models.append((name, Path(path)))
    if len(models) < 2:
        p.error("give at least two --model")
    scored = []
    for name, path in models:
        parts = [parcel_scores(path, data, args.threads, args.cache) for data in args.data]
        s, pos = np.concatenate([q[0] for q in parts]), np.concatenate([q[1] for q in parts])
        source = parts[0][2]
        scored.append((name, s, pos, source))
        print(f"scored {name} ({path}, parcel score: {source}): {int((~pos).sum())} clean, {int(pos.sum())} contraband", file=sys.stderr)
    ref_name, ref, ref_pos, _ = scored[0]
    print(f"| vs {ref_name} | FAR | {ref_name} | model | model − {ref_name} (95 % paired CI) | P(model better) |")
    print("|---|---|---|---|---|---|")
    for name, s, pos, source in scored[1:]:
        if not np.array_equal(pos, ref_pos):
            raise SystemExit(f"{name}: its parcels do not match {ref_name}'s (same --data for both?)")
        for far in args.target_far:
            c = paired_detection_difference(ref, s, pos, far, args.n_bootstrap)
            d = c.difference
            print(f"| {name} ({source}) | {100 * far:g} % | {100 * c.detection_a.value:.1f} % | {100 * c.detection_b.value:.1f} % "
                  f"| {100 * d.value:+.1f} ({100 * d.ci_low:+.1f} … {100 * d.ci_high:+.1f}) | {c.share_b_better:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
