"""Shrink large training images to about the input size once, and keep them decoded.

A 2688x2208 scan trained at 640 px pays for 6 megapixels in every augmentation op and a full JPEG
decode every epoch, for pixels the letterbox then throws away. ``PresizedSource`` wraps a
``DetectionSource`` (e.g. ``CocoDataset``) and hands out each image scaled so that its long side is
at most ``max_side`` (``presize_factor x input_size``: the factor leaves room for the augmentation's
zoom-in, so the one letterbox at the end still downsamples), with its boxes and class map scaled by
the same per-axis ratios the pixels were, so boxes stay exact. Images already small enough pass
through untouched.

``cache`` (like Ultralytics' ``cache=``):
- ``None``: shrink on every read.
- ``"ram"``: read and shrink every image once, in the main process before training
  (``prefill``), so forked DataLoader workers share the decoded pixels copy-on-write.
- ``"disk"``: keep each shrunk image (and class map) as ``.npy`` under ``cache_dir``, named by the
  source file's path, size, modification time and ``max_side``: a changed file or size is a new
  entry, never a stale one. Written atomically, so workers racing on one entry are harmless.

Training-only: validation keeps the original frame, because predictions are scored against the
annotation file's coordinates.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from wildxray.core.atomic_write import atomic_write_bytes
from wildxray.types import Target

CACHE_MODES = (None, "ram", "disk")
#: Bump when the cached content changes meaning, so old disk entries are not reused.
_DISK_FORMAT = 1


def presize(image: np.ndarray, target: Target, max_side: int) -> tuple[np.ndarray, Target]:
    """Scale ``image`` (and ``target``'s boxes and class map) so its long side is <= ``max_side``.

    INTER_AREA for the pixels (it averages, so a 4x shrink does not alias the thin edges X-ray
    objects are recognised by), nearest-neighbour for the class map, boxes by the per-axis ratio of
    the rounded new size to the old, so they follow the pixels exactly. Returns the inputs when the
    image is already small enough.
    """
    if max_side <= 0:
        raise ValueError(f"max_side must be positive, got {max_side}")
    h, w = image.shape[:2]
    ratio = max_side / max(h, w)
    if ratio >= 1.0:
        return image, target
    new_w, new_h = max(1, round(w * ratio)), max(1, round(h * ratio))
    small = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    boxes = target.boxes * np.array([new_w / w, new_h / h, new_w / w, new_h / h], dtype=np.float32)
    class_map = target.class_map
    if class_map is not None:
        class_map = cv2.resize(class_map, (new_w, new_h), interpolation=cv2.INTER_NEAREST)
    return small, replace(target, boxes=boxes, labels=target.labels.copy(), class_map=class_map)


class PresizedSource:
    """A ``DetectionSource`` of ``source``'s items shrunk by ``presize``; see the module docstring."""

    def __init__(self, source, max_side: int, cache: str | None = None, cache_dir: str | Path | None = None):
        if cache not in CACHE_MODES:
            raise ValueError(f"data.cache must be one of null, ram, disk; got {cache!r}")
        if cache == "disk":
            if cache_dir is None:
                raise ValueError("data.cache=disk needs data.cache_dir (a folder for the decoded images)")
            if not hasattr(source, "images"):
                raise ValueError("data.cache=disk needs a source with image files (a COCO or YOLO dataset)")
        if max_side <= 0:
            raise ValueError(f"max_side must be positive, got {max_side}")
        self.source, self.max_side, self.cache = source, int(max_side), cache
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self._ram: dict[int, tuple[np.ndarray, Target]] = {}

    def __len__(self) -> int:
        return len(self.source)

    def __getattr__(self, name: str):
        # class_names, targets (for the repeat-factor sampler), images, ...: the source's own.
        # The sampler's box statistics only count labels, so unscaled targets are fine there.
        if name == "source":  # not yet set (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.source, name)

    def __getitem__(self, index: int) -> tuple[np.ndarray, Target]:
        if self.cache == "ram":
            hit = self._ram.get(index)
            if hit is None:
                hit = self._ram[index] = self._read(index)
            image, target = hit
            # Augmentation must not write into the shared cached arrays.
            return image.copy(), replace(target, boxes=target.boxes.copy(), labels=target.labels.copy())
        if self.cache == "disk":
            return self._read_disk(index)
        return self._read(index)

    def prefill(self, threads: int = 2, progress: Callable[[int], None] | None = None) -> None:
        """Decode and shrink every image now (``ram``, ``disk``); a no-op without a cache.

        Threads, not processes: OpenCV's decode and resize release the GIL.
        """
        if self.cache is None:
            return
        fill = self._fill_ram if self.cache == "ram" else self._read_disk
        with ThreadPoolExecutor(max(1, threads)) as pool:
            for _ in pool.map(fill, range(len(self))):
                if progress is not None:
                    progress(1)

    def cached_bytes(self) -> int:
        """Bytes of decoded pixels held in RAM (0 for the other modes)."""
        return sum(img.nbytes + (t.class_map.nbytes if t.class_map is not None else 0) for img, t in self._ram.values())

    def _fill_ram(self, index: int) -> None:
        if index not in self._ram:
            self._ram[index] = self._read(index)

    def _read(self, index: int) -> tuple[np.ndarray, Target]:
        image, target = self.source[index]
        return presize(image, target, self.max_side)

    def _disk_path(self, index: int) -> Path:
        path = Path(self.source.images[index].path).resolve()
        st = path.stat()
        key = f"{_DISK_FORMAT}|{path}|{st.st_size}|{st.st_mtime_ns}|{self.max_side}"
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz"

    def _read_disk(self, index: int) -> tuple[np.ndarray, Target]:
        entry = self._disk_path(index)
        if entry.exists():
            with np.load(entry) as z:
                image = z["image"]
                class_map = z["class_map"] if "class_map" in z.files else None
            return image, self._scaled_target(index, image, class_map)
        image, target = self._read(index)
        arrays = {"image": image}
        if target.class_map is not None:
            arrays["class_map"] = target.class_map
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # uncompressed: the point is to skip decoding
        atomic_write_bytes(entry, buf.getvalue())
        return image, target

    def _scaled_target(self, index: int, image: np.ndarray, class_map: np.ndarray | None) -> Target:
        """The source's target in the cached image's frame (boxes scaled as ``presize`` does)."""
        target = self.source.targets[index]
        rec = self.source.images[index]
        sx, sy = image.shape[1] / rec.width, image.shape[0] / rec.height
        boxes = target.boxes * np.array([sx, sy, sx, sy], dtype=np.float32)
        return replace(target, boxes=boxes, labels=target.labels.copy(), meta=dict(target.meta), class_map=class_map)
