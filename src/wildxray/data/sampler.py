"""Class-balanced sampling by repeat factors (LVIS, Gupta et al. 2019, section 3).

For each class c, f_c is the fraction of images that contain it; its repeat factor is
``r_c = max(1, sqrt(threshold / f_c))``. An image is repeated ``r_i = max_c r_c`` times per epoch
(classes it contains); a clean image has ``r_i = 1`` and is kept. Fractional factors are rounded
stochastically each epoch so the expectation is exact.

``RepeatFactorSampler`` splits each epoch between DDP ranks like ``DistributedSampler``: all ranks
draw the same list from ``(seed, epoch)``, pad it to a multiple of ``num_replicas`` and take every
``num_replicas``-th index from ``rank``. Call ``set_epoch`` before each epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

from wildxray.types import Target


def repeat_factors(image_labels: Sequence[Sequence[int] | np.ndarray], threshold: float = 0.1) -> np.ndarray:
    """float64 [N] repeat factor per image from its label indices (empty for a clean image)."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    n = len(image_labels)
    if n == 0:
        return np.zeros(0)
    present = [set(int(c) for c in np.asarray(labels).reshape(-1)) for labels in image_labels]
    counts: dict[int, int] = {}
    for classes in present:
        for c in classes:
            counts[c] = counts.get(c, 0) + 1
    class_factor = {c: max(1.0, math.sqrt(threshold / (k / n))) for c, k in counts.items()}
    return np.array([max((class_factor[c] for c in classes), default=1.0) for classes in present])


class RepeatFactorSampler(Sampler[int]):
    """Indices of one epoch (this rank's share), each image repeated by its repeat factor."""

    def __init__(
        self,
        image_labels: Sequence[Sequence[int] | np.ndarray],
        threshold: float = 0.1,
        num_replicas: int = 1,
        rank: int = 0,
        seed: int = 0,
        shuffle: bool = True,
    ):
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"need num_replicas >= 1 and 0 <= rank < num_replicas, got {num_replicas}, {rank}")
        self.factors = repeat_factors(image_labels, threshold)
        self.num_replicas, self.rank, self.seed, self.shuffle = num_replicas, rank, seed, shuffle
        self.epoch = 0
        self._cache: tuple[int, np.ndarray] | None = None

    @classmethod
    def from_targets(cls, targets: Sequence[Target], **kwargs) -> "RepeatFactorSampler":
        """From ``Target``s, e.g. ``CocoDataset.targets`` (no pixels are loaded)."""
        return cls([t.labels for t in targets], **kwargs)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def epoch_indices(self) -> np.ndarray:
        """int64 indices of this rank for the current epoch (deterministic in seed, epoch, rank)."""
        if self._cache is not None and self._cache[0] == self.epoch:
            return self._cache[1]
        rng = np.random.default_rng([self.seed, self.epoch])
        whole = np.floor(self.factors)
        counts = (whole + (rng.random(len(self.factors)) < self.factors - whole)).astype(np.int64)
        indices = np.repeat(np.arange(len(self.factors), dtype=np.int64), counts)
        if self.shuffle:
            indices = rng.permutation(indices)
        pad = -len(indices) % self.num_replicas  # equal shares, as DistributedSampler does
        if pad and len(indices):
            indices = np.concatenate([indices, np.resize(indices, pad)])
        mine = indices[self.rank :: self.num_replicas]
        self._cache = (self.epoch, mine)
        return mine

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        return len(self.epoch_indices())
