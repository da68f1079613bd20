"""wildxray.data.sampler: repeat-factor sampling repeats rare-class images, keeps clean ones, splits by rank."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wildxray.data.coco import load_coco
from wildxray.data.sampler import RepeatFactorSampler, repeat_factors

# 100 images: 90 with the common class 0, 4 with the rare class 1 (two also hold class 0), 8 clean.
LABELS = [[0]] * 88 + [[0, 1], [1, 0], [1], [1, 1]] + [[]] * 8
RARE = [88, 89, 90, 91]
CLEAN = list(range(92, 100))


def test_repeat_factors_follow_lvis() -> None:
    assert len(LABELS) == 100
    f = repeat_factors(LABELS, threshold=0.1)
    rare = math.sqrt(0.1 / 0.04)  # class 1 is in 4 of 100 images
    np.testing.assert_allclose(f[RARE], rare)
    np.testing.assert_allclose(f[:88], 1.0)  # class 0 is in 90 %: no repeat
    np.testing.assert_allclose(f[CLEAN], 1.0)  # clean parcels are kept, once
    with pytest.raises(ValueError, match="threshold"):
        repeat_factors(LABELS, threshold=0)


def test_rare_images_are_repeated_and_clean_ones_kept_each_epoch() -> None:
    sampler = RepeatFactorSampler(LABELS, threshold=0.1, seed=5)
    totals = np.zeros(100)
    for epoch in range(300):
        sampler.set_epoch(epoch)
        counts = np.bincount(np.fromiter(sampler, dtype=np.int64), minlength=100)
        assert (counts[:88] == 1).all() and (counts[CLEAN] == 1).all()
        assert set(counts[RARE].tolist()) <= {1, 2}
        assert len(sampler) == counts.sum()
        totals += counts
    np.testing.assert_allclose(totals[RARE] / 300, math.sqrt(2.5), atol=0.1)  # stochastic rounding is unbiased


def test_ranks_split_one_epoch_without_overlap_and_epochs_differ() -> None:
    whole = RepeatFactorSampler(LABELS, seed=1)
    parts = [RepeatFactorSampler(LABELS, seed=1, num_replicas=3, rank=r) for r in range(3)]
    full = whole.epoch_indices()
    shares = [p.epoch_indices() for p in parts]
    assert len({len(s) for s in shares}) == 1  # equal shares, as DDP needs
    padded = np.concatenate([full, full[: -len(full) % 3]])
    interleaved = np.stack(shares, axis=1).reshape(-1)
    np.testing.assert_array_equal(interleaved, padded)
    whole.set_epoch(1)
    assert whole.epoch_indices().tolist() != full.tolist()
    with pytest.raises(ValueError, match="rank"):
        RepeatFactorSampler(LABELS, num_replicas=2, rank=2)


def test_from_targets_of_a_coco_dataset(coco_folder) -> None:
    ds = load_coco(coco_folder[0])
    sampler = RepeatFactorSampler.from_targets(ds.targets, threshold=0.5, shuffle=False)
    # each class is in 1 of 3 images: r = sqrt(0.5 / (1/3)) = 1.22; the clean image stays at 1
    np.testing.assert_allclose(sampler.factors, [math.sqrt(1.5), math.sqrt(1.5), 1.0])
    assert sorted(set(sampler)) == [0, 1, 2]
