"""One scan, end to end: file -> pixels -> detections -> parcel decision -> result folder.

Shared by ``wildxray predict`` and the station so both write identical results. Never raises for a
bad input file: an unreadable image becomes an ``error`` result naming the cause.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection

from wildxray.core.errors import ImageReadError
from wildxray.core.image_io import read_image, read_image_header, to_model_image
from wildxray.runtime.decision import threshold_vector
from wildxray.runtime.overlay import draw_overlay
from wildxray.runtime.result import build_result, error_result, write_result
from wildxray.runtime.session import OnnxDetector
from wildxray.types import Detections

#: 64 MP: a 2,000 px wide belt scan 32,000 px long still passes; a decompression bomb does not.
DEFAULT_MAX_PIXELS = 64_000_000
#: Longest side over shortest side. Conveyor scans run to about 16:1; a 1 x 300 px image is no parcel,
#: and a 58 KB PNG of 1 x 60,000,000 px passes the pixel guard. Checked on the header, before decoding.
DEFAULT_MAX_ASPECT = 32.0


@dataclass
class ScanOutcome:
    """What happened to one scan: the result dict and where it was written (None: not written, see
    ``process_file``'s ``provisional_codes``)."""

    result: dict[str, Any]
    json_path: Path | None

    @property
    def decision(self) -> str:
        return str(self.result["decision"])

    @property
    def error_code(self) -> str | None:
        err = self.result.get("error")
        return None if err is None else str(err["code"])


def file_sha256(path: Path) -> str | None:
    """sha256 of a file's bytes, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def aspect_problem(height: int, width: int, max_aspect: float) -> str | None:
    """Why an image of ``height x width`` is too elongated to predict, or None."""
    ratio = max(height, width) / max(1, min(height, width))
    if ratio <= max_aspect:
        return None
    return (f"image of {width}x{height} pixels has an aspect ratio of {ratio:.4g}:1, more than the limit of "
            f"{max_aspect:g}:1 (no parcel scan is that elongated)")


def process_file(detector: OnnxDetector, path: str | Path, out_dir: str | Path, scan_id: str, *,
                 source_path: str | None = None, source_name: str | None = None,
                 received_at: str | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, max_aspect: float = DEFAULT_MAX_ASPECT,
                 extra_timings: dict[str, float] | None = None,
                 fsync: bool = True, provisional_codes: Collection[str] = ()) -> ScanOutcome:
    """Predict one image file and write ``out_dir/<scan_id>.json`` + images.

    path: the file to read (may be a work copy); source_path: what the result names as the source
    (defaults to ``path``), source_name its file name (default: the last part of source_path).
    Errors reading or predicting the image give an ``error`` result, and so does an image whose
    header declares an aspect ratio above ``max_aspect`` (code ``aspect_ratio``). A read error whose
    code is in ``provisional_codes`` is returned without being written (``json_path`` None): the
    station passes ``truncated`` for a hot-folder file whose writer may not have finished.
    """
    path = Path(path)
    src = str(source_path if source_path is not None else path)
    timings: dict[str, float] = dict(extra_timings or {})
    t0 = time.perf_counter()
    sha = file_sha256(path)
    shown = source_name if source_name is not None else Path(src).name  # the name operators know
    common = dict(scan_id=scan_id, source_path=src, input_sha256=sha, model=detector.info,
                  card=detector.card, received_at=received_at, source_name=source_name)
    try:
        header = read_image_header(path)
        too_long = aspect_problem(header.height, header.width, max_aspect)
        if too_long:
            timings["read"] = (time.perf_counter() - t0) * 1e3
            timings["total"] = timings["read"] + sum((extra_timings or {}).values())
            result = error_result(code="aspect_ratio", message=f"{shown}: {too_long}", timings_ms=timings, **common)
            return ScanOutcome(result, write_result(out_dir, result, fsync=fsync))
        raw = read_image(path, max_pixels=max_pixels)
        t1 = time.perf_counter()
        modality_hint = detector.card.get("modality")
        rgb, modality = to_model_image(raw, modality_hint if modality_hint in ("xray", "photo") else "xray")
        t2 = time.perf_counter()
        dets = detector.predict(rgb)
        t3 = time.perf_counter()
        dec = detector.decide(dets)  # box or parcel-head scores, as the card was calibrated
    except ImageReadError as exc:
        timings["read"] = (time.perf_counter() - t0) * 1e3
        timings["total"] = timings["read"] + sum(v for k, v in (extra_timings or {}).items())
        result = error_result(code=exc.code, message=f"{shown}: {exc.message}", timings_ms=timings, **common)
        if exc.code in provisional_codes:
            return ScanOutcome(result, None)
        return ScanOutcome(result, write_result(out_dir, result, fsync=fsync))
    except Exception as exc:  # noqa: BLE001 - a scan must never take the station down
        # e.g. an OpenCV/onnxruntime failure on a strange image; the cause travels in the result.
        timings["total"] = (time.perf_counter() - t0) * 1e3
        result = error_result(code="predict_failed", message=f"{shown}: {type(exc).__name__}: {exc}",
                              timings_ms=timings, **common)
        return ScanOutcome(result, write_result(out_dir, result, fsync=fsync))
    timings.update(read=(t1 - t0) * 1e3, encode=(t2 - t1) * 1e3, infer=(t3 - t2) * 1e3)
    result = build_result(modality=modality, image_hw=rgb.shape[:2], detections=dets,
                          class_names=detector.class_names, decision=dec.decision,
                          alarm_classes=dec.alarm_classes, parcel_score=dec.parcel_score,
                          timings_ms=timings, **common)
    # The overlay shows what reached its class threshold (the JSON keeps every detection above the
    # model's score floor, for the viewer's slider and for evaluation).
    at_threshold = dets.scores >= threshold_vector(detector.class_names, detector.thresholds)[dets.labels]
    shown_dets = Detections(dets.boxes[at_threshold], dets.scores[at_threshold], dets.labels[at_threshold])
    overlay = draw_overlay(rgb, shown_dets, detector.class_names, dec.alarm_classes)
    is_raw = raw.ndim == 3 and raw.shape[2] == 2
    # Timings stop before the image files are written: the JSON carries them and is written last.
    result["timings_ms"]["total"] = round((time.perf_counter() - t0) * 1e3
                                          + sum((extra_timings or {}).values()), 3)
    json_path = write_result(out_dir, result, overlay, rgb, raw if is_raw else None, fsync=fsync)
    return ScanOutcome(result, json_path)
