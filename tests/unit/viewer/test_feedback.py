"""COCO export of verdicts: boxes, hard negatives, skipped scans, and the dataset loader accepts it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tests.unit.viewer.results_factory import KNOWN_BOX, standard_folder
from wildxray.cli.feedback import main as feedback_main
from wildxray.types import CLASS_NAMES
from wildxray.viewer.db import VerdictDB, read_audit_log
from wildxray.viewer.feedback import ExportError, export_feedback
from wildxray.viewer.index import ResultsIndex
from wildxray.viewer.verdicts import record_box_verdict, record_parcel_verdict


@pytest.fixture()
def reviewed(tmp_path: Path) -> tuple[VerdictDB, Path]:
    out = tmp_path / "out"
    standard_folder(out)
    index = ResultsIndex(out)
    db = VerdictDB(tmp_path / "v.sqlite")
    known = index.get("scan-known")
    record_box_verdict(db, known, "alice", "det:0", "confirm")          # ivory at KNOWN_BOX
    record_box_verdict(db, known, "alice", "det:1", "reject")           # bone 0.62 -> hard negative
    record_box_verdict(db, known, "alice", None, "added", label="skin", box=[200, 150, 260, 200])
    record_parcel_verdict(db, known, "alice", "contraband")
    old = index.get("scan-old-alarm")
    record_box_verdict(db, old, "bob", "det:0", "relabel", label="bone")  # complete: parcel derived
    record_parcel_verdict(db, index.get("scan-evil"), "bob", "clear")   # its label is no model class
    record_parcel_verdict(db, index.get("scan-dual"), "bob", "contraband")  # box left without verdict
    record_parcel_verdict(db, index.get("scan-clear"), "bob", "clear")
    return db, out


def test_export_contents(reviewed, tmp_path: Path) -> None:
    db, out = reviewed
    summary = export_feedback(db, out, tmp_path / "fb")
    coco = json.loads((tmp_path / "fb" / "annotations.json").read_text())
    assert [c["name"] for c in coco["categories"]] == list(CLASS_NAMES)
    by_scan = {img["scan_id"]: img for img in coco["images"]}
    assert sorted(by_scan) == ["scan-clear", "scan-known", "scan-old-alarm"]
    known = by_scan["scan-known"]
    assert known["contraband"] is True and known["modality"] == "xray" and known["file_name"] == "images/scan-known.jpg"
    assert (tmp_path / "fb" / known["file_name"]).read_bytes() == (out / "scan-known.image.jpg").read_bytes()
    anns = {(a["image_id"], a["category_id"], tuple(a["bbox"]), a["source"]) for a in coco["annotations"]}
    x1, y1, x2, y2 = KNOWN_BOX
    assert anns == {
        (known["id"], 1, (x1, y1, x2 - x1, y2 - y1), "confirmed"),
        (known["id"], 4, (200.0, 150.0, 60.0, 50.0), "added"),
        (by_scan["scan-old-alarm"]["id"], 5, (150.0, 90.0, 80.0, 80.0), "relabelled"),
    }
    assert by_scan["scan-clear"]["contraband"] is False
    negs = {(n["image_id"], n["category_id"], tuple(n["bbox"]), n["score"]) for n in coco["hard_negatives"]}
    assert negs == {(known["id"], 5, (20.0, 20.0, 40.0, 30.0), 0.62)}  # scan-clear's 0.21 box is below 0.5
    reasons = dict(summary.skipped)
    assert "1 detection(s) above the operating point have no verdict" in reasons["scan-dual"]
    assert "not among the model's classes" in reasons["scan-evil"]
    assert (summary.images, summary.boxes, summary.hard_negatives) == (3, 3, 1)
    assert read_audit_log(db)[-1]["action"] == "feedback_export"


def test_export_refuses_to_overwrite_and_needs_a_results_folder(reviewed, tmp_path: Path) -> None:
    db, out = reviewed
    export_feedback(db, out, tmp_path / "fb")
    with pytest.raises(ExportError, match="exists; pass --force"):
        export_feedback(db, out, tmp_path / "fb")
    with pytest.raises(ExportError, match="no results folder recorded"):
        export_feedback(db, None, tmp_path / "fb2")


def test_cli_export(reviewed, tmp_path: Path, capsys) -> None:
    db, out = reviewed
    assert feedback_main(["export", "--db", str(db.path), "--results", str(out), "--out", str(tmp_path / "fb")]) == 0
    text = capsys.readouterr().out
    assert "3 images, 3 boxes, 1 hard negatives" in text and "skipped scan-dual" in text
    assert feedback_main(["export", "--db", str(tmp_path / "missing.sqlite"), "--out", str(tmp_path / "x")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("wildxray.data.coco") is None,
                    reason="wildxray.data.coco (the COCO loader, another part) is not in this checkout yet")
def test_dataset_loader_accepts_the_export(reviewed, tmp_path: Path) -> None:
    from wildxray.data.coco import load_coco

    db, out = reviewed
    export_feedback(db, out, tmp_path / "fb")
    ds = load_coco(tmp_path / "fb" / "annotations.json")
    assert len(ds) == 3
    shapes, boxes = [], []
    for i in range(len(ds)):
        image, target = ds[i]
        shapes.append(image.shape)
        boxes.append(target.boxes)
    assert shapes == [(240, 320, 3)] * 3
    all_boxes = np.concatenate(boxes)
    assert any(np.allclose(b, KNOWN_BOX) for b in all_boxes)  # xyxy back from the exported xywh
