"""COCO detection datasets: load with full validation, build, save.

COCO JSON is wildxray's native dataset format (DESIGN.md, "Datasets"):
- ``bbox`` = [x, y, w, h] in pixels of the image file;
- category ids must be exactly 1..C: the model's label index is ``category_id - 1`` and
  ``class_names`` lists the category names in id order;
- each image may carry ``modality`` (``xray`` | ``xray_dual`` | ``photo``), ``scanner`` (str) and
  ``contraband`` (bool); ``iscrowd`` is kept (in ``coco_dict`` and ``Target.meta["iscrowd"]``).
- ``file_name`` is resolved relative to ``image_root``, which defaults to the folder of the
  annotation file (an absolute ``file_name`` is used as is). There is no other search path.

Validation collects every problem before raising one ``DatasetError`` whose lines read
``"<ann_file>: <record kind> id=<id> (<file_name>): <problem>"``. Nothing is silently dropped:
clean images (no annotations) are kept as negatives.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wildxray.core.errors import DatasetError, Problem
from wildxray.core.image_io import DEFAULT_MAX_PIXELS, read_image, to_model_image
from wildxray.data.masks import class_map_from_masks, decode_segmentation
from wildxray.types import MODALITIES, Target, coco_categories

#: A box may overhang the image by this many pixels (annotation-tool rounding); it is then clipped.
BOX_TOLERANCE_PX = 1.0


@dataclass(frozen=True)
class ImageRecord:
    """One COCO image entry; ``path`` is ``image_root / file_name``; width and height in pixels."""

    id: int
    file_name: str
    path: Path
    width: int
    height: int
    modality: str | None = None
    scanner: str | None = None
    contraband: bool | None = None


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_finite_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _record(entry: object, index: int) -> str:
    if isinstance(entry, dict) and "id" in entry:
        return f"id={entry['id']!r}"
    return f"#{index} (no id)"


def validate_coco(
    coco: object, source: str | Path, image_root: str | Path | None = None, check_files: bool = True
) -> list[Problem]:
    """Every problem of a COCO detection dict (empty list: valid). ``source`` names it in messages;
    with ``check_files`` each ``image_root / file_name`` must exist."""
    src = str(source)
    if not isinstance(coco, dict):
        return [Problem(src, "dataset", "top level", f"expected a JSON object, got {type(coco).__name__}")]
    problems: list[Problem] = []
    for key in ("images", "annotations", "categories"):
        if not isinstance(coco.get(key), list):
            what = "missing" if key not in coco else f"must be a list, got {type(coco[key]).__name__}"
            problems.append(Problem(src, "dataset", f"key {key!r}", what))
    if problems:
        return problems
    root = Path(image_root) if image_root is not None else Path(source).parent
    images = _validate_images(coco["images"], src, root, check_files, problems)
    cat_ids = _validate_categories(coco["categories"], src, problems)
    _validate_annotations(coco["annotations"], src, images, cat_ids, problems)
    return problems


def _validate_images(entries: list, src: str, root: Path, check_files: bool, problems: list[Problem]) -> dict:
    images: dict[int, dict] = {}
    seen_files: dict[str, object] = {}
    for i, img in enumerate(entries):
        rec = _record(img, i)
        if not isinstance(img, dict):
            problems.append(Problem(src, "image", rec, "not a JSON object"))
            continue
        name = img.get("file_name") if isinstance(img.get("file_name"), str) else None

        def bad(msg: str, rec=rec, name=name) -> None:
            problems.append(Problem(src, "image", rec, msg, name))

        missing = [k for k in ("id", "file_name", "width", "height") if k not in img]
        for k in missing:
            bad(f"missing required key {k!r}")
        if "id" in img:
            if not _is_int(img["id"]):
                bad(f"id must be an integer, got {img['id']!r}")
            elif img["id"] in images:
                bad("duplicate image id")
            else:
                images[img["id"]] = img
        if "file_name" in img:
            if not name:
                bad(f"file_name must be a non-empty string, got {img['file_name']!r}")
            elif name in seen_files:
                bad(f"duplicate file_name (also image {seen_files[name]})")
            else:
                seen_files[name] = rec
                if check_files and not (root / name).is_file():
                    bad(f"image file not found: {root / name}")
        for k in ("width", "height"):
            v = img.get(k)
            if k in img and not (_is_finite_number(v) and v > 0 and float(v).is_integer()):
                bad(f"{k} must be a positive integer, got {v!r}")
        if "modality" in img and img["modality"] not in MODALITIES:
            bad(f"modality {img['modality']!r} is not one of {list(MODALITIES)}")
        if "scanner" in img and not isinstance(img["scanner"], str):
            bad(f"scanner must be a string, got {img['scanner']!r}")
        if "contraband" in img and not isinstance(img["contraband"], bool):
            bad(f"contraband must be true or false, got {img['contraband']!r}")
    return images


def _validate_categories(entries: list, src: str, problems: list[Problem]) -> set[int]:
    ids: set[int] = set()
    names: set[str] = set()
    if not entries:
        problems.append(Problem(src, "dataset", "key 'categories'", "no categories"))
    for i, cat in enumerate(entries):
        rec = _record(cat, i)
        if not isinstance(cat, dict):
            problems.append(Problem(src, "category", rec, "not a JSON object"))
            continue
        for k in ("id", "name"):
            if k not in cat:
                problems.append(Problem(src, "category", rec, f"missing required key {k!r}"))
        if "id" in cat:
            if not _is_int(cat["id"]):
                problems.append(Problem(src, "category", rec, f"id must be an integer, got {cat['id']!r}"))
            elif cat["id"] in ids:
                problems.append(Problem(src, "category", rec, "duplicate category id"))
            else:
                ids.add(cat["id"])
        if "name" in cat:
            if not isinstance(cat["name"], str) or not cat["name"]:
                problems.append(Problem(src, "category", rec, f"name must be a non-empty string, got {cat['name']!r}"))
            elif cat["name"] in names:
                problems.append(Problem(src, "category", rec, f"duplicate category name {cat['name']!r}"))
            else:
                names.add(cat["name"])
    if ids and sorted(ids) != list(range(1, len(ids) + 1)):
        problems.append(
            Problem(src, "category", "ids", f"must be 1..C without gaps (label = id - 1), got {sorted(ids)}")
        )
    return ids


def _validate_annotations(entries: list, src: str, images: dict, cat_ids: set[int], problems: list[Problem]) -> None:
    seen: set[int] = set()
    boxes_per_image: dict[int, int] = {}
    for i, ann in enumerate(entries):
        rec = _record(ann, i)
        if not isinstance(ann, dict):
            problems.append(Problem(src, "annotation", rec, "not a JSON object"))
            continue
        img = images.get(ann.get("image_id")) if _is_int(ann.get("image_id")) else None
        name = img.get("file_name") if img is not None else None

        def bad(msg: str, rec=rec, name=name) -> None:
            problems.append(Problem(src, "annotation", rec, msg, name))

        for k in ("id", "image_id", "category_id", "bbox"):
            if k not in ann:
                bad(f"missing required key {k!r}")
        if "id" in ann:
            if not _is_int(ann["id"]):
                bad(f"id must be an integer, got {ann['id']!r}")
            elif ann["id"] in seen:
                bad("duplicate annotation id")
            else:
                seen.add(ann["id"])
        if "image_id" in ann and img is None:
            bad(f"unknown image id {ann['image_id']!r}")
        if "category_id" in ann and not (_is_int(ann["category_id"]) and ann["category_id"] in cat_ids):
            bad(f"unknown category id {ann['category_id']!r} (known: {sorted(cat_ids)})")
        if "iscrowd" in ann and ann["iscrowd"] not in (0, 1):
            bad(f"iscrowd must be 0 or 1, got {ann['iscrowd']!r}")
        if "area" in ann and not (_is_finite_number(ann["area"]) and ann["area"] >= 0):
            bad(f"area must be a finite number >= 0, got {ann['area']!r}")
        if "segmentation" in ann:
            seg_problem = _segmentation_problem(ann["segmentation"], img)
            if seg_problem:
                bad(seg_problem)
        if "bbox" in ann:
            box_problem = _bbox_problem(ann["bbox"], img)
            if box_problem:
                bad(box_problem)
            elif img is not None:
                boxes_per_image[img["id"]] = boxes_per_image.get(img["id"], 0) + 1
    for image_id, n in boxes_per_image.items():
        if images[image_id].get("contraband") is False:
            problems.append(
                Problem(src, "image", f"id={image_id}", f"contraband is false but {n} box(es) are annotated",
                        images[image_id].get("file_name"))
            )


def _segmentation_problem(seg: object, img: dict | None) -> str | None:
    """RLE (dict with ``size`` [h, w] of its image and ``counts``) or a list of polygons."""
    if isinstance(seg, list):
        if not all(isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0 and all(_is_finite_number(v) for v in p)
                   for p in seg):
            return "segmentation polygons must be lists of >= 3 finite x, y pairs"
        return None
    if not isinstance(seg, dict) or not isinstance(seg.get("counts"), (str, list)) or "size" not in seg:
        return f"segmentation must be COCO RLE {{'size': [h, w], 'counts': ...}} or polygons, got {str(seg)[:60]!r}"
    if img is not None and list(seg["size"]) != [img.get("height"), img.get("width")]:
        return f"segmentation size {seg['size']} is not the image's [height, width] [{img.get('height')}, {img.get('width')}]"
    return None


def _bbox_problem(bbox: object, img: dict | None) -> str | None:
    if not isinstance(bbox, list) or len(bbox) != 4:
        return f"bbox must be a list [x, y, w, h], got {bbox!r}"
    if not all(_is_finite_number(v) for v in bbox):
        return f"bbox has a non-finite or non-numeric value: {bbox!r}"
    x, y, w, h = bbox
    if w <= 0 or h <= 0:
        return f"bbox width and height must be positive, got w={w} h={h}"
    if img is None or not all(_is_finite_number(img.get(k)) for k in ("width", "height")):
        return None  # the image's own problem is reported on the image
    t, W, H = BOX_TOLERANCE_PX, img["width"], img["height"]
    if x < -t or y < -t or x + w > W + t or y + h > H + t:
        return f"bbox {bbox} (xyxy {x}, {y}, {x + w}, {y + h}) lies outside the {W}x{H} image"
    return None


class CocoDataset:
    """A validated COCO detection dataset. ``ds[i] -> (image HxWx3 uint8 RGB, Target)``.

    Target: ``boxes`` float32 [M, 4] xyxy in original image pixels (clipped to the image),
    ``labels`` int64 [M] = category_id - 1, ``image_id`` = the COCO id, ``meta`` with
    ``file_name``, ``modality``, ``iscrowd`` (bool [M]), ``annotation_ids`` (int64 [M]).
    Dual-energy raw files are encoded with ``to_model_image`` (modality ``xray_dual``).
    When the dataset carries masks (any annotation has a ``segmentation``), an image all of whose
    annotations have one also gets ``Target.class_map`` (``data.masks``; a clean image an empty
    map); without masks the targets are as before.
    """

    def __init__(self, coco: dict, ann_file: str | Path, image_root: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS):
        """Wrap an already validated dict (use ``load_coco`` to validate)."""
        self.coco_dict = coco
        self.ann_file = Path(ann_file)
        self.image_root = Path(image_root)
        self.max_pixels = max_pixels
        cats = sorted(coco["categories"], key=lambda c: c["id"])
        self.class_names: tuple[str, ...] = tuple(c["name"] for c in cats)
        self.images: list[ImageRecord] = [
            ImageRecord(
                id=img["id"],
                file_name=img["file_name"],
                path=self.image_root / img["file_name"],
                width=int(img["width"]),
                height=int(img["height"]),
                modality=img.get("modality"),
                scanner=img.get("scanner"),
                contraband=img.get("contraband"),
            )
            for img in coco["images"]
        ]
        per_image: dict[int, list[dict]] = {rec.id: [] for rec in self.images}
        for ann in coco["annotations"]:
            per_image[ann["image_id"]].append(ann)
        self.targets: list[Target] = [self._target(rec, per_image[rec.id]) for rec in self.images]
        self.has_masks = any("segmentation" in ann for ann in coco["annotations"])
        self._segmentations = [
            [a["segmentation"] for a in per_image[rec.id]] if all("segmentation" in a for a in per_image[rec.id]) else None
            for rec in self.images
        ] if self.has_masks else [None] * len(self.images)

    @staticmethod
    def _target(rec: ImageRecord, anns: list[dict]) -> Target:
        xywh = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        # Within BOX_TOLERANCE_PX outside the image is accepted by validation; clip it here.
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, rec.width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, rec.height)
        meta = {
            "file_name": rec.file_name,
            "modality": rec.modality,
            "iscrowd": np.array([bool(a.get("iscrowd", 0)) for a in anns], dtype=bool),
            "annotation_ids": np.array([a["id"] for a in anns], dtype=np.int64),
        }
        labels = np.array([a["category_id"] - 1 for a in anns], dtype=np.int64)
        return Target(boxes.astype(np.float32), labels, image_id=rec.id, meta=meta)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[np.ndarray, Target]:
        rec = self.images[index]
        pixels = read_image(rec.path, max_pixels=self.max_pixels)
        if pixels.shape[:2] != (rec.height, rec.width):
            raise DatasetError([
                Problem(str(self.ann_file), "image", f"id={rec.id}",
                        f"file is {pixels.shape[1]}x{pixels.shape[0]} (WxH) but the record says "
                        f"{rec.width}x{rec.height}", rec.file_name)
            ])
        image, modality = to_model_image(pixels, rgb_modality=rec.modality or "xray")
        target = self.targets[index]
        meta = dict(target.meta, modality=modality)
        class_map = None
        segmentations = self._segmentations[index]
        if segmentations is not None:
            masks = np.array([decode_segmentation(s, rec.height, rec.width) for s in segmentations], bool)
            class_map = class_map_from_masks(masks, target.labels, rec.height, rec.width)
        return image, Target(target.boxes.copy(), target.labels.copy(), target.image_id, meta, class_map)

    def subset(self, indices: Sequence[int]) -> "CocoDataset":
        """A dataset of the images at ``indices`` (with their annotations), e.g. a train/val split."""
        keep_ids = {self.images[i].id for i in indices}
        coco = dict(self.coco_dict)
        coco["images"] = [self.coco_dict["images"][i] for i in indices]
        coco["annotations"] = [a for a in self.coco_dict["annotations"] if a["image_id"] in keep_ids]
        return CocoDataset(coco, self.ann_file, self.image_root, self.max_pixels)


def load_coco(
    ann_file: str | Path,
    image_root: str | Path | None = None,
    check_files: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> CocoDataset:
    """Load and validate a COCO detection file; raises ``DatasetError`` listing every bad record.

    ``image_root`` defaults to the annotation file's folder. ``coco_dict`` of the result is the
    validated dict with ``area`` (w*h) and ``iscrowd`` (0) filled in where absent (pycocotools
    needs both).
    """
    ann_file = Path(ann_file)
    if not ann_file.is_file():
        raise FileNotFoundError(f"COCO annotation file not found: {ann_file}")
    try:
        coco = json.loads(ann_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError([Problem(str(ann_file), "JSON", f"line {exc.lineno} column {exc.colno}", exc.msg)]) from exc
    except UnicodeDecodeError as exc:
        raise DatasetError([Problem(str(ann_file), "file", "encoding", f"not UTF-8 text ({exc.reason})")]) from exc
    root = Path(image_root) if image_root is not None else ann_file.parent
    problems = validate_coco(coco, ann_file, root, check_files)
    if problems:
        raise DatasetError(problems)
    coco = copy.deepcopy(coco)
    for ann in coco["annotations"]:
        ann.setdefault("area", float(ann["bbox"][2] * ann["bbox"][3]))
        ann.setdefault("iscrowd", 0)
    return CocoDataset(coco, ann_file, root, max_pixels)


def coco_annotation(ann_id: int, image_id: int, category_id: int, bbox: Sequence[float],
                    area: float | None = None, **extra: object) -> dict:
    """One COCO annotation entry: ``bbox`` [x, y, w, h] in pixels, ``area`` w * h unless given,
    ``iscrowd`` 0, then ``extra`` fields (``segmentation``, ``score``, a source, ...) in their order."""
    bbox = list(bbox)
    return {"id": ann_id, "image_id": image_id, "category_id": category_id, "bbox": bbox,
            "area": bbox[2] * bbox[3] if area is None else area, "iscrowd": 0, **extra}


def make_coco(images: list[dict], annotations: list[dict], class_names: Sequence[str], info: dict | None = None,
              licenses: list | None = None, **extra: object) -> dict:
    """A COCO dict from image and annotation entries, with ``categories`` for ``class_names`` (ids 1..C).

    ``info`` defaults to a plain description; ``licenses`` is written only when given; ``extra``
    top-level keys (e.g. the feedback export's ``hard_negatives``) come after ``categories``."""
    coco: dict = {"info": {"description": "wildxray dataset"} if info is None else info}
    if licenses is not None:
        coco["licenses"] = licenses
    return coco | {"images": images, "annotations": annotations,
                   "categories": coco_categories(list(class_names)), **extra}


def save_coco(coco: dict, path: str | Path) -> Path:
    """Validate (without checking image files) and write a COCO dict as JSON, atomically."""
    path = Path(path)
    problems = validate_coco(coco, path, check_files=False)
    if problems:
        raise DatasetError(problems)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(coco, f, indent=1)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
