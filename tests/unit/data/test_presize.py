"""Shrinking large training images before augmentation (data/presize.py): boxes stay on their
pixels through presize + letterbox, and the RAM / disk caches give back what an uncached read does."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.conftest import write_shapes_coco
from wildxray.data.augment import build_transforms
from wildxray.data.coco import load_coco
from wildxray.data.presize import PresizedSource, presize
from wildxray.training.data import presized_train_source
from wildxray.training.distributed import DistInfo
from wildxray.types import Target


def _dark_extent(image: np.ndarray) -> tuple[int, int, int, int]:
    """xyxy (exclusive max) of the object's pixels (value 20; darker than the letterbox padding)."""
    ys, xs = np.nonzero(image.max(axis=2) < 60)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _scan_with_object(h: int = 2208, w: int = 2688) -> tuple[np.ndarray, Target]:
    image = np.full((h, w, 3), 255, np.uint8)
    x0, y0, x1, y1 = 1003, 517, 1811, 1390   # odd sizes: rounding would show
    image[y0:y1, x0:x1] = 20
    class_map = np.zeros((h, w), np.uint8)
    class_map[y0:y1, x0:x1] = 1 << 4
    return image, Target(np.array([[x0, y0, x1, y1]], np.float32), np.array([4]), image_id=7, class_map=class_map)


def test_presize_keeps_boxes_on_their_pixels_through_the_letterbox():
    image, target = _scan_with_object()
    small, moved = presize(image, target, max_side=800)
    assert max(small.shape[:2]) == 800
    np.testing.assert_allclose(moved.boxes[0], _dark_extent(small), atol=1.0)
    assert set(np.unique(moved.class_map)) == {0, 16}
    # then THE letterbox (no random ops), as training does: the box still sits on the object
    canvas, boxes, labels = build_transforms("none", 640, train=True)(small, moved.boxes, moved.labels)
    assert canvas.shape == (640, 640, 3) and labels.tolist() == [4]
    np.testing.assert_allclose(boxes[0], _dark_extent(canvas), atol=1.0)
    # and it agrees with letterboxing the full-resolution scan directly
    _, direct, _ = build_transforms("none", 640, train=True)(image, target.boxes, target.labels)
    np.testing.assert_allclose(boxes, direct, atol=1.0)


def test_presize_passes_small_images_through_untouched():
    image, target = _scan_with_object(300, 400)
    target.boxes[:] = [[10, 20, 100, 120]]
    out, t = presize(image, target, max_side=400)
    assert out is image and t is target


def test_presize_refuses_a_non_positive_size():
    image, target = _scan_with_object(30, 40)
    with pytest.raises(ValueError, match="max_side"):
        presize(image, target, 0)


class _CountingSource:
    """A two-image source that counts reads (to see the cache working)."""

    def __init__(self):
        self.reads = 0
        self.class_names = ("ivory",)

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int):
        self.reads += 1
        return _scan_with_object(1000, 1200)


def test_ram_cache_reads_each_image_once_and_hands_out_copies():
    src = _CountingSource()
    cached = PresizedSource(src, max_side=300, cache="ram")
    cached.prefill(threads=2)
    assert src.reads == 2 and cached.cached_bytes() > 0
    image, target = cached[0]
    image[:] = 0                      # augmentation writing in place...
    target.boxes[:] = -1
    again, target2 = cached[0]        # ...does not reach the cache
    assert src.reads == 2
    assert again.max() == 255 and target2.boxes.min() >= 0
    assert cached.class_names == ("ivory",)  # the source's attributes show through


def test_disk_cache_round_trips_and_notices_a_changed_file(tmp_path: Path):
    ann = write_shapes_coco(tmp_path / "big", 3, size=(600, 900), clean_every=0)
    dataset = load_coco(ann)
    plain = PresizedSource(dataset, max_side=300)
    cache_dir = tmp_path / "cache"
    cached = PresizedSource(dataset, max_side=300, cache="disk", cache_dir=cache_dir)
    cached.prefill(threads=2)
    assert len(list(cache_dir.glob("*.npz"))) == 3
    for i in range(3):
        (a, ta), (b, tb) = plain[i], cached[i]   # the second read comes from the .npz
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(ta.boxes, tb.boxes, atol=1e-4)
        assert ta.labels.tolist() == tb.labels.tolist() and max(b.shape[:2]) == 300
    # a file rewritten in place (new mtime) is a new entry, not the stale one
    path = dataset.images[0].path
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    cached[0]
    assert len(list(cache_dir.glob("*.npz"))) == 4


def test_bad_cache_settings_name_the_key(tmp_path: Path):
    with pytest.raises(ValueError, match="data.cache must be"):
        PresizedSource(_CountingSource(), 300, cache="gpu")
    with pytest.raises(ValueError, match="data.cache_dir"):
        PresizedSource(_CountingSource(), 300, cache="disk")
    with pytest.raises(ValueError, match="image files"):
        PresizedSource(_CountingSource(), 300, cache="disk", cache_dir=tmp_path)


def test_training_wraps_the_train_source_per_config(tmp_path: Path):
    dataset = load_coco(write_shapes_coco(tmp_path / "s", 2, size=(600, 900), clean_every=0))
    info = DistInfo(rank=0, world_size=1, local_rank=0)

    def cfg(**data):
        return OmegaConf.create({"input_size": 128, "data": data, "train": {"num_workers": 1, "progress": False}})

    assert presized_train_source(cfg(presize=None), dataset, info) is dataset
    wrapped = presized_train_source(cfg(presize=1.25, cache="ram"), dataset, info)
    assert wrapped.max_side == 160 and len(wrapped._ram) == 2
    assert max(wrapped[1][0].shape[:2]) == 160
    with pytest.raises(ValueError, match="data.presize"):
        presized_train_source(cfg(presize=0.5), dataset, info)
