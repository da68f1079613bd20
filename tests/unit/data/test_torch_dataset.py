"""wildxray.data.torch_dataset: tensors, frames and per-worker augmentation streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from wildxray.data.augment import build_transforms
from wildxray.data.coco import load_coco
from wildxray.data.torch_dataset import DetectionDataset, collate
from wildxray.types import Target


def test_items_and_batches_follow_the_contract(coco_folder) -> None:
    ds = load_coco(coco_folder[0])
    data = DetectionDataset(ds, build_transforms("none", 64, train=False))
    image, target = data[0]
    assert image.dtype == torch.uint8 and image.shape == (3, 64, 64)
    np.testing.assert_array_equal(image.permute(1, 2, 0).numpy()[:48, :64], _letterboxed(ds[0][0], 64)[:48, :64])
    r = 64 / 80  # img_1 is 80 x 60
    torch.testing.assert_close(target["boxes"], torch.tensor([[10, 5, 30.5, 35], [0, 0, 80, 60]]) * r)
    assert target["boxes"].dtype == torch.float32 and target["labels"].dtype == torch.int64
    assert target["labels"].tolist() == [0, 2] and target["image_id"] == 1 and target["orig_size"] == (60, 80)

    images, targets = collate([data[i] for i in range(3)])
    assert images.shape == (3, 3, 64, 64) and images.dtype == torch.uint8
    assert [t["image_id"] for t in targets] == [1, 2, 3]
    assert targets[2]["boxes"].shape == (0, 4) and targets[2]["labels"].shape == (0,)  # the clean parcel


def _letterboxed(image: np.ndarray, size: int) -> np.ndarray:
    from wildxray.core.letterbox import letterbox

    return letterbox(image, size)[0]


def test_collate_refuses_mixed_sizes() -> None:
    a = (torch.zeros(3, 8, 8, dtype=torch.uint8), {})
    b = (torch.zeros(3, 16, 16, dtype=torch.uint8), {})
    with pytest.raises(ValueError, match="different shapes"):
        collate([a, b])


class _SameImage:
    """The same scene N times, so any difference between items comes from augmentation."""

    def __init__(self, n: int):
        self.n = n
        self.image = np.full((80, 120, 3), 255, np.uint8)
        self.image[20:50, 30:70] = (40, 80, 200)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return self.image, Target(np.array([[30, 20, 70, 50]]), np.array([2]), image_id=i)


def test_each_dataloader_worker_draws_its_own_augmentations() -> None:
    transform = build_transforms("xray", 64, train=True, seed=0)  # one seed, copied into both workers
    loader = DataLoader(DetectionDataset(_SameImage(16), transform), batch_size=1, num_workers=2,
                        collate_fn=collate, multiprocessing_context="fork")
    boxes = {}
    for _, targets in loader:
        boxes[targets[0]["image_id"]] = targets[0]["boxes"].numpy().round(3).tolist()
    worker0 = [boxes[i] for i in range(0, 16, 2)]  # the default sampler deals indices out in turns
    worker1 = [boxes[i] for i in range(1, 16, 2)]
    assert worker0 != worker1


def _draw(dataset: DetectionDataset, workers: int) -> dict[int, list]:
    loader = DataLoader(dataset, batch_size=2, num_workers=workers, collate_fn=collate,
                        multiprocessing_context="fork" if workers else None)
    return {t["image_id"]: t["boxes"].numpy().round(4).tolist() for _, targets in loader for t in targets}


def test_seeded_items_depend_on_epoch_and_index_not_on_workers() -> None:
    """With a seed, an item's augmentation is fixed by (seed, epoch, index): the same in-process and
    in 2 workers (exact resume), and new in the next epoch."""
    dataset = DetectionDataset(_SameImage(8), build_transforms("xray", 64, train=True), seed=5)
    in_process, in_workers = _draw(dataset, 0), _draw(dataset, 2)
    assert in_process == in_workers
    dataset.set_epoch(1)
    assert _draw(dataset, 2) != in_process


class _Numbered:
    """Item i: a 60 x 90 empty belt with one box of label i % 6 over a rectangle, and its class map."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        image = np.full((60, 90, 3), 255, np.uint8)
        image[15:45, 20:70] = (10 * i, 100, 200)
        class_map = np.zeros((60, 90), np.uint8)
        class_map[15:45, 20:70] = 1 << (i % 6)
        return image, Target(np.array([[20, 15, 70, 45]]), np.array([i % 6]), image_id=i, class_map=class_map)


def _items(dataset: DetectionDataset) -> list[tuple[bytes, dict]]:
    return [(img.numpy().tobytes(), {k: (v.numpy().tobytes() if torch.is_tensor(v) else v) for k, v in t.items()})
            for img, t in (dataset[i] for i in range(len(dataset)))]


def test_a_mosaic_of_probability_zero_changes_no_byte() -> None:
    from wildxray.data.mosaic import Mosaic, MosaicSettings

    transform = build_transforms("xray", 64, train=True)
    plain = DetectionDataset(_Numbered(6), transform, seed=5)
    zero = DetectionDataset(_Numbered(6), transform, seed=5, mosaic=Mosaic(MosaicSettings(prob=0.0), 64, 255))
    assert _items(zero) == _items(plain)


def test_mosaic_items_mix_the_source_and_repeat_per_seed_and_epoch() -> None:
    from wildxray.data.mosaic import Mosaic, MosaicSettings

    mosaic = Mosaic(MosaicSettings(prob=1.0), 64, 255)
    dataset = DetectionDataset(_Numbered(12), build_transforms("xray", 64, train=True), seed=5, mosaic=mosaic)
    first = _items(dataset)
    image, target = dataset[3]
    assert image.shape == (3, 64, 64) and target["image_id"] == 3 and target["orig_size"] == (64, 64)
    assert "class_map" in target and target["class_map"].shape == (64, 64)
    labels = [dataset[i][1]["labels"].tolist() for i in range(12)]
    assert any(len(set(ls)) > 1 for ls in labels)  # boxes of other items came in
    for (_, t), ls in zip((dataset[i] for i in range(12)), labels):  # every kept box has its class's pixels
        for box, label in zip(t["boxes"].numpy(), ls):
            x0, y0, x1, y1 = np.floor(box[:2]).astype(int).tolist() + np.ceil(box[2:]).astype(int).tolist()
            assert ((t["class_map"].numpy()[y0:y1, x0:x1] >> label) & 1).any()
    assert _items(DetectionDataset(_Numbered(12), build_transforms("xray", 64, train=True), seed=5,
                                   mosaic=mosaic)) == first
    dataset.set_epoch(1)
    assert _items(dataset) != first
