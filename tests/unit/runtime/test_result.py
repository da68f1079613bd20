"""Result records are schema-valid, the results folder is written as docs/internals.md says."""

from __future__ import annotations

import json

import cv2
import jsonschema
import numpy as np
import pytest

from tests.fixtures.contract_model import draw_patch, grey_image, make_contract_model
from wildxray.core.image_io import write_dual_energy_tiff, write_image
from wildxray.runtime.overlay import OKABE_ITO_RGB, draw_overlay
from wildxray.runtime.result import (
    build_result,
    error_result,
    is_scan_id,
    new_scan_id,
    raw_to_views,
    result_schema,
    write_result,
)
from wildxray.runtime.scan import process_file
from wildxray.runtime.session import OnnxDetector
from wildxray.types import CLASS_NAMES, Detections

MODEL = {"name": "m", "sha256": "a" * 64, "input_size": 64}
CARD = {"operating_point": {"thresholds": {c: 0.5 for c in CLASS_NAMES}, "calibrated": False}}


@pytest.fixture(scope="module")
def det(tmp_path_factory):
    return OnnxDetector(make_contract_model(tmp_path_factory.mktemp("m") / "m.onnx", thresholds={"horn": 0.95}),
                        threads=1)


def test_scan_ids_are_unique_and_path_safe():
    ids = {new_scan_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(is_scan_id(i) for i in ids)
    assert not is_scan_id("../etc") and not is_scan_id("a/b") and not is_scan_id("")


def test_build_and_error_results_validate_against_the_schema():
    d = Detections([[1, 2, 30, 40], [5, 5, 9, 9]], [0.4, 0.9], [2, 0])
    r = build_result(scan_id=new_scan_id(), source_path="/in/x.png", input_sha256="b" * 64, model=MODEL, card=CARD,
                     modality="xray", image_hw=(50, 60), detections=d, class_names=CLASS_NAMES, decision="alarm",
                     alarm_classes=["ivory"], parcel_score=0.9, timings_ms={"infer": 3.2})
    jsonschema.validate(r, result_schema())
    assert [x["label"] for x in r["detections"]] == ["ivory", "scales"]  # sorted by score
    assert r["detections"][1]["category_id"] == 3 and r["image"] == {"width": 60, "height": 50}
    e = error_result(scan_id=new_scan_id(), source_path="/in/y.png", input_sha256=None, model=MODEL, card=CARD,
                     code="truncated", message="y.png: ends early")
    jsonschema.validate(e, result_schema())
    assert e["decision"] == "error" and e["error"]["code"] == "truncated"
    with pytest.raises(ValueError, match="scan id"):
        error_result(scan_id="../x", source_path="p", input_sha256=None, model=MODEL, card=CARD, code="c", message="m")


def test_overlay_draws_class_colours_at_the_boxes():
    img = grey_image(200, 200)
    out = draw_overlay(img, Detections([[50, 60, 150, 160]], [0.8], [1]), CLASS_NAMES)
    assert out.shape == img.shape and (img == 90).all()  # input untouched
    colour = np.array(OKABE_ITO_RGB[1])
    assert (out[110, 150] == colour).all() or (out[110, 149] == colour).all()  # right edge of the box
    assert (out[110, 100] == 90).all()  # inside of the box is not filled


def test_process_file_writes_json_overlay_and_clean_image(det, tmp_path):
    src = tmp_path / "parcel.png"
    write_image(src, draw_patch(grey_image(120, 240), (100, 40, 160, 80)))
    o = process_file(det, src, tmp_path / "out", "scan-1")
    r = json.loads(o.json_path.read_text())
    jsonschema.validate(r, result_schema())
    assert r["decision"] == "alarm" and r["alarm_classes"] == ["ivory"] and r["model"]["sha256"] == det.sha256
    np.testing.assert_allclose(r["detections"][0]["box"], [100, 40, 160, 80], atol=5)
    assert r["artifacts"] == {"overlay": "scan-1.png", "image": "scan-1.image.jpg", "high": None, "low": None}
    overlay = cv2.imread(str(tmp_path / "out" / "scan-1.png"))
    assert overlay.shape == (120, 240, 3)
    clean = cv2.imread(str(tmp_path / "out" / "scan-1.image.jpg"))[..., ::-1]
    assert abs(int(clean[60, 130, 0]) - 230) < 10  # the red patch, in RGB order


def test_a_detection_below_its_class_threshold_is_clear(det, tmp_path):
    src = tmp_path / "blue.png"
    write_image(src, draw_patch(grey_image(64, 64), (10, 10, 30, 30), (0, 0, 230)))  # horn 0.90 < 0.95
    r = process_file(det, src, tmp_path, "scan-2").result
    assert r["decision"] == "clear" and r["alarm_classes"] == [] and len(r["detections"]) == 1
    assert r["operating_point"]["thresholds"]["horn"] == 0.95


def test_dual_energy_input_writes_high_and_low_views(det, tmp_path):
    rng = np.random.default_rng(0)
    raw = rng.integers(20000, 60000, size=(40, 80, 2), dtype=np.uint16)
    src = tmp_path / "raw.tiff"
    write_dual_energy_tiff(src, raw)
    r = process_file(det, src, tmp_path / "out", "scan-3").result
    jsonschema.validate(r, result_schema())
    assert r["modality"] == "xray_dual" and r["artifacts"]["high"] == "scan-3.high.png"
    high = cv2.imread(str(tmp_path / "out" / "scan-3.high.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(high, raw_to_views(raw)[0])
    assert np.abs(high.astype(int) - raw[..., 0] / 257).max() <= 0.5


def test_unreadable_file_gives_error_result_naming_the_cause(det, tmp_path):
    src = tmp_path / "half.png"
    full = cv2.imencode(".png", grey_image(100, 100))[1].tobytes()
    src.write_bytes(full[: len(full) // 2])
    r = process_file(det, src, tmp_path / "out", "scan-4").result
    jsonschema.validate(r, result_schema())
    assert r["decision"] == "error" and r["error"]["code"] in ("truncated", "corrupt")
    assert "half.png" in r["error"]["message"]
    assert not (tmp_path / "out" / "scan-4.png").exists()


def test_write_result_refuses_a_bad_id(tmp_path):
    r = error_result(scan_id="ok", source_path="p", input_sha256=None, model=MODEL, card=CARD, code="c", message="m")
    r["scan_id"] = "../../escape"
    with pytest.raises(ValueError, match="scan id"):
        write_result(tmp_path, r)
    assert list(tmp_path.iterdir()) == []
