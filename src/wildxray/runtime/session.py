"""The onnxruntime session around one exported wildxray model (numpy, OpenCV, onnxruntime only).

``OnnxDetector(path).predict(image)`` takes an HxWx3 uint8 RGB image and returns
:class:`~wildxray.types.Detections` in ORIGINAL image pixels: it letterboxes with the one
``letterbox`` (the card's size and padding value), runs the graph (NMS is inside it), keeps the first
``num_detections`` rows and maps boxes back with ``boxes_to_original``. Tall or long conveyor scans
(aspect ratio above ``tile_aspect``) are tiled, see :mod:`wildxray.runtime.tiling`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from wildxray.core.letterbox import boxes_to_original, letterbox
from wildxray.runtime.decision import ParcelDecision, parcel_decision, parcel_evidence
from wildxray.runtime.model_card import ModelCardError, card_from_metadata, validate_card
from wildxray.runtime.tiling import (
    DEFAULT_OVERLAP,
    DEFAULT_TILE_ASPECT,
    drop_cut_boxes,
    long_boxes_only,
    merge_detections,
    needs_tiling,
    shift,
    tiles_for,
)
from wildxray.core.colour import ENCODING_VERSION, XRAY_MODALITIES
from wildxray.types import Detections

log = logging.getLogger(__name__)

OUTPUT_NAMES = ("boxes", "scores", "labels", "num_detections")
#: Optional, additive output (DESIGN.md): float32 [N, C] image-level class probabilities.
PARCEL_OUTPUT = "parcel_scores"
INPUT_NAME = "images"


def encoding_mismatch(card: dict[str, Any], path: str | Path) -> str | None:
    """Why raw dual-energy scans would reach this model unlike the scans it learnt from, or None.

    Cards from before the field existed were trained on encoding 1. 8-bit pseudo-colour inputs
    (rendered by the scanner itself) are unaffected."""
    if card.get("modality") not in XRAY_MODALITIES:
        return None
    trained_on = int(card.get("xray_encoding", 1))
    if trained_on == ENCODING_VERSION:
        return None
    return (f"{path}: the model was trained on dual-energy encoding {trained_on}, this runtime renders raw "
            f"(16-bit TIFF/DICOM) scans with encoding {ENCODING_VERSION}; its detections on raw scans may be "
            "degraded (8-bit pseudo-colour scans are unaffected). Fine-tune and re-export it with this version.")


class ModelContractError(ValueError):
    """The ONNX graph's inputs/outputs do not follow DESIGN.md's model contract."""


class OnnxDetector:
    """One loaded model: session, validated card and the file's sha256.

    Args:
        path: the ``.onnx`` file (its card must be in ``metadata_props['wildxray_card']``).
        threads: onnxruntime intra-op threads (None: onnxruntime's default, one per core).
        providers: onnxruntime execution providers (default CPU only).
        tile_aspect: tile images whose long/short side ratio exceeds this (default: the card's
            ``tile_aspect`` or 2.5); ``None``-able via ``float("inf")`` to never tile.
        tile_overlap: overlap fraction between neighbouring tiles.

    Raises ModelCardError (missing/invalid card) and ModelContractError (wrong inputs/outputs).
    """

    def __init__(self, path: str | Path, threads: int | None = None, providers: Sequence[str] | None = None,
                 tile_aspect: float | None = None, tile_overlap: float = DEFAULT_OVERLAP) -> None:
        import onnxruntime as ort  # start-up: onnxruntime (~1 s) loads when a model is opened, not with `--help`

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such model file")
        # Hash and load the same bytes, so the sha256 in every result names the graph that ran
        # even if the file is replaced while we load it.
        data = self.path.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        opts = ort.SessionOptions()
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        if threads is not None:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(data, sess_options=opts,
                                                providers=list(providers or ["CPUExecutionProvider"]))
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelContractError(f"{self.path}: onnxruntime cannot load the model: {exc}") from exc
        self.card: dict[str, Any] = validate_card(
            card_from_metadata(self.session.get_modelmeta().custom_metadata_map, self.path), self.path)
        self.class_names: tuple[str, ...] = tuple(self.card["classes"])
        self.input_size: int = int(self.card["input_size"])
        self.padding_value: int = int(self.card["padding_value"])
        self.thresholds: dict[str, float] = {k: float(v) for k, v in self.card["operating_point"]["thresholds"].items()}
        self.name: str = str(self.card.get("name") or self.path.stem)
        self.tile_aspect = float(tile_aspect if tile_aspect is not None
                                 else self.card.get("tile_aspect", DEFAULT_TILE_ASPECT))
        self.tile_overlap = float(tile_overlap)
        self.iou_threshold = float(self.card.get("iou_threshold", 0.5))
        self._check_contract()
        self.has_parcel_scores = PARCEL_OUTPUT in {o.name for o in self.session.get_outputs()}
        #: What the parcel decision is made on: "boxes" (highest box score per class, the default and
        #: the only choice without a parcel head) or "parcel_head" (the card's calibrated choice).
        op = self.card["operating_point"]
        self.parcel_score_source: str = str(op.get("parcel_score", "boxes"))
        self.parcel_thresholds: dict[str, float] = self.thresholds
        if self.parcel_score_source == "parcel_head":
            if not self.has_parcel_scores:
                raise ModelContractError(f"{self.path}: the card decides on 'parcel_head' scores but the graph has "
                                         f"no '{PARCEL_OUTPUT}' output")
            self.parcel_thresholds = {k: float(v) for k, v in op["parcel_thresholds"].items()}
        self.encoding_warning = encoding_mismatch(self.card, self.path)
        if self.encoding_warning:
            log.warning(self.encoding_warning)

    def _check_contract(self) -> None:
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME or inputs[0].type != "tensor(uint8)":
            got = [(i.name, i.type, i.shape) for i in inputs]
            raise ModelContractError(f"{self.path}: expected one input 'images' uint8 [N,S,S,3], got {got}")
        shape = inputs[0].shape
        if len(shape) != 4 or shape[3] != 3 or (isinstance(shape[1], int) and shape[1] != self.input_size):
            raise ModelContractError(f"{self.path}: input 'images' has shape {shape}; the card says "
                                     f"[N,{self.input_size},{self.input_size},3]")
        names = {o.name for o in self.session.get_outputs()}
        missing = [n for n in OUTPUT_NAMES if n not in names]
        if missing:
            raise ModelContractError(f"{self.path}: outputs {missing} missing (have {sorted(names)})")
        for out in self.session.get_outputs():
            if out.name != PARCEL_OUTPUT:
                continue
            dims = out.shape
            fits = len(dims) == 2 and (not isinstance(dims[1], int) or dims[1] == len(self.class_names))
            if out.type != "tensor(float)" or not fits:
                raise ModelContractError(f"{self.path}: output '{PARCEL_OUTPUT}' must be float32 [N, "
                                         f"{len(self.class_names)}], got {out.type} {dims}")

    def decide(self, detections: Detections) -> ParcelDecision:
        """The parcel decision on this model's detections, on what its card was calibrated on
        (box scores against ``thresholds``, or parcel scores against ``parcel_thresholds``)."""
        evidence = parcel_evidence(detections, self.parcel_score_source)
        return parcel_decision(evidence, self.class_names, self.parcel_thresholds)

    @property
    def info(self) -> dict[str, Any]:
        """The ``model`` block of a result: name, sha256, input size."""
        return {"name": self.name, "sha256": self.sha256, "input_size": self.input_size}

    # -- inference ---------------------------------------------------------------------------
    def _check_image(self, image: np.ndarray) -> None:
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            got = getattr(image, "shape", None), getattr(image, "dtype", None)
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got shape/dtype {got}")
        if image.shape[0] < 1 or image.shape[1] < 1:
            raise ValueError(f"empty image of shape {image.shape}")

    def _run(self, canvases: np.ndarray) -> list[Detections]:
        """canvases: uint8 [N,S,S,3] -> per image Detections in the S x S frame (with
        ``parcel_scores`` when the graph has that output)."""
        names = list(OUTPUT_NAMES) + ([PARCEL_OUTPUT] if self.has_parcel_scores else [])
        boxes, scores, labels, num, *extra = self.session.run(names, {INPUT_NAME: canvases})
        out = []
        for i in range(canvases.shape[0]):
            n = int(num[i])
            lab = labels[i, :n].astype(np.int64)
            keep = lab >= 0  # defensive: padding rows must never become detections
            out.append(Detections(boxes[i, :n][keep], scores[i, :n][keep], lab[keep],
                                  extra[0][i] if extra else None))
        return out

    def _predict_plain(self, images: Sequence[np.ndarray]) -> list[Detections]:
        canvases, ratios = [], []
        for im in images:
            canvas, r = letterbox(im, self.input_size, self.padding_value)
            canvases.append(canvas)
            ratios.append(r)
        raw = self._run(np.stack(canvases))
        return [Detections(boxes_to_original(d.boxes, r, im.shape[:2]), d.scores, d.labels, d.parcel_scores)
                for d, r, im in zip(raw, ratios, images)]

    def _predict_tiled(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        tiles = tiles_for(h, w, self.tile_overlap)
        crops = [np.ascontiguousarray(image[t.y0:t.y1, t.x0:t.x1]) for t in tiles]
        per_tile = self._predict_plain(crops)
        parts = [shift(drop_cut_boxes(d, t, h, w), t) for d, t in zip(per_tile, tiles)]
        # The whole-image pass finds objects too long for any tile; smaller ones are left to the tiles.
        vertical = h >= w
        overlap_px = self.tile_overlap * min(h, w)
        whole = self._predict_plain([image])[0]
        parts.append(long_boxes_only(whole, overlap_px, vertical))
        merged = merge_detections(parts, self.iou_threshold, self.card.get("max_detections"))
        if whole.parcel_scores is not None:  # the parcel holds class c if any view of it does
            merged.parcel_scores = np.max([d.parcel_scores for d in (*per_tile, whole)], axis=0)
        return merged

    def predict(self, image: np.ndarray) -> Detections:
        """Detections of one HxWx3 uint8 RGB image; boxes xyxy float32 in ORIGINAL pixels."""
        self._check_image(image)
        if needs_tiling(image.shape[0], image.shape[1], self.tile_aspect):
            return self._predict_tiled(image)
        return self._predict_plain([image])[0]

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detections of several images (one graph run for all non-tiled ones), in input order."""
        for im in images:
            self._check_image(im)
        out: list[Detections | None] = [None] * len(images)
        plain = [i for i, im in enumerate(images)
                 if not needs_tiling(im.shape[0], im.shape[1], self.tile_aspect)]
        if plain:
            for i, d in zip(plain, self._predict_plain([images[i] for i in plain])):
                out[i] = d
        for i, im in enumerate(images):
            if out[i] is None:
                out[i] = self._predict_tiled(im)
        return out  # type: ignore[return-value]


__all__ = ["OnnxDetector", "ModelCardError", "ModelContractError"]
