"""The optional ``parcel_scores`` output: ONNX parity with PyTorch, the runtime reads it, calibration
and the station's decision use it where the card says so, and a model without it works as before."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.unit.models.synthetic import make_shapes_batch, train_steps
from wildxray.evaluation.calibration import calibrate_sources, card_operating_point
from wildxray.evaluation.records import ParcelRecord
from wildxray.export.card_builder import build_card
from wildxray.export.onnx_export import export_onnx
from wildxray.models.build import build_detector
from wildxray.runtime.model_card import ModelCardError, validate_card, write_card
from wildxray.runtime.decision import parcel_evidence
from wildxray.runtime.session import ModelContractError, OnnxDetector
from wildxray.training.criterion import Criterion
from wildxray.types import Detections, Target

CLASSES = ["ivory", "horn", "scales"]


def _card(size: int) -> dict:
    return build_card(name="parcel", classes=CLASSES, input_size=size, mean=[127.0] * 3, std=[128.0] * 3,
                      score_threshold=0.02, iou_threshold=0.6, max_detections=20, opset=17, commit=None)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    images, targets = make_shapes_batch(4, 128, seed=2)
    det = build_detector(len(CLASSES), backbone="mobilenet_v3_small", neck_channels=32, parcel_head=True,
                         dense_head=True)
    train_steps(det, Criterion(len(CLASSES)), images, targets, steps=10)
    return det.eval(), images


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    det, _ = model
    out = tmp_path_factory.mktemp("parcel")
    return {s: export_onnx(det, out / f"m{s}.onnx", _card(s), s) for s in (128, 192)}


@pytest.mark.parametrize("size", [128, 192])
def test_parcel_scores_match_pytorch(model, exported, size):
    import onnxruntime as ort

    det, images = model
    canvas = np.full((3, size, size, 3), 114, np.uint8)
    canvas[:, :128, :128] = images[:3].permute(0, 2, 3, 1).to(torch.uint8).numpy()
    sess = ort.InferenceSession(str(exported[size]), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()][-1] == "parcel_scores"
    got = sess.run(["parcel_scores"], {"images": canvas})[0]
    with torch.no_grad():
        want = det(torch.from_numpy(canvas).permute(0, 3, 1, 2).float())["parcel_logits"].sigmoid().numpy()
    assert got.shape == (3, len(CLASSES)) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert np.ptp(got) > 1e-3  # input-dependent, not a constant


def test_card_names_the_extra_output(exported):
    card = OnnxDetector(exported[128]).card
    assert card["extra_outputs"]["parcel_scores"]["shape"] == ["N", 3]


def test_runtime_carries_parcel_scores_through_plain_and_tiled_images(exported):
    det = OnnxDetector(exported[128], threads=1)
    assert det.has_parcel_scores and det.parcel_score_source == "boxes"
    rng = np.random.default_rng(0)
    plain = det.predict(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
    tiled = det.predict(rng.integers(0, 255, (60, 400, 3), dtype=np.uint8))  # aspect 6.7: tiled
    for d in (plain, tiled):
        assert d.parcel_scores.shape == (3,) and np.all((d.parcel_scores >= 0) & (d.parcel_scores <= 1))


def _records(rng, n_clean=200, n_pos=100):
    """Parcels whose head scores separate well and whose box scores do not."""
    recs = []
    for i in range(n_clean + n_pos):
        pos = i >= n_clean
        label = int(rng.integers(0, 3))
        head = rng.uniform(0, 0.3, 3).astype(np.float32)
        if pos:
            head[label] = rng.uniform(0.6, 1.0)
        dets = Detections(np.array([[0, 0, 5, 5.0]], np.float32), np.array([rng.uniform(0.1, 0.9)], np.float32),
                          np.array([label]), head)
        tgt = Target(np.array([[0, 0, 5, 5.0]] if pos else np.zeros((0, 4))), np.array([label] if pos else []), i)
        recs.append(ParcelRecord(tgt, dets))
    return recs


def test_calibration_scores_both_ways_and_picks_the_better():
    recs = _records(np.random.default_rng(1))
    chosen, points = calibrate_sources(recs, CLASSES, 0.01)
    assert set(points) == {"boxes", "parcel_head"}
    assert points["parcel_head"].detection_rate > 0.9 > points["boxes"].detection_rate
    assert chosen is points["parcel_head"] and chosen.false_alarms <= 2
    block = card_operating_point(points, chosen)
    assert block["parcel_score"] == "parcel_head"
    assert block["thresholds"] == points["boxes"].thresholds  # boxes still drawn at their own thresholds
    assert block["parcel_thresholds"] == points["parcel_head"].thresholds
    forced, _ = calibrate_sources(recs, CLASSES, 0.01, "boxes")
    assert forced == points["boxes"]


def test_calibration_without_parcel_scores_works_as_before():
    recs = [ParcelRecord(r.target, Detections(r.detections.boxes, r.detections.scores, r.detections.labels))
            for r in _records(np.random.default_rng(2))]
    chosen, points = calibrate_sources(recs, CLASSES, 0.01)
    assert set(points) == {"boxes"} and chosen.parcel_score == "boxes"
    with pytest.raises(ValueError, match="parcel_scores"):
        calibrate_sources(recs, CLASSES, 0.01, "parcel_head")


def test_station_decision_follows_a_parcel_head_card(exported, tmp_path):
    import shutil

    path = tmp_path / "m.onnx"
    shutil.copyfile(exported[128], path)
    det = OnnxDetector(path)
    card = dict(det.card)
    card["operating_point"] = dict(card["operating_point"], parcel_score="parcel_head",
                                   parcel_thresholds={"ivory": 0.0, "horn": 1.0, "scales": 1.0})
    write_card(path, card)
    det = OnnxDetector(path)
    dec = det.decide(det.predict(np.full((64, 64, 3), 200, np.uint8)))
    assert dec.decision == "alarm" and dec.alarm_classes == ("ivory",)  # the head's ivory score >= 0.0


def test_a_parcel_head_card_without_its_thresholds_or_output_is_refused(exported, tmp_path):
    card = OnnxDetector(exported[128]).card
    bad = dict(card, operating_point=dict(card["operating_point"], parcel_score="parcel_head"))
    with pytest.raises(ModelCardError, match="parcel_thresholds"):
        validate_card(bad, "m.onnx")
    # A model without the output cannot be told to decide on it.
    det = build_detector(len(CLASSES), backbone="mobilenet_v3_small", neck_channels=32).eval()
    plain = export_onnx(det, tmp_path / "plain.onnx", _card(64), 64)
    card = OnnxDetector(plain).card
    card["operating_point"] = dict(card["operating_point"], parcel_score="parcel_head",
                                   parcel_thresholds={c: 0.5 for c in CLASSES})
    write_card(plain, card)
    with pytest.raises(ModelContractError, match="no 'parcel_scores' output"):
        OnnxDetector(plain)


def test_parcel_evidence_is_one_detection_per_class():
    d = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.array([0.2, 0.7, 0.1]))
    ev = parcel_evidence(d, "parcel_head")
    assert ev.labels.tolist() == [0, 1, 2] and np.allclose(ev.scores, [0.2, 0.7, 0.1])
    assert parcel_evidence(d, "boxes") is d
    with pytest.raises(ValueError, match="parcel_scores"):
        parcel_evidence(Detections.empty(), "parcel_head")


def test_evaluation_reports_both_ways_of_scoring_a_parcel(tmp_path):
    from wildxray.evaluation.evaluate import evaluate
    from wildxray.evaluation.report import render_report

    recs = _records(np.random.default_rng(3), 60, 40)
    images = [{"id": r.target.image_id, "width": 10, "height": 10, "file_name": f"{r.target.image_id}.png"} for r in recs]
    anns = [{"id": i + 1, "image_id": r.target.image_id, "category_id": int(r.target.labels[0]) + 1,
             "bbox": [0, 0, 5, 5], "area": 25.0, "iscrowd": 0} for i, r in enumerate(recs) if len(r.target.labels)]
    gt = {"images": images, "annotations": anns, "categories": [{"id": i + 1, "name": n} for i, n in enumerate(CLASSES)]}
    preds = {r.target.image_id: r.detections for r in recs}
    card = {"operating_point": {"thresholds": {c: 0.5 for c in CLASSES}, "parcel_score": "parcel_head",
                                "parcel_thresholds": {c: 0.5 for c in CLASSES}}}
    result = evaluate(gt, preds, CLASSES, card=card, n_bootstrap=20)
    assert result.parcel_score_source == "parcel_head"
    assert set(result.parcel_by_source) == {"boxes", "parcel_head"}
    assert result.parcel is result.parcel_by_source["parcel_head"]
    assert result.parcel_by_source["parcel_head"].auc.value > 0.95 > result.parcel_by_source["boxes"].auc.value
    html = render_report(result, card)
    assert "Parcels scored on the model&#x27;s parcel head" in html or "Parcels scored on the model's parcel head" in html
    assert "Scored instead on the highest box score per class" in html
    plain = {k: Detections(d.boxes, d.scores, d.labels) for k, d in preds.items()}
    assert evaluate(gt, plain, CLASSES, n_bootstrap=0).parcel_by_source == {}


def test_a_scan_result_is_decided_on_the_parcel_head_when_the_card_says_so(exported, tmp_path):
    import shutil

    import cv2

    from wildxray.runtime.scan import process_file

    path = tmp_path / "m.onnx"
    shutil.copyfile(exported[128], path)
    card = OnnxDetector(path).card
    scan = tmp_path / "scan.png"
    cv2.imwrite(str(scan), np.full((64, 64, 3), 200, np.uint8))
    decisions = {}
    for source, head_thr in (("boxes", None), ("parcel_head", {"ivory": 1.0, "horn": 0.0, "scales": 1.0})):
        op = dict(card["operating_point"], thresholds={c: 1.0 for c in CLASSES}, parcel_score=source)
        if head_thr:
            op["parcel_thresholds"] = head_thr
        write_card(path, dict(card, operating_point=op))
        out = process_file(OnnxDetector(path), scan, tmp_path / f"out_{source}", f"s-{source}")
        decisions[source] = (out.result["decision"], out.result["alarm_classes"])
    assert decisions["boxes"] == ("clear", [])  # box thresholds of 1.0: nothing alarms
    assert decisions["parcel_head"] == ("alarm", ["horn"])
