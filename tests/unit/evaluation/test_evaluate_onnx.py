"""run_onnx_evaluation end to end on a real ONNX model (tests.fixtures.contract_model) and real
PNG files: figures checked against an independent computation with scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnx")

from sklearn.metrics import roc_auc_score  # noqa: E402

from tests.fixtures.contract_model import make_contract_model  # noqa: E402
from tests.unit.evaluation.helpers import write_patch_dataset  # noqa: E402
from wildxray.data.coco import load_coco  # noqa: E402
from wildxray.evaluation.evaluate import run_onnx_evaluation  # noqa: E402
from wildxray.runtime.decision import parcel_decision  # noqa: E402
from wildxray.runtime.session import OnnxDetector  # noqa: E402


def test_run_onnx_evaluation_writes_consistent_metrics_and_report(tmp_path):
    thresholds = {"ivory": 0.75, "horn": 0.7}
    model = make_contract_model(tmp_path / "m.onnx", input_size=64, thresholds=thresholds)
    ann = write_patch_dataset(tmp_path / "test", n_contraband=30, n_clean=60, seed=5)
    result = run_onnx_evaluation(model, ann, tmp_path / "eval", n_bootstrap=100, threads=1)

    # Independent: the station's own pieces + scikit-learn.
    det = OnnxDetector(model, threads=1)
    ds = load_coco(ann)
    scores, positive, alarm = [], [], []
    for i in range(len(ds)):
        image, target = ds[i]
        d = parcel_decision(det.predict(image), det.class_names, det.thresholds)
        scores.append(d.parcel_score)
        positive.append(not target.is_clean)
        alarm.append(d.alarm)
    scores, positive, alarm = np.array(scores), np.array(positive), np.array(alarm)
    assert result.parcel.auc.value == pytest.approx(roc_auc_score(positive, scores))
    assert result.parcel.detection_rate.value == pytest.approx(alarm[positive].mean())
    assert result.parcel.false_alarm_rate.value == pytest.approx(alarm[~positive].mean())
    assert result.thresholds_source == "card, uncalibrated"
    # The contract model draws exact boxes around the patches: every found patch is a perfect box.
    assert result.coco["mAP50"] > 0.9
    assert sorted(result.per_scanner) == ["alpha", "beta"]

    data = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert data["parcel"]["auc"]["value"] == result.parcel.auc.value
    html = (tmp_path / "eval" / "report.html").read_text()
    assert f'data-key="auc" data-value="{result.parcel.auc.value!r}"' in html
    assert {g.kind for g in result.gallery} <= {"missed", "false_alarm", "hit"} and result.gallery
