"""An in-memory index of a results folder (the station's / ``wildxray predict``'s output).

The folder holds ``OUT/<scan_id>.json`` (``schemas/scan_result.schema.json``) and the image files
its ``artifacts`` name. The index is the only way from a request to a file: a request names a scan
id and an artifact kind, the index answers with a path it resolved itself, inside OUT, when it read
that scan's JSON. Nothing a client sends is ever joined onto a path.

Boxes stay as the results file gives them: xyxy floats in ORIGINAL image pixels.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from wildxray.types import CLASS_NAMES

SCAN_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
ARTIFACT_KINDS = ("image", "overlay", "high", "low")
_IMAGE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_DECISION_RANK = {"alarm": 0, "error": 1, "clear": 2}


@dataclass(frozen=True)
class Detection:
    """One detection of a scan. ``box``: xyxy in original image pixels; ``index``: position in the file."""

    index: int
    label: str
    category_id: int
    score: float
    box: tuple[float, float, float, float]


@dataclass
class ScanRecord:
    """What the viewer knows about one scan. ``artifacts`` maps kind -> resolved path inside OUT."""

    scan_id: str
    json_path: Path
    decision: str
    received_at: str
    received_ts: float
    source_name: str
    source_path: str
    modality: str | None
    width: int | None
    height: int | None
    detections: list[Detection]
    alarm_classes: list[str]
    parcel_score: float | None
    thresholds: dict[str, float]
    calibrated: bool
    error: dict | None
    model_name: str
    artifacts: dict[str, Path] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        """The model's class names (the operating point has one threshold per class, in label order)."""
        return list(self.thresholds) or list(CLASS_NAMES)

    def sort_key(self) -> tuple[int, float, str]:
        """Alarm first, then errors, then clear; newest first within each."""
        return (_DECISION_RANK.get(self.decision, 3), -self.received_ts, self.scan_id)


class ResultError(ValueError):
    """A results file that cannot be used; the message names the file and the field."""


def _need(cond: bool, path: Path, where: str, problem: str) -> None:
    if not cond:
        raise ResultError(f"{path}: {where}: {problem}")


