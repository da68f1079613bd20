"""The synthetic training stream carries each scan's class map, aligned with its boxes, mosaics too."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wildxray.hydra_compose import compose_config
from wildxray.data.augment import build_transforms
from wildxray.data.mosaic import Mosaic, MosaicSettings
from wildxray.xray.stream import SyntheticStream


def test_stream_class_map_lies_inside_the_boxes_of_its_class():
    cfg = compose_config("synth", ["image.width=192", "image.height=144", "clean_fraction=0.0"])
    stream = iter(SyntheticStream(cfg, seed=3, transform=build_transforms("none", 96, train=False)))
    checked = 0
    for _ in range(6):
        _, t = next(stream)
        cmap = t["class_map"].numpy()
        assert cmap.shape == (96, 96)
        for label in np.unique(t["labels"].numpy()):
            bit = (cmap >> label) & 1
            inside = np.zeros_like(bit)
            for box, lab in zip(t["boxes"].numpy(), t["labels"].numpy()):
                if lab == label:
                    x0, y0, x1, y1 = np.floor(box[:2]).astype(int).tolist() + np.ceil(box[2:]).astype(int).tolist()
                    assert bit[y0:y1, x0:x1].any(), "a box with no pixel of its class"
                    inside[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1] = 1
            assert bit.sum() > 0 and (bit & ~inside.astype(bool)).sum() == 0
            checked += 1
        other = set(range(8)) - set(t["labels"].tolist())
        assert all(((cmap >> c) & 1).sum() == 0 for c in other)
    assert checked >= 6


def _take(stream, n):
    it = iter(stream)
    return [next(it) for _ in range(n)]


def test_stream_mosaics_keep_boxes_and_class_map_together_and_leave_the_scans_alone():
    cfg = compose_config("synth", ["image.width=160", "image.height=120", "clean_fraction=0.0"])
    transform = build_transforms("none", 96, train=False)
    plain = _take(SyntheticStream(cfg, seed=3, transform=transform), 6)
    zero = _take(SyntheticStream(cfg, seed=3, transform=transform, mosaic=Mosaic(MosaicSettings(prob=0.0), 96, 255)), 6)
    for (a, ta), (b, tb) in zip(plain, zero):  # probability 0: the very same samples
        assert torch.equal(a, b) and torch.equal(ta["boxes"], tb["boxes"])
        assert torch.equal(ta["class_map"], tb["class_map"])
    mosaic = Mosaic(MosaicSettings(prob=1.0), 96, 255)
    mixed = _take(SyntheticStream(cfg, seed=3, transform=transform, mosaic=mosaic), 6)
    for (a, _), (b, _) in zip(plain[:3], mixed[:3]):  # until three scans are buffered, scans pass as they are
        assert torch.equal(a, b)
    for (image, t), (p, _) in zip(mixed[3:], plain[3:]):
        assert image.shape == (3, 96, 96) and not torch.equal(image, p)
        cmap = t["class_map"].numpy()
        for box, label in zip(t["boxes"].numpy(), t["labels"].numpy()):
            x0, y0, x1, y1 = np.floor(box[:2]).astype(int).tolist() + np.ceil(box[2:]).astype(int).tolist()
            assert ((cmap[y0:y1, x0:x1] >> label) & 1).any(), "a box with no pixel of its class"
        for c in set(range(8)) - set(t["labels"].tolist()):
            assert ((cmap >> c) & 1).sum() == 0, f"class {c} pixels without a box of class {c}"
    again = _take(SyntheticStream(cfg, seed=3, transform=transform, mosaic=mosaic), 6)
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(mixed, again))
    with pytest.raises(ValueError, match="mosaic stream needs a transform"):
        SyntheticStream(cfg, seed=3, mosaic=mosaic)  # raw scans and S x S mosaics would not collate
