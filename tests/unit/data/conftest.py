"""Fixtures of the data tests: a small real COCO folder on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.data.builders import solid_image
from wildxray.core.image_io import write_image


@pytest.fixture
def coco_folder(tmp_path: Path) -> tuple[Path, dict]:
    """A real COCO folder: 3 PNGs (one clean) and ``annotations.json``. Returns (json path, dict)."""
    sizes = [(60, 80), (50, 40), (30, 30)]  # (height, width)
    images = []
    for i, (h, w) in enumerate(sizes, start=1):
        name = f"img_{i}.png"
        write_image(tmp_path / name, solid_image(h, w, (200, 120 + i, 40), seed=i))
        images.append({"id": i, "file_name": name, "width": w, "height": h})
    images[0].update(modality="xray", scanner="rapiscan-620", contraband=True)
    images[2].update(contraband=False)  # the clean parcel
    annotations = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 5, 20.5, 30]},
        {"id": 2, "image_id": 1, "category_id": 3, "bbox": [0, 0, 80, 60], "iscrowd": 1},
        {"id": 5, "image_id": 2, "category_id": 6, "bbox": [4.25, 7.75, 12, 9]},
    ]
    coco = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i + 1, "name": n} for i, n in enumerate(
            ["ivory", "horn", "scales", "skin", "bone", "live_animal"])],
    }
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(coco))
    return path, coco
