"""Export a ``Detector`` to the one-file ONNX model of DESIGN.md ("The ONNX model").

Graph: ``images uint8 [N, S, S, 3]`` RGB letterboxed -> NCHW float -> detector (normalises inside)
-> decode + class-aware NMS -> ``boxes float32 [N, K, 4]`` xyxy in the S x S frame,
``scores float32 [N, K]``, ``labels int64 [N, K]`` (-1 padding), ``num_detections int64 [N]``.
N is dynamic; S and K are fixed. A detector with a parcel head adds ``parcel_scores float32 [N, C]``
(sigmoid of its image-level logits; additive to the contract). The model card is stored in
``metadata_props`` and beside the file.

Uses the TorchScript-based exporter (``dynamo=False``): it honours the ``symbolic`` of the NMS
``autograd.Function`` that emits the standard ``NonMaxSuppression`` operator.
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import onnxslim
import torch
from torch import nn

from wildxray.export.card_builder import CARD_KEY
from wildxray.models.detector import Detector
from wildxray.models.postprocess import decode_and_nms

log = logging.getLogger(__name__)

INPUT_NAME = "images"
OUTPUT_NAMES = ("boxes", "scores", "labels", "num_detections")
PARCEL_OUTPUT = "parcel_scores"
MIN_OPSET = 17


class ExportWrapper(nn.Module):
    """uint8 NHWC in, final fixed-K detections out (what the ONNX graph computes).

    forward: ``images uint8 [N, S, S, 3]`` -> ``(boxes float32 [N, K, 4], scores float32 [N, K],
    labels int64 [N, K], num_detections int64 [N])``, boxes in the S x S input frame, then
    ``parcel_scores float32 [N, C]`` when the detector has a parcel head.
    """

    def __init__(self, detector: Detector, score_thresh: float, iou_thresh: float, max_det: int, pre_nms_topk: int = 1000) -> None:
        super().__init__()
        self.detector = detector
        self.score_thresh = float(score_thresh)
        self.iou_thresh = float(iou_thresh)
        self.max_det = int(max_det)
        self.pre_nms_topk = int(pre_nms_topk)

    @property
    def output_names(self) -> tuple[str, ...]:
        return OUTPUT_NAMES + ((PARCEL_OUTPUT,) if self.detector.parcel_head is not None else ())

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = images.permute(0, 3, 1, 2).to(torch.float32)  # [N, 3, S, S] 0..255
        outputs = self.detector(x)
        final = decode_and_nms(outputs, self.score_thresh, self.iou_thresh, self.max_det, self.pre_nms_topk)
        if "parcel_logits" in outputs:
            return (*final, outputs["parcel_logits"].sigmoid())  # [N, C]
        return final


def card_path_for(onnx_path: str | Path) -> Path:
    """``<dir>/<stem>.card.json`` beside ``onnx_path``."""
    p = Path(onnx_path)
    return p.with_name(f"{p.stem}.card.json")


def _run_ort(model: onnx.ModelProto, images: np.ndarray) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {INPUT_NAME: images})


def _same_outputs(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(x.shape == y.shape and x.dtype == y.dtype and np.allclose(x, y, rtol=1e-4, atol=1e-4) for x, y in zip(a, b))


def _set_output_shapes(model: onnx.ModelProto, max_det: int) -> None:
    """State the fixed K in the graph outputs (shape inference leaves it symbolic after TopK)."""
    dims = {"boxes": ["batch", max_det, 4], "scores": ["batch", max_det], "labels": ["batch", max_det], "num_detections": ["batch"]}
    for out in model.graph.output:
        if out.name not in dims:  # parcel_scores [batch, C]: inference states it already
            continue
        shape = out.type.tensor_type.shape
        del shape.dim[:]
        for d in dims[out.name]:
            dim = shape.dim.add()
            if isinstance(d, str):
                dim.dim_param = d
            else:
                dim.dim_value = d


def _simplify(model: onnx.ModelProto, input_size: int) -> onnx.ModelProto:
    """onnxslim the graph; keep the original if the result fails the checker, loses the dynamic
    batch, or changes any output on batches of 1 and 3 random images."""
    try:
        slim = onnxslim.slim(copy.deepcopy(model))
        onnx.checker.check_model(slim)
        dim0 = slim.graph.input[0].type.tensor_type.shape.dim[0]
        if not dim0.dim_param:
            raise ValueError("simplified graph lost the dynamic batch axis")
        rng = np.random.default_rng(0)
        for n in (1, 3):
            images = rng.integers(0, 256, (n, input_size, input_size, 3), dtype=np.uint8)
            if not _same_outputs(_run_ort(model, images), _run_ort(slim, images)):
                raise ValueError(f"simplified graph changes the outputs at batch {n}")
    except Exception as exc:  # noqa: BLE001 - any simplifier failure falls back to the exact graph
        warnings.warn(f"onnxslim simplification skipped, exporting the unsimplified graph: {exc}", stacklevel=2)
        return model
    _set_output_shapes(slim, _max_det_of(model))
    return slim


def _max_det_of(model: onnx.ModelProto) -> int:
    return next(o for o in model.graph.output if o.name == "scores").type.tensor_type.shape.dim[1].dim_value


def export_onnx(
    detector: Detector,
    out_path: str | Path,
    card: dict,
    input_size: int,
    opset: int = MIN_OPSET,
    simplify: bool = True,
    pre_nms_topk: int = 1000,
) -> Path:
    """Write ``out_path`` (ONNX) and ``<stem>.card.json``; return ``out_path``.

    Score/IoU thresholds and K come from the card (``score_threshold``, ``iou_threshold``,
    ``max_detections``) so the file and its card cannot disagree; ``input_size`` and ``opset`` are
    written into the card. Runs ``onnx.checker`` on the result.
    """
    if input_size % 32:
        raise ValueError(f"export_onnx: input_size must be a multiple of 32, got {input_size}")
    if opset < MIN_OPSET:
        raise ValueError(f"export_onnx: opset {opset} < {MIN_OPSET}")
    missing = [k for k in ("classes", "score_threshold", "iou_threshold", "max_detections") if k not in card]
    if missing:
        raise ValueError(f"export_onnx: card lacks {missing}")
    if len(card["classes"]) != detector.num_classes:
        raise ValueError(f"export_onnx: card has {len(card['classes'])} classes, detector {detector.num_classes}")
    card = {**card, "input_size": int(input_size), "opset": int(opset)}
    if detector.parcel_head is not None:
        card["extra_outputs"] = {PARCEL_OUTPUT: {
            "dtype": "float32", "shape": ["N", detector.num_classes],
            "what": "probability that the parcel holds each class (image-level head), in the card's class order"}}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)

    wrapper = ExportWrapper(
        copy.deepcopy(detector).eval(), card["score_threshold"], card["iou_threshold"], card["max_detections"], pre_nms_topk
    ).eval()
    # Batch 2 so the tracer cannot specialise anything to a batch of one.
    dummy = torch.randint(0, 256, (2, input_size, input_size, 3), dtype=torch.uint8)
    dynamic = {name: {0: "batch"} for name in (INPUT_NAME, *wrapper.output_names)}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        torch.onnx.export(
            wrapper,
            (dummy,),
            str(out_path),
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=list(wrapper.output_names),
            dynamic_axes=dynamic,
            opset_version=opset,
            do_constant_folding=True,
        )
    model = onnx.load(str(out_path))
    _set_output_shapes(model, int(card["max_detections"]))
    onnx.checker.check_model(model)
    if simplify:
        model = _simplify(model, input_size)
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = CARD_KEY, json.dumps(card)
    model.producer_name = "wildxray"
    model.doc_string = f"wildxray detector '{card.get('name', '')}': uint8 [N,{input_size},{input_size},3] RGB letterboxed"
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))
    card_path_for(out_path).write_text(json.dumps(card, indent=2) + "\n")
    log.info("exported %s (opset %d, input %d) and %s", out_path, opset, input_size, card_path_for(out_path))
    return out_path


def read_card_from_onnx(path: str | Path) -> dict:
    """The card stored in an exported file's ``metadata_props`` (torch-free readers use ``runtime.model_card``)."""
    model = onnx.load(str(path), load_external_data=False)
    for entry in model.metadata_props:
        if entry.key == CARD_KEY:
            return json.loads(entry.value)
    raise ValueError(f"{path}: no '{CARD_KEY}' entry in metadata_props")
