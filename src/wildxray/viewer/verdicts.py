"""Inspector verdicts on boxes and parcels: recording (with the audit log) and reading back.

Items of a scan:
- ``det:<i>``: the i-th detection of the result file; verdicts ``confirm``, ``reject``, ``relabel``.
- ``add:<id>``: a box the inspector drew (a missed object); created by ``added``, then ``relabel``
  changes its class and ``reject`` removes it.
Every verdict is a new row; the latest row per (scan, item) is the verdict in force. Boxes are
xyxy floats in ORIGINAL image pixels, like the results file.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from dataclasses import dataclass, field

from wildxray.viewer.db import VerdictDB, audit, utc_now
from wildxray.viewer.index import ScanRecord

BOX_VERDICTS = ("confirm", "reject", "relabel", "added")
PARCEL_VERDICTS = ("contraband", "clear")
_ITEM_RE = re.compile(r"^(det:(0|[1-9][0-9]{0,5})|add:[0-9a-f]{12})$")
MIN_BOX_SIDE = 2.0


class VerdictError(ValueError):
    """A verdict that cannot be recorded; the message says which field is wrong."""


@dataclass(frozen=True)
class BoxVerdict:
    """The verdict in force on one item. ``box``: the box to train on (xyxy, original pixels)."""

    item: str
    verdict: str
    label: str | None
    box: tuple[float, float, float, float] | None
    det_label: str | None
    det_score: float | None
    inspector: str
    created_at: str


@dataclass(frozen=True)
class ParcelVerdict:
    verdict: str
    note: str
    inspector: str
    created_at: str


@dataclass
class ScanVerdicts:
    """Latest verdicts of one scan."""

    boxes: dict[str, BoxVerdict] = field(default_factory=dict)
    parcel: ParcelVerdict | None = None

    @property
    def state(self) -> str:
        """``reviewed`` (parcel verdict given), ``partial`` (only box verdicts) or ``pending``."""
        if self.parcel is not None:
            return "reviewed"
        return "partial" if self.boxes else "pending"


def check_box(box: object, scan: ScanRecord) -> tuple[float, float, float, float]:
    """Validate an xyxy box drawn by an inspector and clip it to the image."""
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
        raise VerdictError("box: must be a list of 4 numbers [x1, y1, x2, y2]")
    if not all(math.isfinite(v) for v in box):
        raise VerdictError("box: numbers must be finite")
    if scan.width is None or scan.height is None:
        raise VerdictError(f"scan {scan.scan_id} has no image to draw on")
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, x2 = sorted((min(max(x1, 0.0), scan.width), min(max(x2, 0.0), scan.width)))
    y1, y2 = sorted((min(max(y1, 0.0), scan.height), min(max(y2, 0.0), scan.height)))
    if x2 - x1 < MIN_BOX_SIDE or y2 - y1 < MIN_BOX_SIDE:
        raise VerdictError(f"box: smaller than {MIN_BOX_SIDE:g} pixels inside the image")
    return (x1, y1, x2, y2)


def _check_label(label: object, scan: ScanRecord) -> str:
    if label not in scan.classes:
        raise VerdictError(f"label: {label!r} is not one of the model's classes {scan.classes}")
    return str(label)


def record_box_verdict(
    db: VerdictDB, scan: ScanRecord, inspector: str, item: str | None, verdict: str,
    label: str | None = None, box: object = None,
) -> BoxVerdict:
    """Record a verdict on a detection or an added box; ``item`` is None when adding a new box."""
    if verdict not in BOX_VERDICTS:
        raise VerdictError(f"verdict: must be one of {BOX_VERDICTS}, got {verdict!r}")
    current = scan_verdicts(db, scan.scan_id).boxes
    det_label = det_score = det_box = None
    out_box: tuple[float, float, float, float] | None = None
    if verdict == "added":
        if item is not None:
            raise VerdictError("item: must be absent when adding a box")
        item = "add:" + secrets.token_hex(6)
        label = _check_label(label, scan)
        out_box = check_box(box, scan)
    else:
        if not isinstance(item, str) or not _ITEM_RE.match(item):
            raise VerdictError(f"item: {item!r} is not 'det:<index>' or 'add:<id>'")
        if item.startswith("det:"):
            index = int(item[4:])
            if index >= len(scan.detections):
                raise VerdictError(f"item: scan {scan.scan_id} has no detection {index}")
            det = scan.detections[index]
            det_label, det_score, det_box = det.label, det.score, det.box
            out_box = det.box
            label = _check_label(label, scan) if verdict == "relabel" else det.label
        else:
            prev = current.get(item)
            if prev is None or prev.box is None:
                raise VerdictError(f"item: scan {scan.scan_id} has no added box {item}")
            if verdict == "confirm":
                raise VerdictError("verdict: an added box is confirmed already; relabel or reject it")
            out_box = prev.box
            label = _check_label(label, scan) if verdict == "relabel" else prev.label
    row = BoxVerdict(item, verdict, label, out_box, det_label, det_score, inspector, utc_now())
    with db.connect() as con:
        con.execute(
            "INSERT INTO box_verdicts (scan_id, item, verdict, label, box, det_label, det_score, det_box, inspector, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (scan.scan_id, item, verdict, label, json.dumps(out_box), det_label, det_score,
             json.dumps(det_box) if det_box else None, inspector, row.created_at),
        )
        audit(con, inspector, f"box_{verdict}", scan.scan_id,
              {"item": item, "label": label, "box": out_box, "was": current[item].verdict if item in current else None})
    return row


def record_parcel_verdict(db: VerdictDB, scan: ScanRecord, inspector: str, verdict: str, note: str = "") -> ParcelVerdict:
    """Record the inspector's verdict on the whole parcel."""
    if verdict not in PARCEL_VERDICTS:
        raise VerdictError(f"verdict: must be one of {PARCEL_VERDICTS}, got {verdict!r}")
    if not isinstance(note, str) or len(note) > 2000:
        raise VerdictError("note: must be text of at most 2000 characters")
    row = ParcelVerdict(verdict, note, inspector, utc_now())
    with db.connect() as con:
        con.execute(
            "INSERT INTO parcel_verdicts (scan_id, verdict, note, inspector, created_at) VALUES (?, ?, ?, ?, ?)",
            (scan.scan_id, verdict, note, inspector, row.created_at),
        )
        audit(con, inspector, f"parcel_{verdict}", scan.scan_id, {"note": note})
    return row


