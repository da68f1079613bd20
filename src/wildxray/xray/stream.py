"""Endless on-the-fly synthetic scans for training: a torch ``IterableDataset``.

Each (rank, worker) pair draws from its own ``numpy.random.SeedSequence([seed, rank, worker, epoch])``
stream, so no two workers, ranks or epochs produce the same scans and a run is reproducible.
``set_epoch`` must be called before each epoch's iterator is made. The epoch lives in a one-element
shared-memory tensor, so persistent DataLoader workers read the new epoch too: the training loader
keeps its workers (forked once, before training grows the heap) instead of forking new ones from
a multi-gigabyte trainer each epoch, whose copy-on-write pages each worker then kept.

With a ``mosaic`` (``data.mosaic``), a scan becomes, with its probability, the mosaic of itself and
three of the last ``MOSAIC_BUFFER`` scans of the same worker (an endless stream has no index to
draw partners from); the first three scans of each worker's epoch pass as they are. The mosaic
draws from a generator of its own, so the scans themselves are those of a stream without it.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from wildxray.data.masks import class_map_from_masks
from wildxray.data.mosaic import TILES, Mosaic
from wildxray.types import Target
from wildxray.xray.synth import ScanSynthesizer

#: Scans a worker keeps to mix into mosaics: partners are drawn from the last few, as the stream is endless.
MOSAIC_BUFFER = 8

Transform = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def stream_identity() -> tuple[int, int, int, int]:
    """(rank, world_size, worker id, number of workers) of the calling process."""
    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    info = get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank, world, worker, workers


def stream_rng(seed: int, rank: int, worker: int, epoch: int = 0) -> np.random.Generator:
    """The generator of one (rank, worker) stream in one epoch."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(rank), int(worker), int(epoch)]))


class SyntheticStream(IterableDataset):
    """Yields ``(image uint8 [3, S, S] or [3, H, W], {"boxes": float32 [M, 4] xyxy, "labels": int64 [M],
    "image_id": int, "class_map": uint8 [S, S]})``; boxes and class map (``data.masks``: bit c where
    an item of label c lies, from the simulator's per-item masks) in the frame of the image.

    transform(image HxWx3 uint8, boxes [M, 4] float32 xyxy, labels [M] int64) -> the same, resized;
    a ``DetectionTransform`` (which has ``transform_with_map``) also carries the class map.
    """

    def __init__(self, cfg: Any, seed: int, transform: Transform | None = None, mosaic: Mosaic | None = None):
        if mosaic is not None and transform is None:
            raise ValueError("a mosaic stream needs a transform to the mosaic's size: its scans and "
                             "its mosaics must come out at one size")
        self.cfg = cfg
        self.seed = int(seed)
        self.transform = transform
        self.mosaic = mosaic
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()  # seen by persistent workers
        self._synth = None

    @property
    def epoch(self) -> int:
        return int(self._epoch[0])

    def set_epoch(self, epoch: int) -> None:
        self._epoch[0] = int(epoch)

    def synthesizer(self):
        """The ``ScanSynthesizer``, built once: its physics set-up takes about a second per scanner."""
        if self._synth is None:
            self._synth = ScanSynthesizer(self.cfg)
        return self._synth

    def prepare(self) -> None:
        """Build the synthesiser and every randomisation pool member's physics now, in this process.

        Called before the DataLoader forks its workers, they share what was built instead of each
        rebuilding it (~1 s per pool member, 24 by default).
        Scans do not change: each depends only on its generator, never on what was built when.
        """
        synth = self.synthesizer()
        if synth.randomiser is not None:
            synth.randomiser.prepare()

    def __iter__(self) -> Iterator[tuple[torch.Tensor, dict]]:
        rank, world, worker, workers = stream_identity()
        rng = stream_rng(self.seed, rank, worker, self.epoch)
        mosaic_rng = rng.spawn(1)[0]  # spawning leaves rng's own draws, and so the scans, unchanged
        recent: deque[tuple[np.ndarray, Target]] = deque(maxlen=MOSAIC_BUFFER)
        synth = self.synthesizer()
        stride = world * workers
        # image ids stay unique across epochs (1e9 per epoch is far beyond any epoch length)
        index = self.epoch * 1_000_000_000 + rank * workers + worker
        while True:
            scan = synth.sample(rng, image_id=index)
            image, boxes, labels = scan.image, scan.target.boxes, scan.target.labels
            h, w = image.shape[:2]
            class_map = class_map_from_masks(scan.masks, labels, h, w)
            if self.mosaic is not None:
                image, boxes, labels, class_map = self._maybe_mosaic(
                    (image, Target(boxes, labels, index, class_map=class_map)), recent, mosaic_rng)
            if hasattr(self.transform, "transform_with_map"):
                image, boxes, labels, class_map = self.transform.transform_with_map(image, boxes, labels, class_map)
            elif self.transform is not None:
                image, boxes, labels = self.transform(image, boxes, labels)
                class_map = None  # a plain transform cannot move the map with the pixels
            target = {
                "boxes": torch.as_tensor(np.asarray(boxes, np.float32).reshape(-1, 4)),
                "labels": torch.as_tensor(np.asarray(labels, np.int64).reshape(-1)),
                "image_id": int(index),
            }
            if class_map is not None:
                target["class_map"] = torch.from_numpy(np.ascontiguousarray(class_map))
            yield torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).contiguous(), target
            index += stride

    def _maybe_mosaic(
        self, sample: tuple[np.ndarray, Target], recent: deque, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """``sample``, or its mosaic with three of ``recent`` (distinct scans); ``sample`` joins ``recent``."""
        image, target = sample
        if len(recent) >= TILES - 1 and self.mosaic.wanted(rng):
            picks = rng.choice(len(recent), size=TILES - 1, replace=False)
            image, target = self.mosaic([sample] + [recent[int(i)] for i in picks], rng)
        recent.append(sample)
        return image, target.boxes, target.labels, target.class_map
