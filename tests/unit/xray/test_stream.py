"""The endless training stream: tensor contract and independent seed streams."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from wildxray.core.letterbox import boxes_to_letterbox, letterbox
from wildxray.xray.stream import SyntheticStream, stream_rng


def test_streams_differ_per_rank_and_worker_and_repeat_per_seed():
    draws = {(r, w): stream_rng(0, r, w).random(4).tolist() for r in range(2) for w in range(3)}
    assert len({tuple(v) for v in draws.values()}) == 6
    assert stream_rng(0, 1, 2).random(4).tolist() == draws[(1, 2)]


def _letterbox_transform(image, boxes, labels):
    canvas, r = letterbox(image, 128)
    return canvas, boxes_to_letterbox(boxes, r), labels


def test_stream_yields_the_tensor_contract(small_cfg):
    stream = SyntheticStream(small_cfg, seed=3, transform=_letterbox_transform)
    items = list(itertools.islice(iter(stream), 3))
    for image, target in items:
        assert image.dtype == torch.uint8 and image.shape == (3, 128, 128)
        assert target["boxes"].dtype == torch.float32 and target["boxes"].shape[1] == 4
        assert target["labels"].dtype == torch.int64 and len(target["labels"]) == len(target["boxes"])
        assert (target["boxes"] <= 128).all()
    assert len({t["image_id"] for _, t in items}) == 3
    raw_image, _ = next(iter(SyntheticStream(small_cfg, seed=3)))
    assert raw_image.shape == (3, 240, 320)
    again, _ = next(iter(SyntheticStream(small_cfg, seed=3, transform=_letterbox_transform)))
    assert torch.equal(again, items[0][0])
    other, _ = next(iter(SyntheticStream(small_cfg, seed=4, transform=_letterbox_transform)))
    assert not torch.equal(other, items[0][0])
    assert np.isfinite(items[0][1]["boxes"].numpy()).all()


def test_each_epoch_draws_new_scans_and_repeats_exactly() -> None:
    from wildxray.hydra_compose import compose_config

    cfg = compose_config("synth", ["image.width=160", "image.height=120"])
    stream = SyntheticStream(cfg, seed=3)

    def first(epoch: int):
        stream.set_epoch(epoch)
        image, target = next(iter(stream))
        return image, target["image_id"]

    (a0, id0), (a1, id1), (b0, _) = first(0), first(1), first(0)
    assert not torch.equal(a0, a1) and id0 != id1  # a new epoch is new data
    assert torch.equal(a0, b0)  # and the same epoch is the same data


def test_prepared_stream_builds_once_and_draws_the_same_scans() -> None:
    """prepare() builds the synthesiser and the randomisation pool up front (before DataLoader
    workers fork); the scans are those of a stream that builds lazily."""
    from wildxray.hydra_compose import compose_config

    cfg = compose_config("synth", ["image.width=160", "image.height=120", "randomise=true",
                                   "randomisation.pool_size=2", "randomisation.profiles=[default]"])
    prepared, lazy = SyntheticStream(cfg, seed=5), SyntheticStream(cfg, seed=5)
    prepared.prepare()
    synth = prepared.synthesizer()
    assert synth is prepared.synthesizer() and lazy._synth is None
    assert len(synth.randomiser._physics) == len(synth.randomiser.pool) == 3  # all built, none left to build
    for (a, ta), (b, tb) in zip(itertools.islice(prepared, 3), itertools.islice(lazy, 3)):
        assert torch.equal(a, b) and torch.equal(ta["boxes"], tb["boxes"])
