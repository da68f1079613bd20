"""Writing generated photos as COCO: valid records, byte-identical per seed, loadable."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from wildxray.photo.photo_contact_sheet import CLASS_COLOURS, draw_photo, make_contact_sheet
from wildxray.photo.dataset import iter_photos, write_photo_dataset
from wildxray.photo.generator import PhotoSynthesizer
from wildxray.types import CLASS_NAMES, COCO_CATEGORIES

SMALL = (192, 256)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("photos")
    write_photo_dataset(out, n=12, seed=4, size=SMALL, progress=False)
    return out


def test_coco_records_are_valid(dataset: Path) -> None:
    coco = json.loads((dataset / "annotations.json").read_text())
    assert coco["categories"] == COCO_CATEGORIES
    assert len(coco["images"]) == 12
    by_image: dict[int, list] = {im["id"]: [] for im in coco["images"]}
    for ann in coco["annotations"]:
        by_image[ann["image_id"]].append(ann)
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0 and x >= 0 and y >= 0
        assert x + w <= SMALL[1] and y + h <= SMALL[0]
        assert 1 <= ann["category_id"] <= len(CLASS_NAMES)
        assert ann["kind"].split("/")[0] == CLASS_NAMES[ann["category_id"] - 1]
    for im in coco["images"]:
        assert im["modality"] == "photo" and isinstance(im["contraband"], bool)
        assert im["contraband"] == bool(by_image[im["id"]])
        assert all(k.startswith("lookalike/") for k in im["lookalikes"])
        pixels = cv2.imread(str(dataset / im["file_name"]))
        assert pixels is not None and pixels.shape == (im["height"], im["width"], 3)
    assert any(not im["contraband"] for im in coco["images"]) and any(im["contraband"] for im in coco["images"])


def test_summary_counts_match_annotations(dataset: Path) -> None:
    coco = json.loads((dataset / "annotations.json").read_text())
    summary = json.loads((dataset / "summary.json").read_text())
    counts = {c: 0 for c in CLASS_NAMES}
    for ann in coco["annotations"]:
        counts[CLASS_NAMES[ann["category_id"] - 1]] += 1
    assert summary["boxes_per_class"] == counts
    assert summary["images"] == 12
    assert summary["clean_images"] == sum(not im["contraband"] for im in coco["images"])


def test_same_seed_gives_byte_identical_files(dataset: Path, tmp_path: Path) -> None:
    write_photo_dataset(tmp_path / "again", n=12, seed=4, size=SMALL, progress=False)
    write_photo_dataset(tmp_path / "other", n=12, seed=5, size=SMALL, progress=False)
    first, again, other = _files(dataset), _files(tmp_path / "again"), _files(tmp_path / "other")
    assert first == again
    images = [k for k in first if k.startswith("images")]
    assert all(first[k] != other[k] for k in images)


def test_photo_index_does_not_depend_on_where_the_stream_starts() -> None:
    synth = PhotoSynthesizer(size=SMALL)
    whole = list(iter_photos(9, synth, n=4))
    tail = next(iter_photos(9, synth, n=1, start=3))
    assert np.array_equal(whole[3].image, tail.image) and tail.target.image_id == 4


def test_loads_with_wildxray_coco_loader(dataset: Path) -> None:
    coco = pytest.importorskip("wildxray.data.coco")
    ds = coco.load_coco(dataset / "annotations.json")
    raw = json.loads((dataset / "annotations.json").read_text())
    assert len(ds) == 12 and ds.class_names == CLASS_NAMES
    for i in range(3):
        image, target = ds[i]
        assert image.shape == SMALL + (3,) and image.dtype == np.uint8
        want = [a for a in raw["annotations"] if a["image_id"] == target.image_id]
        assert len(target.boxes) == len(want)
        assert target.meta["modality"] == "photo"


def test_bad_count_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n must be >= 1"):
        write_photo_dataset(tmp_path, n=0, seed=0)


def test_contact_sheet_draws_labelled_boxes(tmp_path: Path) -> None:
    synth = PhotoSynthesizer(size=SMALL, clean_fraction=0.0)
    photo = next(iter_photos(2, synth, n=1))
    drawn = draw_photo(photo)
    x0, y0, x1, y1 = (int(v) for v in photo.target.boxes[0])
    colour = CLASS_COLOURS[CLASS_NAMES[int(photo.target.labels[0])]]
    # The box's bottom edge is drawn in the class colour (the top edge may hold the caption).
    edge = drawn[y1 - 1, x0 + 2 : x1 - 2].astype(int)
    assert (np.abs(edge - np.array(colour)).max(axis=1) < 40).mean() > 0.8
    out = make_contact_sheet(tmp_path / "sheet.png", n=4, seed=2, cols=2, size=SMALL, tile_width=128)
    sheet = cv2.imread(str(out))
    tile_h = int(round(SMALL[0] * 128 / SMALL[1]))
    assert sheet.shape == (2 * (tile_h + 6) + 6, 2 * (128 + 6) + 6, 3)
