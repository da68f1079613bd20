"""Per-item masks: COCO RLE round trip into the class map, validation, augmentation keeps the map on the pixels."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from wildxray.core.errors import DatasetError
from wildxray.data.augment import build_transforms
from wildxray.data.coco import load_coco
from wildxray.data.masks import class_map_from_masks, decode_segmentation, encode_mask
from wildxray.data.torch_dataset import DetectionDataset

H, W = 60, 80


def _masks() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:H, :W]
    disc = (xx - 20) ** 2 + (yy - 20) ** 2 < 12 ** 2
    bar = (xx > 30) & (xx < 70) & (yy > 40) & (yy < 50)
    return np.stack([disc, bar]), np.array([0, 4])


def _write_set(tmp_path, with_masks: bool, clean_too: bool = True):
    masks, labels = _masks()
    img = np.full((H, W, 3), 255, np.uint8)
    img[masks[0]] = (200, 120, 40)
    img[masks[1]] = (40, 160, 60)
    cv2.imwrite(str(tmp_path / "a.png"), img[..., ::-1])
    cv2.imwrite(str(tmp_path / "b.png"), np.full((H, W, 3), 255, np.uint8))
    anns = []
    for k, (m, lab) in enumerate(zip(masks, labels)):
        ys, xs = np.nonzero(m)
        ann = {"id": k + 1, "image_id": 1, "category_id": int(lab) + 1,
               "bbox": [float(xs.min()), float(ys.min()), float(xs.max() + 1 - xs.min()), float(ys.max() + 1 - ys.min())]}
        if with_masks:
            ann["segmentation"] = encode_mask(m)
        anns.append(ann)
    images = [{"id": 1, "file_name": "a.png", "width": W, "height": H}]
    if clean_too:
        images.append({"id": 2, "file_name": "b.png", "width": W, "height": H})
    coco = {"images": images, "annotations": anns,
            "categories": [{"id": i + 1, "name": n} for i, n in enumerate(["ivory", "horn", "scales", "skin", "bone"])]}
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    return tmp_path / "ann.json", img, masks, labels


def test_rle_round_trip_gives_the_same_pixels():
    masks, _ = _masks()
    for m in masks:
        rle = json.loads(json.dumps(encode_mask(m)))  # through JSON, as a COCO file stores it
        assert rle["size"] == [H, W]
        np.testing.assert_array_equal(decode_segmentation(rle, H, W), m)


def test_polygons_decode_too():
    poly = [[10.0, 10.0, 30.0, 10.0, 30.0, 20.0, 10.0, 20.0]]
    m = decode_segmentation(poly, H, W)
    assert m[15, 20] and not m[5, 5] and 180 <= m.sum() <= 231


def test_class_map_sets_one_bit_per_class():
    masks, labels = _masks()
    cmap = class_map_from_masks(masks, labels, H, W)
    assert cmap[20, 20] == 1 and cmap[45, 50] == 16 and cmap[0, 0] == 0
    both = class_map_from_masks(np.stack([masks[0], masks[0]]), np.array([0, 2]), H, W)
    assert both[20, 20] == 0b101


def test_coco_with_masks_gives_class_maps_and_clean_images_an_empty_one(tmp_path):
    ann, _, masks, labels = _write_set(tmp_path, with_masks=True)
    ds = load_coco(ann)
    assert ds.has_masks
    _, target = ds[0]
    np.testing.assert_array_equal(target.class_map, class_map_from_masks(masks, labels, H, W))
    _, clean = ds[1]
    assert clean.class_map is not None and clean.class_map.sum() == 0


def test_coco_without_masks_trains_as_before(tmp_path):
    ann, *_ = _write_set(tmp_path, with_masks=False)
    ds = load_coco(ann)
    assert not ds.has_masks and ds[0][1].class_map is None
    _, target = DetectionDataset(ds, build_transforms("xray", 64, train=True), seed=0)[0]
    assert "class_map" not in target


def test_a_mask_of_the_wrong_size_names_the_record(tmp_path):
    ann, *_ = _write_set(tmp_path, with_masks=True)
    coco = json.loads(ann.read_text())
    coco["annotations"][1]["segmentation"]["size"] = [W, H]
    ann.write_text(json.dumps(coco))
    with pytest.raises(DatasetError, match=r"annotation.*id=2.*segmentation size \[80, 60\].*\[60, 80\]"):
        load_coco(ann)


@pytest.mark.parametrize("seed", range(6))
def test_augmentation_moves_the_map_with_the_pixels(tmp_path, seed):
    ann, *_ = _write_set(tmp_path, with_masks=True, clean_too=False)
    ds = DetectionDataset(load_coco(ann), build_transforms("xray", 96, train=True), seed=seed)
    image, target = ds[0]
    cmap = target["class_map"].numpy()
    assert cmap.shape == (96, 96)
    rgb = image.permute(1, 2, 0).numpy().astype(int)
    disc = cmap == 1
    bar = cmap == 16
    assert disc.sum() > 50 and bar.sum() > 50
    # Inside each mask the image shows that item's material: orange-ish disc (R > B), green bar (G > R).
    assert np.mean(rgb[disc][:, 0] > rgb[disc][:, 2]) > 0.95
    assert np.mean(rgb[bar][:, 1] > rgb[bar][:, 0]) > 0.95
    # And the map covers the item's pixels: coloured pixels outside any mask are edge pixels only.
    coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 60
    assert np.mean(cmap[coloured] > 0) > 0.9
