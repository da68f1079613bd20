"""ONNX export: parity with PyTorch (post-processing included), checker, card, dynamic batch, CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from tests.unit.models.synthetic import make_shapes_batch, recalibrate_batchnorm, train_steps
from wildxray.core.colour import ENCODING_VERSION
from wildxray.export.card_builder import CARD_KEY, build_card
from wildxray.export.onnx_export import ExportWrapper, card_path_for, export_onnx, read_card_from_onnx
from wildxray.models.build import build_detector
from wildxray.training.criterion import Criterion

CLASSES = ["ivory", "horn", "scales"]
TRAIN_SIZE = 128
DETECTOR_ARGS = {"backbone": "mobilenet_v3_small", "neck_channels": 32}


@pytest.fixture(scope="module")
def trained():
    """A small detector trained briefly on 4 synthetic images, so its scores are meaningful
    (distinct, some far above threshold) rather than the untrained prior of ~0.01 everywhere."""
    torch.manual_seed(0)
    images, targets = make_shapes_batch(4, TRAIN_SIZE, seed=1)
    model = build_detector(len(CLASSES), **DETECTOR_ARGS)
    train_steps(model, Criterion(len(CLASSES)), images, targets, steps=40)
    recalibrate_batchnorm(model, images)
    return model, images


def _card(size: int, **extra) -> dict:
    return build_card(name="test", classes=CLASSES, input_size=size, mean=[123.675, 116.28, 103.53],
                      std=[58.395, 57.12, 57.375], score_threshold=0.02, iou_threshold=0.6, max_detections=30,
                      opset=17, **extra)


def _canvases(images: torch.Tensor, size: int) -> np.ndarray:
    """The training images on a size x size canvas padded with 114, as letterbox would place them."""
    out = np.full((len(images), size, size, 3), 114, np.uint8)
    out[:, :TRAIN_SIZE, :TRAIN_SIZE] = images.permute(0, 2, 3, 1).to(torch.uint8).numpy()
    return out


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory) -> dict[int, Path]:
    model, _ = trained
    out = tmp_path_factory.mktemp("onnx")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        paths = {s: export_onnx(model, out / f"model{s}.onnx", _card(s), s) for s in (256, 320)}
    # The simplified graph passed its own output check (no fallback to the unsimplified one).
    assert not [w for w in record if "onnxslim" in str(w.message)]
    return paths


@pytest.mark.parametrize("size", [256, 320])
@pytest.mark.parametrize("batch", [1, 3])
def test_onnxruntime_matches_pytorch(trained, exported, size: int, batch: int) -> None:
    model, images = trained
    canvases = _canvases(images[:batch], size)
    sess = ort.InferenceSession(str(exported[size]), providers=["CPUExecutionProvider"])
    boxes, scores, labels, num = sess.run(None, {"images": canvases})
    with torch.no_grad():
        ref = [t.numpy() for t in ExportWrapper(model, 0.02, 0.6, 30)(torch.from_numpy(canvases))]
    assert boxes.shape == (batch, 30, 4) and scores.shape == (batch, 30) and labels.shape == (batch, 30) and num.shape == (batch,)
    assert boxes.dtype == np.float32 and scores.dtype == np.float32 and labels.dtype == np.int64 and num.dtype == np.int64
    np.testing.assert_array_equal(num, ref[3])
    assert num.min() >= 1, "the trained model must detect something for parity to mean anything"
    np.testing.assert_array_equal(labels, ref[2])
    np.testing.assert_allclose(scores, ref[1], atol=1e-4, rtol=0)
    np.testing.assert_allclose(boxes, ref[0], rtol=1e-3, atol=1e-3)
    for i in range(batch):  # padding after the valid detections
        assert (labels[i, num[i]:] == -1).all() and (scores[i, num[i]:] == 0).all()


def test_graph_is_valid_standard_onnx_with_dynamic_batch(exported) -> None:
    model = onnx.load(str(exported[256]))
    onnx.checker.check_model(model, full_check=True)
    assert all(op.domain in ("", "ai.onnx") for op in model.opset_import)
    assert "NonMaxSuppression" in {n.op_type for n in model.graph.node}
    inp = model.graph.input[0]
    assert inp.name == "images" and inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [256, 256, 3]
    assert [o.name for o in model.graph.output] == ["boxes", "scores", "labels", "num_detections"]
    sess = ort.InferenceSession(str(exported[256]), providers=["CPUExecutionProvider"])
    for n in (1, 2, 5):
        out = sess.run(None, {"images": np.zeros((n, 256, 256, 3), np.uint8)})
        assert [o.shape[0] for o in out] == [n] * 4


def test_card_travels_inside_and_beside(exported) -> None:
    path = exported[320]
    inside = read_card_from_onnx(path)
    beside = json.loads(card_path_for(path).read_text())
    assert inside == beside
    assert card_path_for(path).name == "model320.card.json"
    assert inside["classes"] == CLASSES and inside["input_size"] == 320 and inside["opset"] == 17
    assert inside["padding_value"] == 114 and inside["max_detections"] == 30 and inside["score_threshold"] == 0.02
    assert inside["operating_point"] == {"thresholds": {c: 0.5 for c in CLASSES}, "calibrated": False,
                                         "target_false_alarm_rate": None, "validation": None}
    assert inside["export_date"].endswith("+00:00")
    assert inside["git_commit"] is None or len(inside["git_commit"]) == 40
    # The torch-free runtime accepts the card as written.
    from wildxray.runtime.model_card import read_card

    assert read_card(path)["classes"] == CLASSES
    keys = [p.key for p in onnx.load(str(path)).metadata_props]
    assert keys == [CARD_KEY]


def test_export_refuses_mismatched_card(trained, tmp_path) -> None:
    model, _ = trained
    with pytest.raises(ValueError, match="card has 2 classes, detector 3"):
        export_onnx(model, tmp_path / "x.onnx", {**_card(256), "classes": ["a", "b"]}, 256)
    with pytest.raises(ValueError, match="multiple of 32"):
        export_onnx(model, tmp_path / "x.onnx", _card(250), 250)


def test_cli_exports_a_trainer_checkpoint(trained, tmp_path, capsys) -> None:
    from wildxray.cli.export import main

    model, images = trained
    config = {"model": {"detector": {"_target_": "wildxray.models.build.build_detector", **DETECTOR_ARGS}, "input_size": 256}}
    ckpt = tmp_path / "last.pt"
    torch.save({"model": {k: torch.zeros_like(v) for k, v in model.state_dict().items()}, "ema": model.state_dict(),
                "config": config, "class_names": CLASSES, "metrics": {"map50": 0.9}}, ckpt)
    out = tmp_path / "export" / "wild.onnx"
    assert main(["--checkpoint", str(ckpt), "--out", str(out), "--score-thresh", "0.02", "--max-det", "30"]) == 0
    assert "wrote" in capsys.readouterr().out
    card = read_card_from_onnx(out)
    assert card["input_size"] == 256 and card["metrics"] == {"map50": 0.9} and card["classes"] == CLASSES
    assert card["modality"] == "xray" and card["training_data"] == {"data": {}}
    assert card["xray_encoding"] == ENCODING_VERSION  # raw scans are rendered as at training time
    # The EMA weights (not the zeroed 'model' weights) were exported: same detections as the trained model.
    canvases = _canvases(images[:2], 256)
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"images": canvases})
    with torch.no_grad():
        ref = ExportWrapper(model, 0.02, 0.6, 30)(torch.from_numpy(canvases))
    np.testing.assert_array_equal(got[3], ref[3].numpy())
    np.testing.assert_allclose(got[1], ref[1].numpy(), atol=1e-4)


def test_cli_reports_a_bad_checkpoint(tmp_path, capsys) -> None:
    from wildxray.cli.export import main

    bad = tmp_path / "bad.pt"
    torch.save({"model": {}}, bad)
    assert main(["--checkpoint", str(bad), "--out", str(tmp_path / "m.onnx")]) == 1
    assert "bad.pt: checkpoint lacks keys ['config', 'class_names']" in capsys.readouterr().err


def test_export_writes_a_slim_fine_tuning_checkpoint(tmp_path):
    """``--weights-out``: EMA weights + config, no optimiser; train.init_from accepts it."""
    import torch

    from tests.conftest import write_shapes_coco
    from wildxray.cli.export import main as export_main
    from wildxray.hydra_compose import compose_config
    from wildxray.training.checkpoint import load_checkpoint
    from wildxray.training.train import train

    ann = write_shapes_coco(tmp_path / "shapes", 8)
    base = ["data=coco", f"data.train.ann_file={ann}", f"data.val.ann_file={ann}", "model=small", "input_size=64",
            "train=smoke", "device=cpu"]
    train(compose_config("train", [*base, f"output_dir={tmp_path / 'run'}"]))
    full = load_checkpoint(tmp_path / "run" / "last.pt")
    assert export_main(["--checkpoint", str(tmp_path / "run" / "last.pt"), "--out", str(tmp_path / "m.onnx"),
                        "--weights-out", str(tmp_path / "weights.pt")]) == 0
    slim = load_checkpoint(tmp_path / "weights.pt")
    assert "optimizer" not in slim and slim["class_names"] == full["class_names"]
    assert all(torch.equal(v, full["ema"][k]) for k, v in slim["model"].items())
    assert (tmp_path / "weights.pt").stat().st_size < 0.6 * (tmp_path / "run" / "last.pt").stat().st_size
    summary = train(compose_config("train", [*base, f"output_dir={tmp_path / 'ft'}",
                                             f"train.init_from={tmp_path / 'weights.pt'}"]))
    assert summary["steps"] == 2
