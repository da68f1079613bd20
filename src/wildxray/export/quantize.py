"""Static INT8 (QDQ) quantisation of an exported wildxray model, post-processing kept in fp32.

    wildxray export --checkpoint runs/x/last.pt --out export/model_int8.onnx --int8 --calib-images data/synth/images

What is quantised: the network body (backbone, neck, head towers) of the exported graph, i.e. every
node that feeds one of the head's *final* convolutions. What stays fp32: those final convolutions
(class logits and DFL box-distribution logits; their outputs span a range that 8 bits cannot hold
next to the small values that decide a score), and everything after them: reshapes, DFL softmax,
sigmoid, box decoding, TopK, ``NonMaxSuppression`` and the output padding. Quantising the whole graph
of such a detector collapses every score to zero (the sigmoid input loses its negative tail).

Final convolutions are found on the graph, not by name: a ``Conv`` is final when no other ``Conv`` is
reachable from it along value edges (edges into ``Shape`` only read a tensor's size, so they are
not followed). This is robust to renamed modules and to onnxslim's rewrites.

Calibration images are letterboxed exactly as the station does (``core.letterbox.letterbox``,
the card's size and padding value); dual-energy TIFF/DICOM files are encoded with the same
``to_model_image`` the runtime uses. Activations are uint8 asymmetric, weights int8 per channel.
The output file keeps the input/output contract and carries the card with a ``quantization`` block.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from wildxray.core.image_io import read_image, to_model_image
from wildxray.core.letterbox import letterbox
from wildxray.export.card_builder import CARD_KEY
from wildxray.export.onnx_export import INPUT_NAME, card_path_for, read_card_from_onnx

log = logging.getLogger(__name__)

CALIB_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm", ".bmp")
CALIBRATION_METHODS = ("minmax", "percentile", "entropy")
# Edges into these operators only read shapes, never values: they do not make a node "upstream".
_SHAPE_ONLY = {"Shape", "Size"}


@dataclass
class GraphSplit:
    """Which nodes of the graph are quantised and which stay fp32 (node names)."""

    body: list[str]           # quantisable: backbone, neck, head towers (ancestors of the final convs)
    final_convs: list[str]    # the head's last convolutions (kept fp32)
    fp32: list[str]           # every node outside ``body`` (final convs, decode, NMS, shape plumbing)


def _ensure_node_names(model: onnx.ModelProto) -> None:
    """Name anonymous nodes: ``nodes_to_exclude`` works by name."""
    seen: set[str] = set()
    for i, node in enumerate(model.graph.node):
        if not node.name or node.name in seen:
            node.name = f"{node.op_type}_{i}_wildxray"
        seen.add(node.name)


def split_graph(model: onnx.ModelProto) -> GraphSplit:
    """Partition ``model``'s nodes into the quantisable body and the fp32 rest (see module doc)."""
    _ensure_node_names(model)
    nodes = list(model.graph.node)
    producer = {out: n for n in nodes for out in n.output if out}
    consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for n in nodes:
        for inp in n.input:
            if inp:
                consumers[inp].append(n)

    def value_successors(n: onnx.NodeProto) -> Iterator[onnx.NodeProto]:
        for out in n.output:
            for c in consumers.get(out, ()):
                if c.op_type not in _SHAPE_ONLY:
                    yield c

    # Memoised "does a Conv lie downstream of this node" over the DAG (iterative post-order).
    reaches_conv: dict[str, bool] = {}
    for start in nodes:
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if node.name in reaches_conv:
                continue
            succ = list(value_successors(node))
            if not expanded:
                stack.append((node, True))
                stack.extend((s, False) for s in succ if s.name not in reaches_conv)
            else:
                reaches_conv[node.name] = any(s.op_type == "Conv" or reaches_conv.get(s.name, False) for s in succ)
    final_convs = [n.name for n in nodes if n.op_type == "Conv" and not reaches_conv[n.name]]
    if not final_convs:
        raise ValueError("split_graph: the graph has no Conv node; is this a wildxray detector?")

    # Body = value ancestors of the final convs (the final convs themselves excluded).
    body: set[str] = set()
    frontier = [producer[i] for name in final_convs for i in _node(nodes, name).input if i in producer]
    while frontier:
        node = frontier.pop()
        if node.name in body:
            continue
        body.add(node.name)
        frontier.extend(producer[i] for i in node.input if i in producer)
    body -= set(final_convs)
    ordered_body = [n.name for n in nodes if n.name in body]
    fp32 = [n.name for n in nodes if n.name not in body]
    return GraphSplit(body=ordered_body, final_convs=final_convs, fp32=fp32)


def _node(nodes: Sequence[onnx.NodeProto], name: str) -> onnx.NodeProto:
    return next(n for n in nodes if n.name == name)


def calibration_files(calib_dir: str | Path, max_images: int) -> list[Path]:
    """Image files under ``calib_dir`` (recursively, sorted, at most ``max_images``, evenly spread)."""
    root = Path(calib_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"calibration folder {root} does not exist")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in CALIB_SUFFIXES)
    if not files:
        raise ValueError(f"calibration folder {root} holds no image ({', '.join(CALIB_SUFFIXES)})")
    if len(files) > max_images:  # spread over the folder rather than the first N (often one scanner/day)
        idx = np.linspace(0, len(files) - 1, max_images).round().astype(int)
        files = [files[i] for i in sorted(set(idx))]
    return files


