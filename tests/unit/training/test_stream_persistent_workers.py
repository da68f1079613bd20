"""A persistent DataLoader worker follows the synthetic stream's epoch (the training loader keeps
its workers, forked once, instead of forking new ones from the grown trainer every epoch)."""

from __future__ import annotations

import itertools

import torch
from torch.utils.data import DataLoader

from wildxray.hydra_compose import compose_config
from wildxray.training.data import _Take
from wildxray.xray.stream import SyntheticStream


def test_persistent_worker_draws_each_epochs_own_scans():
    cfg = compose_config("synth", ["image.width=160", "image.height=120"])
    stream = SyntheticStream(cfg, seed=7)
    stream.prepare()
    loader = DataLoader(_Take(stream, 2), batch_size=None, num_workers=1, persistent_workers=True)
    reference = SyntheticStream(cfg, seed=7)  # in-process: worker 0 of 1, the loader's one worker
    seen, workers = [], []
    for epoch in (0, 1, 0):
        stream.set_epoch(epoch)
        got = list(loader)
        workers.append(loader._iterator._workers[0].pid)
        reference.set_epoch(epoch)
        want = list(itertools.islice(iter(reference), 2))
        assert len(got) == 2
        for (image, target), (ref_image, ref_target) in zip(got, want):
            assert torch.equal(image, ref_image) and target["image_id"] == ref_target["image_id"]
        seen.append(got[0][0])
    assert len(set(workers)) == 1  # one worker process served every epoch
    assert not torch.equal(seen[0], seen[1]) and torch.equal(seen[0], seen[2])
