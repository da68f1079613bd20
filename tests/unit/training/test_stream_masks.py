"""The synthetic training stream carries each scan's class map, aligned with its boxes."""

from __future__ import annotations

import numpy as np

from wildxray.hydra_compose import compose_config
from wildxray.data.augment import build_transforms
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
