"""The station on a model made by the real exporter (``wildxray.export.onnx_export.export_onnx``).

The export runs here (torch is needed for it); the station runs torch-blocked in its subprocess.
The detector is untrained, so this checks the contract end to end (card, I/O, tiling, schema), not
accuracy: results must agree with ``OnnxDetector`` called directly on the same pixels.
"""

from __future__ import annotations

import hashlib

import jsonschema
import numpy as np
import pytest

from tests.fixtures.contract_model import draw_patch, grey_image
from tests.integration.station.conftest import drop
from wildxray.runtime.result import result_schema
from wildxray.runtime.session import OnnxDetector
from wildxray.types import CLASS_NAMES


@pytest.fixture(scope="module")
def exported_model(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from wildxray.export.card_builder import build_card
    from wildxray.export.onnx_export import export_onnx
    from wildxray.models.build import build_detector

    torch.manual_seed(0)
    det = build_detector(len(CLASS_NAMES), backbone="mobilenet_v3_small", neck_channels=32, head_convs=1,
                         prior_prob=0.3)  # a high prior so the untrained model emits some boxes
    card = build_card(name="tiny-untrained", classes=CLASS_NAMES, input_size=64, mean=[0.485, 0.456, 0.406],
                      std=[0.229, 0.224, 0.225], score_threshold=0.05, iou_threshold=0.6, max_detections=20,
                      opset=17, commit=None)
    return export_onnx(det, tmp_path_factory.mktemp("export") / "tiny.onnx", card, input_size=64)


def test_station_serves_a_really_exported_model(start_station, exported_model):
    st = start_station(exported_model)
    images = {"a.png": draw_patch(grey_image(80, 120), (10, 10, 50, 40)),
              "b.png": np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8),
              "belt.png": grey_image(600, 100)}
    for name, img in images.items():
        drop(st.watch, name, img)
    res = {r["source_name"]: r for r in st.wait_results(3, timeout=60)}
    direct = OnnxDetector(exported_model, threads=1)
    assert direct.sha256 == hashlib.sha256(exported_model.read_bytes()).hexdigest()
    for name, r in res.items():
        jsonschema.validate(r, result_schema())
        assert r["decision"] in ("alarm", "clear") and r["model"]["sha256"] == direct.sha256
        expected = direct.predict(images[name])
        assert len(r["detections"]) == len(expected)
        h, w = images[name].shape[:2]
        for d in r["detections"]:
            x1, y1, x2, y2 = d["box"]
            assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h
        if len(expected):
            np.testing.assert_allclose(r["detections"][0]["box"], expected.boxes[np.argmax(expected.scores)], atol=0.02)
    assert sum(len(r["detections"]) for r in res.values()) > 0, "nothing compared: the model emitted no box"
    status, body, _ = st.request("GET", "/v1/model")
    assert status == 200 and b"tiny-untrained" in body
    assert st.stop() == 0