class LetterboxCalibrationReader:
    """onnxruntime ``CalibrationDataReader``: one ``{"images": uint8 [1, S, S, 3]}`` feed per file,
    RGB, letterboxed with the card's size and padding value (as the station feeds the model)."""

    def __init__(self, files: Sequence[Path], input_size: int, padding_value: int) -> None:
        self.files = list(files)
        self.input_size = int(input_size)
        self.padding_value = int(padding_value)
        self._iter: Iterator[dict[str, np.ndarray]] | None = None

    def _feeds(self) -> Iterator[dict[str, np.ndarray]]:
        for path in self.files:
            try:
                image, _ = to_model_image(read_image(path))
            except Exception as exc:  # noqa: BLE001 - name the file whatever the reader raised
                raise ValueError(f"calibration image {path}: cannot be read: {exc}") from exc
            canvas, _ = letterbox(image, self.input_size, self.padding_value)
            yield {INPUT_NAME: np.ascontiguousarray(canvas[None])}

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._iter is None:
            self._iter = self._feeds()
        return next(self._iter, None)

    def rewind(self) -> None:
        self._iter = None


def _calibration_method(name: str):
    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    if name not in methods:
        raise ValueError(f"calibration method must be one of {CALIBRATION_METHODS}, got {name!r}")
    return methods[name]


def _preprocess(fp32_path: Path, out_path: Path) -> Path:
    """onnxruntime's recommended pre-pass (fold constants, infer shapes); the original on failure."""
    try:
        quant_pre_process(str(fp32_path), str(out_path), skip_symbolic_shape=True)
        return out_path
    except Exception as exc:  # noqa: BLE001 - the pre-pass is an optimisation, not a requirement
        log.warning("quant_pre_process failed (%s); quantising the graph as exported", exc)
        return fp32_path


def quantize_onnx(
    fp32_path: str | Path,
    out_path: str | Path,
    calib_dir: str | Path,
    max_images: int = 100,
    method: str = "minmax",
    quantize_final_convs: bool = False,
) -> Path:
    """Write a static INT8 QDQ copy of the exported model ``fp32_path`` to ``out_path`` (+ card JSON).

    Args:
        fp32_path: an exported wildxray model (its card gives the input size and padding value).
        out_path: the INT8 ``.onnx`` to write; ``<stem>.card.json`` is written beside it.
        calib_dir: folder of calibration images (PNG/JPEG 8-bit RGB, or dual-energy TIFF/DICOM),
            ideally a few hundred scans like those the station will see, with and without contraband.
        max_images: use at most this many, spread evenly over the sorted file list.
        method: ``minmax`` | ``percentile`` | ``entropy`` (onnxruntime calibrators).
        quantize_final_convs: also quantise the head's final convolutions (diagnostic; hurts scores).

    Returns ``out_path``. The card gains ``quantization`` (format, types, calibration, fp32 node count).
    """
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    if fp32_path.resolve() == out_path.resolve():
        raise ValueError(f"quantize_onnx: output {out_path} would overwrite the fp32 model")
    card = read_card_from_onnx(fp32_path)
    files = calibration_files(calib_dir, max_images)
    reader = LetterboxCalibrationReader(files, int(card["input_size"]), int(card.get("padding_value", 114)))
    calibrate_method = _calibration_method(method)
    out_path.parent.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="wildxray-int8-") as tmp:
        pre = _preprocess(fp32_path, Path(tmp) / "pre.onnx")
        model = onnx.load(str(pre))
        split = split_graph(model)  # names anonymous nodes, so save the named graph for quantize_static
        named = Path(tmp) / "named.onnx"
        onnx.save(model, str(named))
        quantised = set(split.body) | (set(split.final_convs) if quantize_final_convs else set())
        exclude = [n for n in split.fp32 if n not in quantised]
        log.info("INT8: %d nodes quantisable, %d kept fp32 (final convs: %s), %d calibration images",
                 len(quantised), len(exclude), split.final_convs, len(files))
        quantize_static(
            str(named), str(out_path), reader,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=exclude,
            calibrate_method=calibrate_method,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )

    qmodel = onnx.load(str(out_path))
    card = {
        **card,
        "name": out_path.stem,
        "quantization": {
            "format": "QDQ", "activations": "uint8 asymmetric", "weights": "int8 symmetric per channel",
            "calibration": {"method": method, "images": len(files), "folder": Path(calib_dir).name},
            "fp32_nodes": len(exclude), "final_convs_fp32": not quantize_final_convs,
            "source_model": fp32_path.name,
        },
    }
    del qmodel.metadata_props[:]
    entry = qmodel.metadata_props.add()
    entry.key, entry.value = CARD_KEY, json.dumps(card)
    qmodel.producer_name = "wildxray"
    onnx.checker.check_model(qmodel)
    onnx.save(qmodel, str(out_path))
    card_path_for(out_path).write_text(json.dumps(card, indent=2) + "\n")
    return out_path


__all__ = ["GraphSplit", "LetterboxCalibrationReader", "calibration_files", "quantize_onnx", "split_graph"]
