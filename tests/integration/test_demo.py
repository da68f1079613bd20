"""The README's main job, ``wildxray demo``, end to end on tiny settings: every artefact is there."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from wildxray.cli.demo import SHIPPED_CHECKPOINT, main
from wildxray.runtime.model_card import read_card
from wildxray.runtime.result import result_schema


@pytest.mark.parametrize("start", ["--from-scratch", "shipped"])
def test_demo_quick_writes_model_report_and_station_results(start: str, tmp_path: Path) -> None:
    if start == "shipped" and not SHIPPED_CHECKPOINT.is_file():
        pytest.skip("no shipped checkpoint in export/")
    args = ["--quick", "--out", str(tmp_path)] + ([start] if start.startswith("--") else [])
    assert main(args) == 0
    summary = json.loads((tmp_path / "demo_summary.json").read_text())
    assert 0.0 <= summary["mAP50"] <= 1.0 and summary["epochs"] == 1
    if start == "shipped":  # the starting checkpoint is scored on the same test scans, for before/after
        before = summary["starting_point"]
        assert before["checkpoint"] == str(SHIPPED_CHECKPOINT) and 0.0 <= before["mAP50"] <= 1.0
        assert (tmp_path / "report_starting_point" / "metrics.json").is_file()
    else:
        assert summary["starting_point"] is None
    card = read_card(tmp_path / "model" / "wildxray-demo.onnx")
    assert card["operating_point"]["calibrated"] is True  # step 4 wrote the thresholds
    calib = json.loads((tmp_path / "data" / "calib" / "summary.json").read_text())  # on its own clean-heavy set
    validation = card["operating_point"]["validation"]
    assert (validation["n_clean"], validation["n_contraband"]) == (calib["clean_parcels"], calib["contraband_parcels"])
    assert calib["scans"] == 12 and calib["clean_parcels"] > calib["contraband_parcels"]
    assert card["input_size"] == (416 if start == "shipped" else 128)
    report = (tmp_path / "report" / "report.html").read_text()
    assert "Parcel screening" in report and "http://" not in report and "https://" not in report
    results = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*.json")]
    assert len(results) == 12  # one per held-out test scan
    for r in results:
        jsonschema.validate(r, result_schema())
        assert r["decision"] in ("alarm", "clear")
