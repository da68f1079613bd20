"""``wildxray predict`` as a real process with torch, torchvision, albumentations and hydra blocked."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import numpy as np
import pytest

from tests.fixtures.contract_model import BLUE, draw_patch, grey_image, make_contract_model
from tests.integration.station.conftest import write_launcher
from wildxray.core.image_io import write_dual_energy_tiff, write_image
from wildxray.runtime.result import result_schema


@pytest.fixture
def run(tmp_path):
    launcher = write_launcher(tmp_path)

    def _run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(launcher), "predict", *args], capture_output=True, text=True,
                              timeout=120)
    return _run


def test_predict_writes_one_result_and_overlay_per_image_torch_blocked(run, tmp_path):
    model = make_contract_model(tmp_path / "m.onnx", input_size=64)
    scans = tmp_path / "scans"
    write_image(scans / "red.png", draw_patch(grey_image(100, 300), (200, 20, 260, 70)))
    write_image(scans / "blue.jpg", draw_patch(grey_image(80, 80), (10, 10, 40, 40), BLUE))
    write_dual_energy_tiff(scans / "dual.tiff", np.full((50, 70, 2), 40000, np.uint16))
    (scans / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnope")
    (scans / "notes.md").write_text("not picked up from a folder: wrong suffix")
    extra = tmp_path / "extra.png"
    write_image(extra, grey_image(40, 40))
    proc = run("--model", str(model), "--out", str(tmp_path / "out"), "--no-progress", str(scans), str(extra))
    assert proc.returncode == 0, proc.stderr
    assert "5 scans" in proc.stdout and "2 alarm, 2 clear, 1 error" in proc.stdout
    assert "broken.png: error" in proc.stderr
    res = {}
    for p in (tmp_path / "out").glob("*.json"):
        r = json.loads(p.read_text())
        jsonschema.validate(r, result_schema())
        res[r["source_name"]] = r
        if r["decision"] != "error":
            assert (tmp_path / "out" / r["artifacts"]["overlay"]).exists()
    assert set(res) == {"red.png", "blue.jpg", "dual.tiff", "broken.png", "extra.png"}
    np.testing.assert_allclose(res["red.png"]["detections"][0]["box"], [200, 20, 260, 70], atol=5.5)
    assert res["blue.jpg"]["alarm_classes"] == ["horn"]
    assert res["dual.tiff"]["modality"] == "xray_dual" and res["dual.tiff"]["artifacts"]["high"]
    assert res["broken.png"]["decision"] == "error"


def test_usage_errors_exit_2_with_a_clear_message(run, tmp_path):
    nocard = make_contract_model(tmp_path / "nocard.onnx", card={})
    write_image(tmp_path / "a.png", grey_image(32, 32))
    proc = run("--model", str(nocard), "--out", str(tmp_path / "o"), str(tmp_path / "a.png"))
    assert proc.returncode == 2 and "nocard.onnx: model card is missing" in proc.stderr
    proc = run("--model", str(nocard), "--out", str(tmp_path / "o"), str(tmp_path / "missing"))
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr
    proc = run("--help")
    assert proc.returncode == 0 and "--model" in proc.stdout and "--threads" in proc.stdout
