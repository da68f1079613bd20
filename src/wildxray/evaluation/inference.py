"""Run an ONNX model over a COCO set (torch-free: ``wildxray calibrate`` uses it on a station install)."""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import numpy as np

from wildxray.evaluation.records import ParcelRecord, records_from_coco
from wildxray.types import Detections


class Detector(Protocol):
    def predict(self, image: np.ndarray) -> Detections: ...


class ImageDataset(Protocol):
    """``wildxray.data.coco.CocoDataset``: ``ds[i] -> (HxWx3 uint8 RGB, Target)``, ``.coco_dict``."""

    coco_dict: dict

    def __len__(self) -> int: ...

    def __getitem__(self, index: int): ...


def predict_dataset(
    detector: Detector, dataset: ImageDataset, progress: Callable[[int, int], None] | None = None
) -> dict[int, Detections]:
    """``{image_id: Detections}`` (boxes xyxy in original pixels) for every image of ``dataset``."""
    out: dict[int, Detections] = {}
    for i in range(len(dataset)):
        image, target = dataset[i]
        out[int(target.image_id)] = detector.predict(image)
        if progress is not None:
            progress(i + 1, len(dataset))
    return out


def dataset_records(
    detector: Detector, dataset: ImageDataset, class_names: Sequence[str], source: str = "annotations"
) -> tuple[dict[int, Detections], list[ParcelRecord]]:
    """Predictions and the per-parcel records pairing them with the dataset's ground truth."""
    predictions = predict_dataset(detector, dataset)
    return predictions, records_from_coco(dataset.coco_dict, predictions, class_names, source)
