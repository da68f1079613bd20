"""Write results folders like the station's (``OUT/<id>.json`` + images), checked against the schema.

Used by the viewer's unit and browser tests. Images are made with OpenCV (BGR on disk, RGB in memory).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import jsonschema
import numpy as np

from wildxray.paths import schema_dir
from wildxray.types import CLASS_NAMES

SCHEMA = json.loads((schema_dir() / "scan_result.schema.json").read_text())
T0 = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)


def parcel_image(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A pseudo-colour-looking parcel: orange organic clutter and a blue-green frame. HxWx3 uint8 RGB."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), (236, 232, 222), np.uint8)
    cv2.rectangle(img, (10, 10), (width - 11, height - 11), (70, 150, 160), 6)
    for _ in range(8):
        c = (int(rng.integers(30, width - 30)), int(rng.integers(30, height - 30)))
        axes = (int(rng.integers(10, 40)), int(rng.integers(8, 25)))
        colour = tuple(int(v) for v in (rng.integers(200, 240), rng.integers(120, 170), rng.integers(40, 80)))
        cv2.ellipse(img, c, axes, float(rng.integers(0, 180)), 0, 360, colour, -1)
    return img


def plain_image(width: int = 320, height: int = 240, grey: int = 96) -> np.ndarray:
    return np.full((height, width, 3), grey, np.uint8)


def write_rgb(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")


def write_scan(
    out: Path, scan_id: str, image: np.ndarray | None, detections: list[tuple[str, float, list[float]]],
    *, minutes: int = 0, source_name: str | None = None, thresholds: dict[str, float] | None = None,
    dual: bool = False, decision: str | None = None, error: dict | None = None,
) -> dict:
    """Write one scan's JSON and images into ``out``; returns the JSON (validated against the schema).

    detections: (label, score, xyxy box in image pixels); category id from CLASS_NAMES when known.
    """
    thresholds = thresholds or {name: 0.5 for name in CLASS_NAMES}
    dets = [
        {"label": lab, "category_id": (CLASS_NAMES.index(lab) + 1) if lab in CLASS_NAMES else 1, "score": s, "box": b}
        for lab, s, b in detections
    ]
    alarm = sorted({d["label"] for d in dets if d["score"] >= thresholds.get(d["label"], 0.5)})
    if decision is None:
        decision = "error" if image is None else ("alarm" if alarm else "clear")
    artifacts: dict[str, str | None] = {"overlay": None, "image": None, "high": None, "low": None}
    if image is not None:
        write_rgb(out / f"{scan_id}.image.jpg", image)
        overlay = image.copy()
        for d in dets:
            x1, y1, x2, y2 = (int(v) for v in d["box"])
            cv2.rectangle(overlay, (x1, y1), (x2, y2), (255, 0, 0), 2)
        write_rgb(out / f"{scan_id}.png", overlay)
        artifacts.update(image=f"{scan_id}.image.jpg", overlay=f"{scan_id}.png")
        if dual:
            grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
            write_rgb(out / f"{scan_id}.high.png", np.repeat(grey[:, :, None], 3, axis=2))
            write_rgb(out / f"{scan_id}.low.png", np.repeat((grey // 2)[:, :, None], 3, axis=2))
            artifacts.update(high=f"{scan_id}.high.png", low=f"{scan_id}.low.png")
    name = source_name or f"{scan_id}.png"
    result = {
        "schema_version": 1,
        "scan_id": scan_id,
        "source_path": f"/scanner/in/{name}",
        "source_name": name,
        "input_sha256": hashlib.sha256(scan_id.encode()).hexdigest(),
        "received_at": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        "model": {"name": "wildxray-small", "sha256": "0" * 64, "input_size": 640},
        "modality": None if image is None else ("xray_dual" if dual else "xray"),
        "image": None if image is None else {"width": int(image.shape[1]), "height": int(image.shape[0])},
        "detections": dets,
        "decision": decision,
        "alarm_classes": alarm if decision == "alarm" else [],
        "parcel_score": max((d["score"] for d in dets), default=0.0) if image is not None else None,
        "operating_point": {"thresholds": thresholds, "calibrated": True, "target_false_alarm_rate": 0.05},
        "error": error if image is None else None,
        "timings_ms": {"total": 12.5},
        "artifacts": artifacts,
    }
    jsonschema.validate(result, SCHEMA)
    (out / f"{scan_id}.json").write_text(json.dumps(result, indent=1))
    return result


# The box the pixel tests look for: a white block in a plain grey image, boxed exactly.
KNOWN_BOX = [100.0, 60.0, 180.0, 140.0]


def standard_folder(out: Path) -> dict[str, dict]:
    """A small realistic results folder: alarms, clear, an error, a dual-energy scan, a hostile name."""
    out.mkdir(parents=True, exist_ok=True)
    known = plain_image()
    x1, y1, x2, y2 = (int(v) for v in KNOWN_BOX)
    known[y1:y2, x1:x2] = 255
    scans = {
        "scan-known": write_scan(out, "scan-known", known, [("ivory", 0.91, KNOWN_BOX), ("bone", 0.62, [20.0, 20.0, 60.0, 50.0])], minutes=1),
        "scan-old-alarm": write_scan(out, "scan-old-alarm", parcel_image(seed=1), [("horn", 0.77, [150.0, 90.0, 230.0, 170.0])], minutes=0),
        "scan-clear": write_scan(out, "scan-clear", parcel_image(seed=2), [("skin", 0.21, [40.0, 40.0, 120.0, 110.0])], minutes=5),
        "scan-dual": write_scan(out, "scan-dual", parcel_image(seed=3), [("scales", 0.83, [60.0, 70.0, 160.0, 150.0])], minutes=3, dual=True),
        "scan-error": write_scan(out, "scan-error", None, [], minutes=4, error={"code": "truncated", "message": "file ends early"}),
        "scan-evil": write_scan(out, "scan-evil", parcel_image(seed=4), [("<script>window.__pwned=1</script>", 0.95, [30.0, 30.0, 90.0, 90.0])],
                                minutes=2, source_name="<script>window.__pwned=2</script>.png",
                                thresholds={**{n: 0.5 for n in CLASS_NAMES}}),
    }
    return scans
