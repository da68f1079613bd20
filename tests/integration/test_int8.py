"""INT8 export: a tiny detector is exported to ONNX and quantised with ``wildxray.export.quantize``
(static QDQ, post-processing fp32). The INT8 file must (1) really be quantised, (2) keep the model
contract in onnxruntime, (3) find what the fp32 model finds (slow: the detector first memorises a
few shape images, which takes minutes on a shared 2-core machine)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import torch

from tests.unit.models.synthetic import make_shapes_batch, recalibrate_batchnorm, train_steps
from wildxray.export.card_builder import build_card
from wildxray.export.onnx_export import export_onnx
from wildxray.export.quantize import calibration_files, quantize_onnx, split_graph
from wildxray.models.build import build_detector
from wildxray.runtime.session import OnnxDetector
from wildxray.training.criterion import Criterion
from wildxray.types import CLASS_NAMES, Detections

SIZE = 128
CLASSES = list(CLASS_NAMES[:3])
# prior_prob 0.3: an untrained head scores every anchor ~0.3, so the fast tests see full K slots.
DETECTOR_CFG = {"_target_": "wildxray.models.build.build_detector", "backbone": "mobilenet_v3_small",
                "neck_channels": 32, "head_convs": 1, "prior_prob": 0.3}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _write_pngs(folder: Path, images: list[np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(images):
        cv2.imwrite(str(folder / f"scan_{i:02d}.png"), im[:, :, ::-1])


def _rgb(batch: torch.Tensor) -> list[np.ndarray]:
    return [im.permute(1, 2, 0).numpy().astype(np.uint8) for im in batch]


def _export(model: torch.nn.Module, path: Path) -> Path:
    card = build_card(name=path.stem, classes=CLASSES, input_size=SIZE, mean=model.mean.flatten().tolist(),
                      std=model.std.flatten().tolist(), score_threshold=0.05, iou_threshold=0.6,
                      max_detections=20, opset=17, commit="test")
    return export_onnx(model.eval(), path, card, SIZE)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict:
    """An untrained tiny detector (fp32 ONNX + its INT8 copy), calibration PNGs and a
    trainer-format checkpoint of it."""
    root = tmp_path_factory.mktemp("int8")
    torch.manual_seed(0)
    model = build_detector(len(CLASSES), "mobilenet_v3_small", neck_channels=32, head_convs=1, prior_prob=0.3).eval()
    images, _ = make_shapes_batch(8, SIZE, seed=7)
    _write_pngs(root / "calib", _rgb(images))
    fp32 = _export(model, root / "tiny.onnx")
    ckpt = root / "tiny.pt"
    torch.save({"model": model.state_dict(), "ema": None, "class_names": CLASSES,
                "config": {"model": {"detector": DETECTOR_CFG}, "input_size": SIZE}}, ckpt)
    int8 = quantize_onnx(fp32, root / "tiny_int8.onnx", root / "calib", max_images=8)
    return {"root": root, "fp32": fp32, "int8": int8, "calib": root / "calib", "images": _rgb(images), "ckpt": ckpt}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A tiny detector that memorised 4 shape images, exported fp32 and INT8 (calibrated on those
    images and 4 unseen ones)."""
    root = tmp_path_factory.mktemp("int8_trained")
    torch.manual_seed(0)
    images, targets = make_shapes_batch(4, SIZE, seed=1)
    model = build_detector(len(CLASSES), "mobilenet_v3_small", neck_channels=32, head_convs=1)
    train_steps(model, Criterion(len(CLASSES)), images, targets, steps=60)
    recalibrate_batchnorm(model, images)
    extra, _ = make_shapes_batch(4, SIZE, seed=7)
    _write_pngs(root / "calib", _rgb(images) + _rgb(extra))
    fp32 = _export(model, root / "tiny.onnx")
    int8 = quantize_onnx(fp32, root / "tiny_int8.onnx", root / "calib", max_images=8)
    return {"fp32": fp32, "int8": int8, "images": _rgb(images), "targets": targets}


def test_split_keeps_head_outputs_and_postprocessing_fp32(exported) -> None:
    split = split_graph(onnx.load(str(exported["fp32"])))
    # One class conv and one box conv per pyramid level (strides 8, 16, 32).
    assert len(split.final_convs) == 6
    assert all("head" in name for name in split.final_convs)
    ops = {n.name: n.op_type for n in onnx.load(str(exported["fp32"])).graph.node}
    fp32_ops = {ops[n] for n in split.fp32}
    assert {"NonMaxSuppression", "TopK", "Sigmoid", "Softmax"} <= fp32_ops
    body_ops = {ops[n] for n in split.body}
    assert "Conv" in body_ops and not body_ops & {"NonMaxSuppression", "TopK", "Sigmoid", "Softmax"}


