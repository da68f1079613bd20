"""Core records shared by every part of wildxray: the class taxonomy, targets and detections.

Everything here is numpy-only so that the torch-free runtime can use it.

Conventions (see DESIGN.md):
- Boxes are ``xyxy`` float32 pixels; the frame (original image or letterboxed model input)
  is stated by whoever produces them.
- ``labels`` are 0-based label indices; the COCO category id is ``label + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The model's label order. COCO category id = index + 1. Changing this is a contract change.
CLASS_NAMES: tuple[str, ...] = ("ivory", "horn", "scales", "skin", "bone", "live_animal")

#: COCO ``categories`` block for the default taxonomy.
COCO_CATEGORIES: list[dict] = [
    {"id": i + 1, "name": name, "supercategory": "wildlife"} for i, name in enumerate(CLASS_NAMES)
]

MODALITIES: tuple[str, ...] = ("xray", "xray_dual", "photo")


def coco_categories(class_names: tuple[str, ...] | list[str]) -> list[dict]:
    """COCO ``categories`` for an arbitrary class list (ids are index + 1)."""
    return [{"id": i + 1, "name": n, "supercategory": "wildlife"} for i, n in enumerate(class_names)]


def _as_boxes(boxes) -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float32)
    return arr.reshape(-1, 4)


@dataclass
class Target:
    """Ground truth of one image.

    boxes:  float32 [M, 4] xyxy pixels of the image this target belongs to.
    labels: int64 [M] 0-based label indices.
    image_id: COCO image id (or a running index for generated data).
    class_map: optional uint8 [H, W], bit c set where an item of label c lies (from per-item
        masks, ``data.masks``); None when the source has no masks.
    """

    boxes: np.ndarray
    labels: np.ndarray
    image_id: int = 0
    meta: dict = field(default_factory=dict)
    class_map: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = _as_boxes(self.boxes)
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if len(self.boxes) != len(self.labels):
            raise ValueError(f"Target {self.image_id}: {len(self.boxes)} boxes but {len(self.labels)} labels")

    @property
    def is_clean(self) -> bool:
        """A clean parcel carries no contraband box."""
        return len(self.labels) == 0


@dataclass
class Detections:
    """Detections of one image.

    boxes:  float32 [K, 4] xyxy pixels (frame stated by the producer).
    scores: float32 [K] in [0, 1].
    labels: int64 [K] 0-based label indices.
    parcel_scores: optional float32 [C], the model's image-level probability that the parcel
        holds each class (the ONNX ``parcel_scores`` output); None for a model without it.
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    parcel_scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = _as_boxes(self.boxes)
        self.scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if self.parcel_scores is not None:
            self.parcel_scores = np.asarray(self.parcel_scores, dtype=np.float32).reshape(-1)
        if not (len(self.boxes) == len(self.scores) == len(self.labels)):
            raise ValueError("Detections: boxes, scores and labels differ in length")

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def above(self, threshold: float) -> "Detections":
        keep = self.scores >= threshold
        return Detections(self.boxes[keep], self.scores[keep], self.labels[keep], self.parcel_scores)
