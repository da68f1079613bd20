"""Ultralytics YOLO (benchmark-only, AGPL-3.0) next to wildxray: build, export, and run its ONNX
model so that wildxray's own evaluator scores it.

The wildxray package never imports ultralytics; only files under ``benchmarks/`` do, and only
lazily inside functions (so ``--help`` works without it). Nothing is downloaded: models are built
from Ultralytics' shipped YAML (``yolov8n.yaml``), never from ``*.pt`` hub weights, and
``YOLO_OFFLINE=1`` is set before ultralytics is imported.

Runtime path of a YOLO model here (what the latency benchmark times, end to end):
``letterbox`` (wildxray's, top-left, pad 114, RGB) -> float32 NCHW / 255 -> onnxruntime ->
``output0 float32 [N, 4 + C, A]`` (cx, cy, w, h in the S x S input frame; per-class sigmoid scores)
-> class-aware NMS with ``cv2.dnn.NMSBoxesBatched`` -> boxes mapped back to original pixels ->
``wildxray.types.Detections``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from wildxray.core.letterbox import DEFAULT_PAD_VALUE, boxes_to_original, letterbox
from wildxray.types import CLASS_NAMES, Detections

YOLO_MODELS = ("yolov8n", "yolo11n")


def offline_ultralytics() -> None:
    """Make ultralytics never touch the network (hub checks, fonts, pip auto-installs)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("ULTRALYTICS_SKIP_REQUIREMENTS_CHECKS", "1")


def build_yolo(name: str, num_classes: int = len(CLASS_NAMES)):
    """An untrained ``ultralytics.YOLO`` built from ``<name>.yaml`` with ``num_classes`` classes."""
    if name not in YOLO_MODELS:
        raise ValueError(f"unknown YOLO model {name!r}; choose from {YOLO_MODELS}")
    offline_ultralytics()
    import yaml
    from ultralytics import YOLO
    from ultralytics.nn.tasks import yaml_model_load

    cfg = yaml_model_load(f"{name}.yaml")  # Ultralytics' shipped YAML; scale guessed from the name
    cfg["nc"] = int(num_classes)
    cfg = {k: v for k, v in cfg.items() if k != "yaml_file"}
    # A persistent file: Ultralytics' trainer re-reads the model YAML by path later on. Its name keeps
    # the scale letter (n) that Ultralytics parses from it.
    folder = Path(tempfile.gettempdir()) / f"wildxray-bench-yolo-nc{num_classes}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    yolo = YOLO(str(path), task="detect")
    yolo.model.names = {i: n for i, n in enumerate(CLASS_NAMES[:num_classes])}
    return yolo


def export_yolo_onnx(yolo_or_weights, out_path: str | Path, imgsz: int, opset: int = 17) -> Path:
    """Export an ultralytics model (object or ``.pt`` path) to ``out_path``: fp32, dynamic batch,
    no NMS in the graph (Ultralytics' default ONNX export), onnxslim-simplified."""
    offline_ultralytics()
    from ultralytics import YOLO

    yolo = YOLO(str(yolo_or_weights), task="detect") if isinstance(yolo_or_weights, (str, Path)) else yolo_or_weights
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="yolo-export-") as tmp:
        # Ultralytics writes beside its weights file (or the cwd): export inside a scratch folder.
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            written = yolo.export(format="onnx", imgsz=imgsz, dynamic=True, simplify=True, opset=opset,
                                  half=False, int8=False, nms=False, batch=1, device="cpu", verbose=False)
        finally:
            os.chdir(cwd)
        written = Path(written) if Path(written).is_absolute() else Path(tmp) / written
        shutil.move(str(written), out_path)
    return out_path


def nms_yolo_output(pred: np.ndarray, score_thresh: float, iou_thresh: float, max_det: int) -> Detections:
    """Class-aware NMS of one image's raw YOLO output.

    pred: float32 ``[4 + C, A]``: rows 0..3 are cx, cy, w, h in the S x S input frame, rows 4.. are
    per-class scores in [0, 1]. Each anchor contributes its best class (Ultralytics' rule for
    single-label NMS). Returns Detections, boxes xyxy in the S x S frame, sorted by score, at most
    ``max_det``.
    """
    scores_all = pred[4:]  # [C, A]
    labels = scores_all.argmax(0)
    scores = scores_all[labels, np.arange(scores_all.shape[1])]
    keep = scores > score_thresh
    if not keep.any():
        return Detections.empty()
    cxcywh, scores, labels = pred[:4, keep].T, scores[keep], labels[keep]
    xywh = cxcywh.copy()
    xywh[:, :2] -= cxcywh[:, 2:] / 2
    idx = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), labels.tolist(), score_thresh, iou_thresh,
                                  top_k=max_det)
    idx = np.asarray(idx, dtype=np.int64).reshape(-1)
    idx = idx[np.argsort(-scores[idx], kind="stable")][:max_det]
    boxes = np.concatenate([xywh[idx, :2], xywh[idx, :2] + xywh[idx, 2:]], axis=1)
    return Detections(boxes, scores[idx], labels[idx])


# mAP is scored with a low floor, as Ultralytics' val (conf 0.001) and COCO practice do: a 0.05 floor
# hid every detection of a briefly trained model and read 0.000 for both (the quick profile's first runs).
SCORE_FLOOR = 0.001


class YoloOnnxDetector:
    """A YOLO ONNX model behind wildxray's ``predict(image) -> Detections`` interface.

    ``predict`` takes an HxWx3 uint8 RGB image and returns Detections in ORIGINAL image pixels, so
    ``wildxray.evaluation`` scores it exactly like an ``OnnxDetector``. Thresholds default to those
    of the benchmark's wildxray exports (score floor ``SCORE_FLOOR``, IoU 0.6, K=100) so both models meet
    the evaluator alike.
    """

    def __init__(self, path: str | Path, input_size: int, threads: int | None = None, score_thresh: float = SCORE_FLOOR,
                 iou_thresh: float = 0.6, max_det: int = 100, pad_value: int = DEFAULT_PAD_VALUE) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        if threads is not None:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        if inp.type != "tensor(float)" or len(inp.shape) != 4:
            raise ValueError(f"{self.path}: expected a float32 NCHW input, got {inp.type} {inp.shape}")
        self.input_name = inp.name
        self.input_size = int(input_size)
        self.score_thresh, self.iou_thresh, self.max_det = float(score_thresh), float(iou_thresh), int(max_det)
        self.pad_value = int(pad_value)

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detections of each HxWx3 uint8 RGB image, boxes in original pixels (one graph run)."""
        canvases, ratios = [], []
        for im in images:
            canvas, r = letterbox(im, self.input_size, self.pad_value)
            canvases.append(canvas)
            ratios.append(r)
        # [N, S, S, 3] uint8 -> [N, 3, S, S] float32 in 0..1 (Ultralytics normalises outside the graph).
        batch = np.stack(canvases).transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255)
        (pred,) = self.session.run(None, {self.input_name: np.ascontiguousarray(batch)})  # [N, 4 + C, A]
        out = []
        for p, r, im in zip(pred, ratios, images):
            d = nms_yolo_output(p, self.score_thresh, self.iou_thresh, self.max_det)
            out.append(Detections(boxes_to_original(d.boxes, r, im.shape[:2]), d.scores, d.labels))
        return out

    def predict(self, image: np.ndarray) -> Detections:
        """Detections of one HxWx3 uint8 RGB image, boxes xyxy float32 in ORIGINAL pixels."""
        return self.predict_batch([image])[0]
