"""Torch view of a detection dataset: applies a ``DetectionTransform`` and makes tensors.

``DetectionDataset(source, transform)[i] -> (image uint8 [3, S, S] RGB, target)`` with target
``{"boxes": float32 [M, 4] xyxy in the S x S letterboxed frame, "labels": int64 [M] 0-based,
"image_id": int, "orig_size": (height, width) of the source image}``, plus ``"class_map": uint8
[S, S]`` (bit c = label c) when the source gives the image's masks. ``collate`` stacks images
to uint8 [B, 3, S, S] and keeps targets as a list (M differs per image; a clean image has M = 0).

With a ``mosaic`` (``data.mosaic``), an item becomes, with its probability, the mosaic of itself
and three items drawn uniformly from the same source, before the transform; ``orig_size`` is then
the mosaic's (S, S).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from wildxray.data.mosaic import TILES, Mosaic
from wildxray.types import Target

TransformFn = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


class DetectionSource(Protocol):
    """Anything indexable that yields ``(image HxWx3 uint8 RGB, Target)``, e.g. ``CocoDataset``."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> tuple[np.ndarray, Target]: ...


class DetectionDataset(Dataset):
    """See the module docstring. ``transform`` is e.g. ``build_transforms("xray", 640, train=True)``.

    With ``seed`` set, every random source is seeded from (seed, epoch, index) before a sample is
    made: its augmentation then depends only on which sample is drawn in which epoch, not on worker
    scheduling, so a resumed run sees exactly what the uninterrupted run would have seen. Call
    ``set_epoch`` before each epoch (DataLoader workers must not be persistent, or they keep the old
    epoch). Without ``seed``, each worker draws its own stream from torch's worker seed.
    The mosaic draws (whether, which partners, where) come from a generator of their own, so a
    mosaic of probability 0 leaves every item exactly as it is without one.
    """

    def __init__(self, source: DetectionSource, transform: TransformFn, seed: int | None = None,
                 mosaic: Mosaic | None = None):
        self.source = source
        self.transform = transform
        self.seed = seed
        self.mosaic = mosaic
        self.epoch = 0
        self._seeded_for: tuple[int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, Any]]:
        if self.seed is None:
            self._seed_worker()
        else:
            self._seed_item(index)
        image, target = self.source[index]
        if self.mosaic is not None:
            rng = self._mosaic_rng(index)
            if self.mosaic.wanted(rng):
                partners = rng.integers(0, len(self.source), size=TILES - 1)
                image, target = self.mosaic([(image, target)] + [self.source[int(j)] for j in partners], rng)
        class_map = None
        if target.class_map is not None and hasattr(self.transform, "transform_with_map"):
            canvas, boxes, labels, class_map = self.transform.transform_with_map(
                image, target.boxes, target.labels, target.class_map)
        else:
            canvas, boxes, labels = self.transform(image, target.boxes, target.labels)
        tensor = torch.from_numpy(np.ascontiguousarray(canvas.transpose(2, 0, 1)))  # HWC -> CHW
        out = {
            "boxes": torch.from_numpy(np.asarray(boxes, dtype=np.float32).reshape(-1, 4)),
            "labels": torch.from_numpy(np.asarray(labels, dtype=np.int64).reshape(-1)),
            "image_id": int(target.image_id),
            "orig_size": (int(image.shape[0]), int(image.shape[1])),
        }
        if class_map is not None:
            out["class_map"] = torch.from_numpy(np.ascontiguousarray(class_map))
        return tensor, out

    def _mosaic_rng(self, index: int) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng()  # fresh entropy per item: no worker repeats another's
        # a child of the item's seed sequence: independent of the draws seeded from it in _seed_item
        return np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, index]).spawn(1)[0])

    def _seed_item(self, index: int) -> None:
        item_seed = int(np.random.SeedSequence([self.seed, self.epoch, index]).generate_state(1)[0])
        random.seed(item_seed)
        np.random.seed(item_seed)
        torch.manual_seed(item_seed)
        set_seed = getattr(self.transform, "set_seed", None)
        if set_seed is not None:
            set_seed(item_seed)

    def _seed_worker(self) -> None:
        # Forked DataLoader workers inherit one copy of the transform's random state, so without
        # this every worker would draw the same augmentations. torch gives each worker (and each
        # epoch, unless workers persist) its own seed.
        info = get_worker_info()
        if info is None or self._seeded_for == (info.id, info.seed):
            return
        set_seed = getattr(self.transform, "set_seed", None)
        if set_seed is not None:
            set_seed(info.seed % 2**32)
        self._seeded_for = (info.id, info.seed)


def collate(batch: Sequence[tuple[torch.Tensor, dict[str, Any]]]) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """Stack images (uint8 [B, 3, S, S]); targets stay a list of dicts."""
    if not batch:
        raise ValueError("collate: empty batch")
    shapes = {tuple(img.shape) for img, _ in batch}
    if len(shapes) != 1:
        raise ValueError(f"collate: images of different shapes {sorted(shapes)}; letterbox them to one size")
    return torch.stack([img for img, _ in batch]), [t for _, t in batch]