def _load(db: VerdictDB, scan_id: str | None) -> dict[str, ScanVerdicts]:
    where, args = ("WHERE scan_id=?", (scan_id,)) if scan_id is not None else ("", ())
    out: dict[str, ScanVerdicts] = {}
    with db.connect() as con:
        box_rows = con.execute(
            f"SELECT * FROM box_verdicts WHERE id IN (SELECT MAX(id) FROM box_verdicts {where} GROUP BY scan_id, item) ORDER BY id",
            args,
        ).fetchall()
        parcel_rows = con.execute(
            f"SELECT * FROM parcel_verdicts WHERE id IN (SELECT MAX(id) FROM parcel_verdicts {where} GROUP BY scan_id)", args
        ).fetchall()
    for r in box_rows:
        box = json.loads(r["box"]) if r["box"] else None
        out.setdefault(r["scan_id"], ScanVerdicts()).boxes[r["item"]] = BoxVerdict(
            r["item"], r["verdict"], r["label"], tuple(box) if box else None, r["det_label"], r["det_score"],
            r["inspector"], r["created_at"],
        )
    for r in parcel_rows:
        out.setdefault(r["scan_id"], ScanVerdicts()).parcel = ParcelVerdict(r["verdict"], r["note"], r["inspector"], r["created_at"])
    return out


def scan_verdicts(db: VerdictDB, scan_id: str) -> ScanVerdicts:
    """Latest verdicts of one scan (empty when it has none)."""
    return _load(db, scan_id).get(scan_id, ScanVerdicts())


def all_verdicts(db: VerdictDB) -> dict[str, ScanVerdicts]:
    """Latest verdicts of every scan that has any, by scan id."""
    return _load(db, None)