def _parse_time(text: str, path: Path) -> float:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ResultError(f"{path}: received_at: not an ISO 8601 date-time: {text!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


def _resolve_artifact(out_dir: Path, name: object, path: Path, kind: str) -> Path | None:
    """The artifact's path if ``name`` is a plain image file name that exists inside OUT."""
    if name is None:
        return None
    _need(isinstance(name, str), path, f"artifacts.{kind}", "must be a file name or null")
    assert isinstance(name, str)
    plain = name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\x00" not in name
    _need(plain, path, f"artifacts.{kind}", f"{name!r} is not a plain file name inside the results folder")
    _need(Path(name).suffix.lower() in _IMAGE_SUFFIXES, path, f"artifacts.{kind}", f"{name!r} is not a PNG or JPEG")
    resolved = (out_dir / name).resolve()
    # A symlink pointing out of OUT is refused too.
    _need(resolved.parent == out_dir, path, f"artifacts.{kind}", f"{name!r} resolves outside the results folder")
    return resolved if resolved.is_file() else None


def parse_result(path: Path, out_dir: Path) -> ScanRecord:
    """Read and check one result JSON. Raises ResultError naming the file and the field."""
    out_dir = out_dir.resolve()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultError(f"{path}: not readable JSON: {exc}") from None
    _need(isinstance(data, dict), path, "top level", "must be an object")
    scan_id = data.get("scan_id")
    _need(isinstance(scan_id, str) and bool(SCAN_ID_RE.match(scan_id)), path, "scan_id", f"invalid: {scan_id!r}")
    _need(scan_id == path.stem, path, "scan_id", f"{scan_id!r} differs from the file name")
    decision = data.get("decision")
    _need(decision in _DECISION_RANK, path, "decision", f"must be alarm, clear or error, got {decision!r}")
    received_at = data.get("received_at")
    _need(isinstance(received_at, str), path, "received_at", "missing")
    image = data.get("image")
    width = height = None
    if image is not None:
        _need(isinstance(image, dict), path, "image", "must be an object or null")
        width, height = image.get("width"), image.get("height")
        ok = all(isinstance(v, int) and v > 0 for v in (width, height))
        _need(ok, path, "image", "width and height must be positive integers")
    op = data.get("operating_point") or {}
    thresholds = op.get("thresholds", {}) if isinstance(op, dict) else None
    _need(isinstance(thresholds, dict), path, "operating_point.thresholds", "must be an object")
    assert isinstance(thresholds, dict)
    for name, value in thresholds.items():
        _need(isinstance(value, (int, float)) and 0 <= value <= 1, path, f"operating_point.thresholds.{name}", "must be in [0, 1]")
    dets_raw = data.get("detections")
    _need(isinstance(dets_raw, list), path, "detections", "must be a list")
    detections = []
    for i, d in enumerate(dets_raw):
        where = f"detections[{i}]"
        _need(isinstance(d, dict), path, where, "must be an object")
        box = d.get("box")
        ok_box = isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
        _need(ok_box, path, f"{where}.box", "must be 4 numbers xyxy")
        _need(box[2] > box[0] and box[3] > box[1], path, f"{where}.box", f"{box} has non-positive size")
        score = d.get("score")
        _need(isinstance(score, (int, float)) and 0 <= score <= 1, path, f"{where}.score", "must be in [0, 1]")
        cat = d.get("category_id")
        _need(isinstance(cat, int) and cat >= 1, path, f"{where}.category_id", "must be an integer >= 1")
        _need(isinstance(d.get("label"), str), path, f"{where}.label", "must be a string")
        detections.append(Detection(i, d["label"], cat, float(score), tuple(float(v) for v in box)))  # type: ignore[arg-type]
    artifacts_raw = data.get("artifacts") or {}
    _need(isinstance(artifacts_raw, dict), path, "artifacts", "must be an object")
    artifacts = {}
    for kind in ARTIFACT_KINDS:
        resolved = _resolve_artifact(out_dir, artifacts_raw.get(kind), path, kind)
        if resolved is not None:
            artifacts[kind] = resolved
    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    return ScanRecord(
        scan_id=scan_id,
        json_path=path,
        decision=decision,
        received_at=received_at,
        received_ts=_parse_time(received_at, path),
        source_name=str(data.get("source_name", "")),
        source_path=str(data.get("source_path", "")),
        modality=data.get("modality"),
        width=width,
        height=height,
        detections=detections,
        alarm_classes=[str(c) for c in data.get("alarm_classes") or []],
        parcel_score=data.get("parcel_score"),
        thresholds={str(k): float(v) for k, v in thresholds.items()},
        calibrated=bool(op.get("calibrated", False)) if isinstance(op, dict) else False,
        error=data.get("error") if isinstance(data.get("error"), dict) else None,
        model_name=str(model.get("name", "")),
        artifacts=artifacts,
    )


def image_mime(path: Path) -> str:
    """Content type of an artifact path that the index resolved."""
    return _IMAGE_SUFFIXES[path.suffix.lower()]


class ResultsIndex:
    """Scans of one results folder, re-read at most every ``min_interval_s`` seconds.

    Unchanged files (same mtime and size) are not parsed again. Files that fail ``parse_result``
    are listed in ``problems`` ("file: field: problem") and left out of the queue.
    """

    def __init__(self, results_dir: str | Path, min_interval_s: float = 2.0) -> None:
        self.results_dir = Path(results_dir).resolve()
        if not self.results_dir.is_dir():
            raise FileNotFoundError(f"results folder {self.results_dir} does not exist")
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._cache: dict[Path, tuple[tuple[int, int], ScanRecord | str]] = {}
        self._scans: dict[str, ScanRecord] = {}
        self._problems: list[str] = []
        self._last = float("-inf")

    def refresh(self, force: bool = False) -> None:
        with self._lock:
            if not force and time.monotonic() - self._last < self.min_interval_s:
                return
            cache: dict[Path, tuple[tuple[int, int], ScanRecord | str]] = {}
            for path in sorted(self.results_dir.glob("*.json")):
                try:
                    st = path.stat()
                except OSError:
                    continue  # removed between glob and stat
                stamp = (st.st_mtime_ns, st.st_size)
                old = self._cache.get(path)
                if old is not None and old[0] == stamp:
                    cache[path] = old
                    continue
                try:
                    cache[path] = (stamp, parse_result(path, self.results_dir))
                except ResultError as exc:
                    cache[path] = (stamp, str(exc))
            self._cache = cache
            self._scans = {v.scan_id: v for _, v in cache.values() if isinstance(v, ScanRecord)}
            self._problems = [v for _, v in cache.values() if isinstance(v, str)]
            self._last = time.monotonic()

    def scans(self) -> list[ScanRecord]:
        """All readable scans, alarm first, then newest."""
        self.refresh()
        return sorted(self._scans.values(), key=ScanRecord.sort_key)

    def get(self, scan_id: str) -> ScanRecord | None:
        """The scan with this id, or None; ids that could not be file names are never looked up."""
        if not isinstance(scan_id, str) or not SCAN_ID_RE.match(scan_id):
            return None
        self.refresh()
        return self._scans.get(scan_id)

    @property
    def problems(self) -> list[str]:
        self.refresh()
        return list(self._problems)
