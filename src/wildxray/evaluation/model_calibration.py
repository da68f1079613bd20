"""``calibrate_model``: per-class operating thresholds of an exported model, written into its card.

What ``wildxray calibrate`` does, as library calls (the demo and the tests call them too): run the
ONNX model on a labelled validation set exactly as the station would, pick the thresholds
(:func:`wildxray.evaluation.calibration.calibrate_sources`) and store them, with the target and the
validation figures, in the model card (ONNX metadata and ``<model>.card.json``). Torch-free.

    run = calibrate_model(Path("export/model.onnx"), Path("data/val/annotations.json"), target_far=0.01)
    print(calibration_summary(run))
    write_operating_point(run)  # -> (the .onnx written, its .card.json)
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wildxray.data.coco import load_coco
from wildxray.evaluation.calibration import (
    OperatingPoint,
    calibrate_sources,
    card_operating_point,
    clean_parcels_needed,
)
from wildxray.evaluation.inference import dataset_records
from wildxray.runtime.model_card import read_card, validate_card, write_card
from wildxray.runtime.session import OnnxDetector


@dataclass
class ModelCalibration:
    """A calibrated operating point for ``model``: the chosen point, every point by parcel-score source
    (``boxes``, and ``parcel_head`` for a model with a parcel head) and the card they go into."""

    model: Path
    card: dict[str, Any]
    chosen: OperatingPoint
    points: dict[str, OperatingPoint]

    def to_dict(self) -> dict[str, Any]:
        """The chosen point with ``by_source``: what ``wildxray calibrate --json`` prints."""
        return self.chosen.to_dict() | {"by_source": {k: v.to_dict() for k, v in self.points.items()}}


def calibrate_model(model: Path, data: Path, images: Path | None = None, target_far: float = 0.01,
                    threads: int | None = None, parcel_score: str = "auto") -> ModelCalibration:
    """Run ``model`` on the COCO set ``data`` (images under ``images``, default the file's folder) and
    calibrate for ``target_far``; writes nothing.

    parcel_score: ``"auto"`` | ``"boxes"`` | ``"parcel_head"`` (see ``calibrate_sources``).
    Raises ModelCardError, ModelContractError, FileNotFoundError, DatasetError, CalibrationError or
    ValueError for a model, dataset or set that cannot be calibrated."""
    card = validate_card(read_card(model), model)
    detector = OnnxDetector(model, threads=threads)
    dataset = load_coco(data, images)
    _, records = dataset_records(detector, dataset, card["classes"], source=str(data))
    chosen, points = calibrate_sources(records, card["classes"], target_far, parcel_score)
    return ModelCalibration(Path(model), card, chosen, points)


def write_operating_point(run: ModelCalibration, output: Path | None = None) -> tuple[Path, Path]:
    """Store the operating point in the model's card: in place, or in a copy of the model at ``output``.

    Returns (the model file written, its card JSON)."""
    target = run.model
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run.model, output)
        target = output
    run.card["operating_point"] = card_operating_point(run.points, run.chosen)
    return target, write_card(target, run.card)


def calibration_summary(run: ModelCalibration) -> str:
    """The human-readable report ``wildxray calibrate`` prints: every source tried, the achieved rates
    with their 95 % bound, the thresholds and why a target is not shown."""
    op = run.chosen
    lines = [f"model: {run.model}"]
    for name, other in run.points.items():
        lines.append(f"scored on {name}: detection {100 * other.detection_rate:.1f} % at {other.false_alarms}/"
                     f"{other.n_clean} false alarms" + ("  <- used" if other is op else ""))
    lines += [
        f"validation: {op.n_contraband} contraband, {op.n_clean} clean parcels",
        f"target false-alarm rate: {100 * op.target_far:g} % (at most {op.allowed_false_alarms} clean "
        f"parcel{'' if op.allowed_false_alarms == 1 else 's'})",
        f"achieved: false alarms {op.false_alarms}/{op.n_clean} = {100 * op.false_alarm_rate:.2f} % "
        f"(95 % upper bound {100 * op.false_alarm_rate_upper95:.2f} %), "
        f"detection {100 * op.detection_rate:.1f} % of contraband parcels",
        "thresholds: " + ", ".join(f"{k}={v:.4f}" for k, v in op.thresholds.items()),
    ]
    rates = [f"{k}={'n/a' if v is None else f'{100 * v:.1f} %'}" for k, v in op.per_class_detection_rate.items()]
    lines.append("per-class detection: " + ", ".join(rates))
    if op.reason:
        lines.append(("NOT ACHIEVABLE: " if not op.achievable else "note: ") + op.reason)
    elif op.false_alarm_rate_upper95 > 2 * op.target_far:
        lines.append(
            f"note: {op.n_clean} clean parcels bound the station's false-alarm rate only to "
            f"{100 * op.false_alarm_rate_upper95:.1f} % (95 %); calibrate on about "
            f"{clean_parcels_needed(op.target_far)} clean parcels to bound it within twice the target")
    return "\n".join(lines)