def test_int8_graph_is_quantised_with_fp32_postprocessing(exported) -> None:
    model = onnx.load(str(exported["int8"]))
    nodes = list(model.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    dq_convs = [n for n in nodes if n.op_type == "Conv" and n.input[0] in producer
                and producer[n.input[0]].op_type == "DequantizeLinear"]
    assert len(dq_convs) >= 20, "most convolutions must read quantised activations"
    # Weights are stored as int8 initialisers.
    int8_inits = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert len(int8_inits) >= 20
    # Nothing after the head's final convs is quantised: NMS, TopK, sigmoid and softmax read fp32.
    for n in nodes:
        if n.op_type in ("NonMaxSuppression", "TopK", "Sigmoid", "Softmax"):
            srcs = [producer[i].op_type for i in n.input if i in producer]
            assert "DequantizeLinear" not in srcs, f"{n.op_type} {n.name} reads a dequantised tensor"
    card = json.loads(next(p.value for p in model.metadata_props if p.key == "wildxray_card"))
    assert card["quantization"]["format"] == "QDQ" and card["quantization"]["calibration"]["images"] == 8
    assert card["classes"] == CLASSES and card["input_size"] == SIZE
    assert json.loads((exported["root"] / "tiny_int8.card.json").read_text()) == card


def test_int8_model_obeys_the_output_contract(exported) -> None:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(exported["int8"]), providers=["CPUExecutionProvider"])
    batch = np.stack([np.full((SIZE, SIZE, 3), 114, np.uint8), np.ascontiguousarray(exported["images"][0])])
    boxes, scores, labels, num = sess.run(["boxes", "scores", "labels", "num_detections"], {"images": batch})
    assert boxes.shape == (2, 20, 4) and boxes.dtype == np.float32
    assert scores.shape == (2, 20) and scores.dtype == np.float32
    assert labels.shape == (2, 20) and labels.dtype == np.int64
    assert num.shape == (2,) and num.dtype == np.int64
    for i in range(2):
        n = int(num[i])
        assert (labels[i, n:] == -1).all() and (scores[i, n:] == 0).all()
        assert (labels[i, :n] >= 0).all() and (labels[i, :n] < len(CLASSES)).all()
        assert (np.diff(scores[i, :n]) <= 1e-6).all()
        assert (boxes[i, :n] >= 0).all() and (boxes[i, :n] <= SIZE).all()
    assert (num == 20).all(), "an untrained head at prior 0.3 fills every slot"


@pytest.mark.slow
def test_int8_detections_match_fp32(trained) -> None:
    fp32, int8 = OnnxDetector(trained["fp32"], threads=1), OnnxDetector(trained["int8"], threads=1)
    matched, total = 0, 0
    for image, target in zip(trained["images"], trained["targets"]):
        ref: Detections = fp32.predict(image).above(0.3)
        got: Detections = int8.predict(image).above(0.1)
        assert len(ref) >= len(target["labels"]) - 1, "the fp32 model must have memorised its images"
        for box, score, label in zip(ref.boxes, ref.scores, ref.labels):
            total += 1
            same = [j for j in range(len(got)) if got.labels[j] == label and _iou(box, got.boxes[j]) >= 0.7]
            if same:
                matched += 1
                assert abs(float(got.scores[same[0]]) - float(score)) < 0.2
    assert total >= 4
    assert matched / total >= 0.8, f"only {matched}/{total} fp32 detections found again by the INT8 model"


def test_export_cli_int8(exported, tmp_path: Path) -> None:
    from wildxray.cli.export import main

    out = tmp_path / "cli_model.onnx"
    assert main(["--checkpoint", str(exported["ckpt"]), "--out", str(out), "--int8",
                 "--calib-images", str(exported["calib"]), "--calib-max", "4", "--max-det", "20"]) == 0
    assert (tmp_path / "cli_model.fp32.onnx").is_file() and (tmp_path / "cli_model.card.json").is_file()
    det = OnnxDetector(out, threads=1)
    assert det.card["quantization"]["calibration"]["images"] == 4
    assert len(det.predict(exported["images"][0])) == 20


def test_bad_calibration_input_is_named(exported, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=str(tmp_path)):
        calibration_files(tmp_path, 10)  # an empty folder
    with pytest.raises(FileNotFoundError, match="nope"):
        quantize_onnx(exported["fp32"], tmp_path / "q.onnx", tmp_path / "nope")
    with pytest.raises(ValueError, match="overwrite"):
        quantize_onnx(exported["fp32"], exported["fp32"], exported["calib"])
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png"):
        quantize_onnx(exported["fp32"], tmp_path / "q.onnx", tmp_path)


def test_cli_int8_requires_calibration_images(exported, tmp_path: Path) -> None:
    from wildxray.cli.export import main

    with pytest.raises(SystemExit) as exc:
        main(["--checkpoint", str(exported["ckpt"]), "--out", str(tmp_path / "m.onnx"), "--int8"])
    assert exc.value.code == 2
