"""Shared fixtures: tiny data sets that tests make for themselves (nothing is downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wildxray.types import CLASS_NAMES, COCO_CATEGORIES

# One distinct colour per class, so a tiny detector can learn them in a few steps.
_CLASS_COLOURS = [(230, 60, 40), (40, 200, 60), (50, 80, 230), (230, 200, 40), (200, 60, 200), (40, 200, 220)]


def write_shapes_coco(root: Path, n_images: int, size: tuple[int, int] = (96, 128), seed: int = 0,
                      clean_every: int = 4) -> Path:
    """Write ``root/images/*.png`` + ``root/annotations.json``: coloured rectangles on noise.

    Every ``clean_every``-th image is clean (no box), like the clean parcels in real sets.
    """
    import cv2

    rng = np.random.default_rng(seed)
    h, w = size
    (root / "images").mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(n_images):
        img = rng.integers(90, 140, size=(h, w, 3), dtype=np.uint8)
        image_id = i + 1
        n_obj = 0 if (clean_every and i % clean_every == clean_every - 1) else int(rng.integers(1, 3))
        for _ in range(n_obj):
            label = int(rng.integers(0, len(CLASS_NAMES)))
            bw, bh = int(rng.integers(w // 5, w // 2)), int(rng.integers(h // 5, h // 2))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            img[y : y + bh, x : x + bw] = _CLASS_COLOURS[label]
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": label + 1,
                                "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0})
        name = f"img_{i:04d}.png"
        cv2.imwrite(str(root / "images" / name), img[:, :, ::-1])
        images.append({"id": image_id, "file_name": f"images/{name}", "width": w, "height": h,
                       "modality": "xray", "scanner": "test", "contraband": n_obj > 0})
    ann = root / "annotations.json"
    ann.write_text(json.dumps({"images": images, "annotations": annotations, "categories": COCO_CATEGORIES}))
    return ann


@pytest.fixture
def shapes_coco(tmp_path: Path) -> Path:
    """A 12-image COCO set of coloured rectangles (3 clean images); returns the annotation path."""
    return write_shapes_coco(tmp_path / "shapes", 12)
