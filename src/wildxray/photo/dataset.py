"""Write generated photos as a COCO dataset (DESIGN.md "Datasets"), and stream them.

Layout of ``out_dir``::

    images/photo_000000.jpg ...   8-bit RGB JPEG (fixed quality, so a seed gives byte-identical files)
    annotations.json             COCO; images carry modality="photo", contraband (bool), background
    summary.json                 class counts, clean/contraband split, object kinds drawn

Photo ``i`` of seed ``s`` is drawn from ``np.random.default_rng([s, i])``, so it does not depend on
how many photos are written or on which worker writes it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from wildxray.data.coco import coco_annotation, make_coco, save_coco
from wildxray.photo.generator import PhotoSynthesizer, SynthPhoto
from wildxray.types import CLASS_NAMES

DEFAULT_JPEG_QUALITY = 92


def photo_rng(seed: int, index: int) -> np.random.Generator:
    """The generator that draws photo ``index`` of ``seed``."""
    return np.random.default_rng([int(seed), int(index)])


def iter_photos(seed: int, synth: PhotoSynthesizer | None = None, n: int | None = None, start: int = 0) -> Iterator[SynthPhoto]:
    """Photos ``start, start+1, ...`` of ``seed`` (endless when ``n`` is None); ``image_id`` = index + 1."""
    synth = synth or PhotoSynthesizer()
    i = start
    while n is None or i < start + n:
        yield synth.sample(photo_rng(seed, i), image_id=i + 1)
        i += 1


def encode_jpeg(image: np.ndarray, quality: int = DEFAULT_JPEG_QUALITY) -> bytes:
    """JPEG bytes of an RGB uint8 [H, W, 3] image (OpenCV's BGR stays inside this function)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"encode_jpeg expects HxWx3 uint8 RGB, got {image.dtype} {image.shape}")
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV failed to encode a JPEG")
    return buf.tobytes()


def write_photo_dataset(
    out_dir: str | Path,
    n: int,
    seed: int,
    size: tuple[int, int] = (480, 640),
    clean_fraction: float = 0.3,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
    progress: bool = True,
) -> Path:
    """Generate ``n`` photos into ``out_dir`` (see module docstring); returns the ``annotations.json`` path."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    synth = PhotoSynthesizer(size=size, clean_fraction=clean_fraction)
    images, annotations = [], []
    kinds: Counter[str] = Counter()
    boxes_per_class: Counter[str] = Counter()
    images_per_class: Counter[str] = Counter()
    for photo in tqdm(iter_photos(seed, synth, n), total=n, desc="photos", unit="img", disable=not progress):
        image_id = photo.target.image_id
        file_name = f"images/photo_{image_id - 1:06d}.jpg"
        (out / file_name).write_bytes(encode_jpeg(photo.image, jpeg_quality))
        h, w = photo.image.shape[:2]
        images.append({
            "id": image_id,
            "file_name": file_name,
            "width": w,
            "height": h,
            "modality": "photo",
            "contraband": not photo.target.is_clean,
            "background": photo.meta["background"],
            "lookalikes": [o["kind"] for o in photo.meta["objects"] if o["label"] is None],
        })
        for obj in photo.meta["objects"]:
            kinds[obj["kind"]] += 1
            if obj["box"] is None:
                continue
            x0, y0, x1, y1 = obj["box"]
            annotations.append(coco_annotation(len(annotations) + 1, image_id, obj["label"] + 1,
                                               [x0, y0, x1 - x0, y1 - y0], kind=obj["kind"]))
            boxes_per_class[obj["class"]] += 1
        for name in {CLASS_NAMES[int(label)] for label in photo.target.labels}:
            images_per_class[name] += 1
    # No timestamp: the same seed must give byte-identical files.
    info = {"description": "wildxray synthetic photos (procedural, not real listings)", "seed": seed, "version": 1}
    ann_path = save_coco(make_coco(images, annotations, CLASS_NAMES, info=info, licenses=[]), out / "annotations.json")
    summary = {
        "modality": "photo",
        "seed": seed,
        "size": list(size),
        "images": n,
        "clean_images": sum(not im["contraband"] for im in images),
        "contraband_images": sum(im["contraband"] for im in images),
        "boxes_per_class": {c: boxes_per_class.get(c, 0) for c in CLASS_NAMES},
        "images_per_class": {c: images_per_class.get(c, 0) for c in CLASS_NAMES},
        "objects_per_kind": dict(sorted(kinds.items())),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return ann_path
