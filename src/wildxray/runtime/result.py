"""Result records of one scan (DESIGN.md "Result of one scan") and the results-folder writer.

``build_result`` / ``error_result`` return dicts valid against ``schemas/scan_result.schema.json``.
``write_result`` writes, relative to the results folder ``OUT`` (docs/internals.md):
``<id>.png`` overlay, ``<id>.image.jpg`` clean model view, ``<id>.high.png``/``<id>.low.png`` for
dual-energy raw inputs, and last, atomically, ``<id>.json`` - the JSON is the commit point: a
reader that sees it sees the images too.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from wildxray.core.atomic_write import atomic_write_bytes
from wildxray.paths import schema_dir
from wildxray.types import Detections

SCHEMA_VERSION = 1
SCAN_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def new_scan_id(now: _dt.datetime | None = None) -> str:
    """A server-made scan id: UTC time + 48 random bits, e.g. ``20250101T120000123-1a2b3c4d5e6f``.

    Sorts by arrival time and matches ``^[A-Za-z0-9_-]{1,80}$``; no client string is ever part of it.
    """
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}-" + secrets.token_hex(6)


def is_scan_id(text: str) -> bool:
    """True when ``text`` is a well-formed scan id (safe to use as a file name)."""
    return bool(SCAN_ID_RE.match(text))


def utc_now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _operating_point(card: Mapping[str, Any]) -> dict[str, Any]:
    op = card.get("operating_point", {})
    return {"thresholds": {k: float(v) for k, v in op.get("thresholds", {}).items()},
            "calibrated": bool(op.get("calibrated", False)),
            "target_false_alarm_rate": op.get("target_false_alarm_rate")}


def _base(scan_id: str, source_path: str, input_sha256: str | None, received_at: str | None,
          model: Mapping[str, Any], card: Mapping[str, Any], source_name: str | None) -> dict[str, Any]:
    if not is_scan_id(scan_id):
        raise ValueError(f"scan id {scan_id!r} does not match {SCAN_ID_RE.pattern}")
    return {
        "schema_version": SCHEMA_VERSION,
        "scan_id": scan_id,
        "source_path": str(source_path),
        "source_name": source_name if source_name is not None else Path(str(source_path)).name,
        "input_sha256": input_sha256,
        "received_at": received_at or utc_now_iso(),
        "model": dict(model),
    }


def build_result(*, scan_id: str, source_path: str, input_sha256: str | None, model: Mapping[str, Any],
                 card: Mapping[str, Any], modality: str | None, image_hw: tuple[int, int],
                 detections: Detections, class_names: Sequence[str], decision: str,
                 alarm_classes: Sequence[str], parcel_score: float, timings_ms: Mapping[str, float],
                 received_at: str | None = None, source_name: str | None = None) -> dict[str, Any]:
    """The result of a successfully predicted scan.

    detections: boxes xyxy float32 [K,4] in ORIGINAL pixels of the ``image_hw`` (h, w) image.
    model: ``{"name", "sha256", "input_size"}`` (``OnnxDetector.info``).
    decision/alarm_classes/parcel_score: from ``wildxray.runtime.decision.parcel_decision``.
    """
    if decision not in ("alarm", "clear"):
        raise ValueError(f"decision must be 'alarm' or 'clear' for a predicted scan, got {decision!r}")
    h, w = image_hw
    order = np.argsort(-detections.scores, kind="stable")
    dets = [{"label": class_names[int(detections.labels[i])],
             "category_id": int(detections.labels[i]) + 1,
             "score": round(min(1.0, max(0.0, float(detections.scores[i]))), 6),
             "box": [round(float(v), 2) for v in detections.boxes[i]]} for i in order]
    out = _base(scan_id, source_path, input_sha256, received_at, model, card, source_name)
    out.update({
        "modality": modality,
        "image": {"width": int(w), "height": int(h)},
        "detections": dets,
        "decision": decision,
        "alarm_classes": sorted(set(alarm_classes)),
        "parcel_score": round(min(1.0, max(0.0, float(parcel_score))), 6),
        "operating_point": _operating_point(card),
        "error": None,
        "timings_ms": {k: round(max(0.0, float(v)), 3) for k, v in timings_ms.items()},
        "artifacts": {"overlay": None, "image": None, "high": None, "low": None},
    })
    return out


def error_result(*, scan_id: str, source_path: str, input_sha256: str | None, model: Mapping[str, Any],
                 card: Mapping[str, Any], code: str, message: str, timings_ms: Mapping[str, float] | None = None,
                 received_at: str | None = None, source_name: str | None = None) -> dict[str, Any]:
    """The result of a scan that could not be predicted (``decision == "error"``), naming the cause."""
    out = _base(scan_id, source_path, input_sha256, received_at, model, card, source_name)
    out.update({
        "modality": None, "image": None, "detections": [], "decision": "error", "alarm_classes": [],
        "parcel_score": None, "operating_point": _operating_point(card),
        "error": {"code": str(code), "message": str(message)},
        "timings_ms": {k: round(max(0.0, float(v)), 3) for k, v in (timings_ms or {}).items()},
        "artifacts": {"overlay": None, "image": None, "high": None, "low": None},
    })
    return out


@lru_cache(maxsize=1)
def result_schema() -> dict[str, Any]:
    """The scan-result JSON Schema (``schemas/scan_result.schema.json``)."""
    return json.loads((schema_dir() / "scan_result.schema.json").read_text())


def _encode(ext: str, rgb_or_grey: np.ndarray, params: list[int]) -> bytes:
    arr = rgb_or_grey
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)  # OpenCV encoders expect BGR
    ok, buf = cv2.imencode(ext, arr, params)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {arr.shape} image as {ext}")
    return buf.tobytes()


def raw_to_views(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dual-energy raw HxWx2 uint16 [high, low] transmission -> two HxW uint8 grey views."""
    views = (raw.astype(np.uint32) * 255 + 32767) // 65535  # exact rounding of x / 257
    return views[..., 0].astype(np.uint8), views[..., 1].astype(np.uint8)


