"""Model card: read from the ONNX file through onnxruntime, validation naming file and key, write round trip."""

from __future__ import annotations

import json

import onnx
import pytest

from tests.fixtures.contract_model import default_card, make_contract_model
from wildxray.runtime.model_card import ModelCardError, card_path_for, read_card, validate_card, write_card
from wildxray.runtime.session import OnnxDetector
from wildxray.types import CLASS_NAMES


def test_read_card_returns_what_the_exporter_stored(tmp_path):
    path = make_contract_model(tmp_path / "m.onnx", input_size=96, thresholds={"horn": 0.7})
    card = read_card(path)
    assert card["classes"] == list(CLASS_NAMES)
    assert card["input_size"] == 96
    assert card["operating_point"]["thresholds"]["horn"] == 0.7
    assert json.loads(card_path_for(path).read_text()) == card


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c.pop("classes"), "classes"),
        (lambda c: c.update(classes=[]), "classes"),
        (lambda c: c.update(classes=["a", "a"]), "classes"),
        (lambda c: c.pop("input_size"), "input_size"),
        (lambda c: c.update(input_size=16), "input_size"),
        (lambda c: c.pop("padding_value"), "padding_value"),
        (lambda c: c.update(padding_value=300), "padding_value"),
        (lambda c: c.pop("operating_point"), "operating_point"),
        (lambda c: c["operating_point"].pop("thresholds"), "operating_point.thresholds"),
        (lambda c: c["operating_point"]["thresholds"].pop("skin"), "operating_point.thresholds.skin"),
        (lambda c: c["operating_point"]["thresholds"].update(bone=1.5), "operating_point.thresholds.bone"),
        (lambda c: c["operating_point"]["thresholds"].update(bone="high"), "operating_point.thresholds.bone"),
        (lambda c: c.update(format_version=2), "format_version"),
    ],
)
def test_validate_card_names_file_and_key(mutate, key):
    card = default_card(CLASS_NAMES, 64, 4)
    mutate(card)
    with pytest.raises(ModelCardError) as info:
        validate_card(card, "models/x.onnx")
    assert info.value.key == key
    assert "models/x.onnx" in str(info.value) and f"'{key}'" in str(info.value)


def test_a_model_without_card_is_refused_with_a_clear_message(tmp_path):
    path = make_contract_model(tmp_path / "nocard.onnx", card={})
    with pytest.raises(ModelCardError, match=r"nocard\.onnx: model card is missing.*wildxray_card"):
        OnnxDetector(path)
    with pytest.raises(ModelCardError, match="nocard.onnx"):
        read_card(path)


def test_a_model_with_incomplete_card_is_refused(tmp_path):
    card = default_card(CLASS_NAMES, 64, 4)
    del card["operating_point"]["thresholds"]["live_animal"]
    path = make_contract_model(tmp_path / "partial.onnx", card=card)
    with pytest.raises(ModelCardError, match=r"partial\.onnx: model card key 'operating_point\.thresholds\.live_animal' is missing"):
        OnnxDetector(path)


def test_write_card_rewrites_metadata_and_json_and_keeps_the_graph(tmp_path):
    path = make_contract_model(tmp_path / "m.onnx")
    graph_before = onnx.load(str(path)).graph.SerializeToString()
    card = read_card(path)
    card["operating_point"].update(thresholds={c: 0.8 for c in CLASS_NAMES}, calibrated=True,
                                   target_false_alarm_rate=0.02)
    json_path = write_card(path, card)
    assert read_card(path)["operating_point"]["calibrated"] is True
    assert json.loads(json_path.read_text())["operating_point"]["thresholds"]["ivory"] == 0.8
    model = onnx.load(str(path))
    assert [p.key for p in model.metadata_props].count("wildxray_card") == 1
    assert model.graph.SerializeToString() == graph_before
    assert OnnxDetector(path).thresholds["bone"] == 0.8
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_write_card_refuses_an_invalid_card_and_leaves_the_model_alone(tmp_path):
    path = make_contract_model(tmp_path / "m.onnx")
    before = path.read_bytes()
    card = read_card(path)
    card["classes"] = []
    with pytest.raises(ModelCardError, match="classes"):
        write_card(path, card)
    assert path.read_bytes() == before
