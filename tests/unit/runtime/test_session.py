"""OnnxDetector: the contract model's known patches come back at the right ORIGINAL-pixel boxes."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tests.fixtures.contract_model import BLUE, RED, default_card, draw_patch, grey_image, make_contract_model
from wildxray.core.colour import ENCODING_VERSION
from wildxray.runtime.session import ModelContractError, OnnxDetector


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return make_contract_model(tmp_path_factory.mktemp("m") / "m.onnx", input_size=64)


@pytest.fixture(scope="module")
def det(model_path):
    return OnnxDetector(model_path, threads=1)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_sha256_and_card_are_read_once_at_load(det, model_path):
    assert det.sha256 == hashlib.sha256(model_path.read_bytes()).hexdigest()
    assert det.input_size == 64 and det.padding_value == 114
    assert det.info == {"name": "contract-model", "sha256": det.sha256, "input_size": 64}


@pytest.mark.parametrize("hw, box", [((64, 64), (10, 20, 30, 40)),     # identity letterbox
                                    ((120, 200), (150, 30, 190, 90)),  # wide: r = 0.32
                                    ((200, 120), (20, 140, 80, 190)),  # tall (below the tiling aspect)
                                    ((33, 47), (5, 5, 20, 30))])       # upscaled
def test_box_maps_back_to_original_pixels(det, hw, box):
    img = draw_patch(grey_image(*hw), box)
    d = det.predict(img)
    assert len(d) == 1 and d.labels[0] == 0
    r = 64 / max(hw)
    tol = 1.0 / r + 1.0  # one model pixel, in original pixels, plus bilinear edge blur
    np.testing.assert_allclose(d.boxes[0], box, atol=tol)
    assert d.scores[0] == pytest.approx(230 / 255, abs=0.03)


def test_padding_is_not_a_detection_and_clean_image_is_empty(det):
    assert len(det.predict(grey_image(50, 150))) == 0


def test_two_classes_sorted_by_score(det):
    img = grey_image(64, 64)
    draw_patch(img, (2, 2, 12, 12), (150, 0, 0))   # red, score ~0.59, label 0
    draw_patch(img, (40, 40, 60, 60), BLUE)        # blue, score ~0.90, label 1
    d = det.predict(img)
    assert d.labels.tolist() == [1, 0]
    assert d.scores[0] > d.scores[1]
    np.testing.assert_allclose(d.boxes[0], (40, 40, 60, 60), atol=0.5)


def test_predict_batch_matches_single_predictions(det):
    imgs = [draw_patch(grey_image(100, 60), (5, 10, 30, 50)), grey_image(40, 40),
            draw_patch(grey_image(60, 90), (50, 20, 80, 50), BLUE),
            draw_patch(grey_image(900, 100), (20, 400, 60, 430))]  # tiled inside the batch
    batch = det.predict_batch(imgs)
    for im, b in zip(imgs, batch):
        s = det.predict(im)
        np.testing.assert_allclose(b.boxes, s.boxes)
        np.testing.assert_array_equal(b.labels, s.labels)


def test_tall_scan_is_tiled_and_keeps_resolution(model_path):
    img = draw_patch(grey_image(3000, 300), (100, 1500, 140, 1530))
    tiled = OnnxDetector(model_path, threads=1).predict(img)
    whole = OnnxDetector(model_path, threads=1, tile_aspect=float("inf")).predict(img)
    assert len(tiled) == 1
    # Tiles are 300 px for a 64 px model (r = 0.21): ~5 px error; the whole image (r = 0.021): ~47 px.
    np.testing.assert_allclose(tiled.boxes[0], (100, 1500, 140, 1530), atol=5.5)
    assert _iou(tiled.boxes[0], (100, 1500, 140, 1530)) > 0.75
    assert _iou(whole.boxes[0], (100, 1500, 140, 1530)) < _iou(tiled.boxes[0], (100, 1500, 140, 1530))


def test_object_in_a_tile_overlap_is_reported_once(det):
    # 300 x 1500: tiles start at 0, 200?, ... with 25 % overlap; put the patch across a tile boundary.
    img = draw_patch(grey_image(1500, 300), (50, 280, 90, 320))
    d = det.predict(img)
    assert len(d) == 1
    np.testing.assert_allclose(d.boxes[0], (50, 280, 90, 320), atol=5.5)


def test_object_longer_than_a_tile_comes_from_the_whole_image_pass(det):
    img = draw_patch(grey_image(200, 2000), (300, 50, 900, 150), RED)  # wide belt, 600 px long object
    d = det.predict(img)
    assert len(d) == 1  # the cut pieces from the tiles were dropped, not reported as extra boxes
    np.testing.assert_allclose(d.boxes[0], (300, 50, 900, 150), atol=2000 / 64 + 1)  # whole-image resolution


def test_wrong_image_is_refused(det):
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        det.predict(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        det.predict(np.zeros((10, 10, 3), np.float32))


def test_model_breaking_the_io_contract_is_refused(tmp_path):
    from onnx import TensorProto, helper

    from tests.fixtures.contract_model import default_card

    import json

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"wildxray_card": json.dumps(default_card(("a",), 64, 4))})
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(ModelContractError, match=r"bad\.onnx: expected one input 'images'"):
        OnnxDetector(path)


@pytest.mark.parametrize("modality, encoding, warns", [
    ("xray", None, True),                # a card from before the field: trained on encoding 1
    ("xray", ENCODING_VERSION - 1, True),
    ("xray_dual", ENCODING_VERSION - 1, True),
    ("xray", ENCODING_VERSION, False),
    ("photo", None, False),              # photos never pass through the dual-energy encoding
])
def test_a_model_trained_on_another_dual_energy_encoding_is_flagged(tmp_path, caplog, modality, encoding, warns):
    card = default_card(("ivory", "horn"), 64, 4)
    card["modality"] = modality
    card.pop("xray_encoding")
    if encoding is not None:
        card["xray_encoding"] = encoding
    path = make_contract_model(tmp_path / "old.onnx", class_names=("ivory", "horn"), card=card)
    with caplog.at_level("WARNING", logger="wildxray.runtime.session"):
        detector = OnnxDetector(path, threads=1)
    assert bool(detector.encoding_warning) is warns
    assert any(str(path) in r.getMessage() and "encoding" in r.getMessage() for r in caplog.records) is warns
    if warns:
        assert f"encoding {ENCODING_VERSION}" in detector.encoding_warning