def write_result(out_dir: str | Path, result: dict[str, Any], overlay_rgb: np.ndarray | None = None,
                 image_rgb: np.ndarray | None = None, raw: np.ndarray | None = None,
                 fsync: bool = True) -> Path:
    """Write a result and its images into ``out_dir``; fills ``result["artifacts"]``; returns the JSON path.

    overlay_rgb/image_rgb: HxWx3 uint8 RGB (overlay PNG, clean JPEG); raw: HxWx2 uint16 dual energy.
    The JSON is written last, atomically (temporary file, fsync when ``fsync``, ``os.replace``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sid = result["scan_id"]
    if not is_scan_id(sid):  # the id becomes a file name: never let a malformed one through
        raise ValueError(f"scan id {sid!r} does not match {SCAN_ID_RE.pattern}")
    arts: dict[str, str | None] = {"overlay": None, "image": None, "high": None, "low": None}
    png = [cv2.IMWRITE_PNG_COMPRESSION, 1]  # fast: these are written for every scan
    if overlay_rgb is not None:
        arts["overlay"] = f"{sid}.png"
        atomic_write_bytes(out / arts["overlay"], _encode(".png", overlay_rgb, png), False)
    if image_rgb is not None:
        arts["image"] = f"{sid}.image.jpg"
        atomic_write_bytes(out / arts["image"], _encode(".jpg", image_rgb, [cv2.IMWRITE_JPEG_QUALITY, 90]), False)
    if raw is not None:
        high, low = raw_to_views(raw)
        arts["high"], arts["low"] = f"{sid}.high.png", f"{sid}.low.png"
        atomic_write_bytes(out / arts["high"], _encode(".png", high, png), False)
        atomic_write_bytes(out / arts["low"], _encode(".png", low, png), False)
    result["artifacts"] = arts
    path = out / f"{sid}.json"
    atomic_write_bytes(path, (json.dumps(result, indent=2) + "\n").encode(), fsync)
    return path
