"""augment.mosaic_* reach the training loaders: off as shipped, on when asked, refused when out of range."""

from __future__ import annotations

from pathlib import Path

import pytest

from wildxray.data.augment import XRAY_EMPTY_FILL
from wildxray.hydra_compose import compose_config
from wildxray.training.data import build_datasets, build_loaders
from wildxray.training.distributed import DistInfo


def _train_dataset(shapes_coco: Path, tmp_path: Path, *extra: str):
    cfg = compose_config("train", ["data=coco", f"data.train.ann_file={shapes_coco}",
                                   f"data.val.ann_file={shapes_coco}", "model=small", "input_size=64", "train=smoke", "train.num_workers=0",
                                   f"output_dir={tmp_path}", *extra])
    train, val, _ = build_datasets(cfg, tmp_path)
    not_main = DistInfo(rank=1, world_size=2)  # no validation loader needed
    loader, _, _ = build_loaders(cfg, train, val, not_main, pin_memory=False)
    return loader.dataset


def test_loaders_get_the_mosaic_only_when_asked(shapes_coco: Path, tmp_path: Path) -> None:
    assert _train_dataset(shapes_coco, tmp_path).mosaic is None  # the shipped xray preset: off
    mosaic = _train_dataset(shapes_coco, tmp_path, "augment.mosaic_prob=0.5", "augment.mosaic_min_box_side=2").mosaic
    assert mosaic.settings.prob == 0.5 and mosaic.settings.min_box_side == 2
    assert mosaic.size == 64 and mosaic.fill == XRAY_EMPTY_FILL  # the input size, an empty belt around tiles
    assert _train_dataset(shapes_coco, tmp_path, "augment=photo", "augment.mosaic_prob=1").mosaic.fill == 114


def test_out_of_range_mosaic_probability_stops_the_run_naming_the_key(shapes_coco: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"augment\.mosaic_prob must be a number in \[0\.0, 1\.0\], got 1\.5"):
        _train_dataset(shapes_coco, tmp_path, "augment.mosaic_prob=1.5")
