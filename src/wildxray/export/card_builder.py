"""The model card: what a station needs to run an exported model correctly (docs/internals.md).

Stored as JSON in the ONNX ``metadata_props`` under :data:`CARD_KEY` and beside the model as
``<stem>.card.json``. Normalisation is in 0..255 pixel units and happens inside the graph; the card
states it so nobody applies it twice.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from wildxray.core.colour import ENCODING_VERSION, XRAY_MODALITIES
from wildxray.gitinfo import git_commit
from wildxray.types import MODALITIES

CARD_KEY = "wildxray_card"
FORMAT_VERSION = 1
DEFAULT_OPERATING_THRESHOLD = 0.5


def build_card(
    *,
    name: str,
    classes: Sequence[str],
    input_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    score_threshold: float,
    iou_threshold: float,
    max_detections: int,
    opset: int,
    modality: str = "xray",
    padding_value: int = 114,
    thresholds: dict[str, float] | None = None,
    calibrated: bool = False,
    target_false_alarm_rate: float | None = None,
    calibration: dict | None = None,
    metrics: dict | None = None,
    training_data: dict | None = None,
    commit: str | None = None,
    export_date: str | None = None,
) -> dict:
    """Assemble a format-1 model card.

    Uncalibrated exports (the default) carry a 0.5 operating threshold per class and
    ``calibrated: false``; ``wildxray calibrate`` rewrites ``operating_point``.
    ``commit`` defaults to the checkout's HEAD, ``export_date`` to now (UTC, ISO 8601).
    """
    if not classes:
        raise ValueError("build_card: classes must not be empty")
    if modality not in MODALITIES:
        raise ValueError(f"build_card: modality '{modality}' not in {MODALITIES}")
    if len(mean) != 3 or len(std) != 3:
        raise ValueError(f"build_card: mean and std need 3 values, got {list(mean)} and {list(std)}")
    classes = [str(c) for c in classes]
    if thresholds is None:
        thresholds = {c: DEFAULT_OPERATING_THRESHOLD for c in classes}
    unknown = set(thresholds) - set(classes)
    if unknown or len(thresholds) != len(classes):
        raise ValueError(f"build_card: thresholds must name each class once; got {sorted(thresholds)} for {classes}")
    card = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "classes": classes,
        "input_size": int(input_size),
        "padding_value": int(padding_value),
        "modality": modality,
        "normalisation": {"mean": [float(v) for v in mean], "std": [float(v) for v in std], "units": "0..255 pixels, applied inside the graph"},
        "score_threshold": float(score_threshold),
        "iou_threshold": float(iou_threshold),
        "max_detections": int(max_detections),
        "opset": int(opset),
        "operating_point": {
            "thresholds": {c: float(thresholds[c]) for c in classes},
            "calibrated": bool(calibrated),
            "target_false_alarm_rate": target_false_alarm_rate,
            "validation": calibration,
        },
        "metrics": dict(metrics or {}),
        "training_data": dict(training_data or {}),
        "git_commit": commit if commit is not None else git_commit(),
        "export_date": export_date or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if modality in XRAY_MODALITIES:  # how raw dual energy was rendered into the RGB the model learnt from
        card["xray_encoding"] = ENCODING_VERSION
    return card
