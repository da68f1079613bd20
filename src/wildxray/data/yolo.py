"""YOLO txt folders <-> COCO, lossless to float precision.

Layout (Ultralytics): ``<root>/images/<split>/**/<name>.<ext>`` with labels at the same relative
path under ``<root>/labels/<split>/`` and suffix ``.txt``; the flat ``images/`` + ``labels/``
layout (no split folder) works the same. One row per box: ``cls cx cy w h``, the class a 0-based
index, the box centre and size normalised by the image width/height to [0, 1]. An image without a
label file, or with an empty one, is a clean (negative) image. Class names come from ``data.yaml``
(``names`` as a list or ``{index: name}``), else ``classes.txt`` (one per line).

COCO ``file_name``s produced by ``yolo_to_coco`` are relative to the YOLO root
(``images/train/a.jpg``): load them with ``load_coco(json, image_root=<root>)``.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import yaml

from wildxray.core.errors import DatasetError, ImageReadError, Problem
from wildxray.core.image_header import read_image_header
from wildxray.data.coco import CocoDataset, coco_annotation, load_coco, make_coco, save_coco, validate_coco

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".dcm")
#: A normalised edge may pass 0 or 1 by this much (float formatting) before the row is rejected.
_EDGE_EPS = 1e-6


def read_class_names(yolo_root: str | Path) -> list[str] | None:
    """Class names from ``data.yaml`` (or ``dataset.yaml``), else ``classes.txt``; None if neither."""
    root = Path(yolo_root)
    for name in ("data.yaml", "dataset.yaml"):
        if (root / name).is_file():
            names = (yaml.safe_load((root / name).read_text(encoding="utf-8")) or {}).get("names")
            if isinstance(names, dict):
                keys = sorted(names)
                if keys != list(range(len(keys))):
                    problem = f"indices must be 0..C-1, got {keys}"
                    raise DatasetError([Problem(str(root / name), "key", "'names'", problem)])
                return [str(names[k]) for k in keys]
            if isinstance(names, list):
                return [str(n) for n in names]
            problem = f"must be a list or a mapping, got {names!r}"
            raise DatasetError([Problem(str(root / name), "key", "'names'", problem)])
    if (root / "classes.txt").is_file():
        return [ln.strip() for ln in (root / "classes.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    return None


def yolo_to_coco(
    yolo_root: str | Path,
    out_json: str | Path | None = None,
    class_names: Sequence[str] | None = None,
    split: str | None = None,
) -> dict:
    """Convert a YOLO folder (one ``split``, or every image under ``images/`` when None) to a COCO dict.

    Image sizes are read from file headers (no decoding). Every bad row, an unreadable image and a
    label file without an image raise one ``DatasetError`` naming the file and line.
    Writes ``out_json`` when given (validated).
    """
    root = Path(yolo_root)
    images_dir = root / "images" / split if split else root / "images"
    labels_dir = root / "labels" / split if split else root / "labels"
    if not images_dir.is_dir():
        raise FileNotFoundError(f"YOLO images folder not found: {images_dir}")
    names = list(class_names) if class_names is not None else read_class_names(root)
    if not names:
        raise DatasetError([Problem(str(root), "dataset", "class names", "none given and no data.yaml or classes.txt")])
    problems: list[Problem] = []
    images: list[dict] = []
    annotations: list[dict] = []
    image_paths = sorted(p for p in images_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    expected_labels: set[Path] = set()
    for image_path in image_paths:
        rel = image_path.relative_to(images_dir)
        label_path = (labels_dir / rel).with_suffix(".txt")
        expected_labels.add(label_path)
        try:
            header = read_image_header(image_path)
        except ImageReadError as exc:
            problems.append(Problem(str(image_path), "image", "file", f"{exc.code}: {exc.message}"))
            continue
        image_id = len(images) + 1
        images.append({
            "id": image_id,
            "file_name": image_path.relative_to(root).as_posix(),
            "width": header.width,
            "height": header.height,
        })
        if label_path.is_file():
            for row in _parse_label_file(label_path, len(names), header.width, header.height, problems):
                cls, bbox = row
                annotations.append(coco_annotation(len(annotations) + 1, image_id, cls + 1, bbox))
    if labels_dir.is_dir():
        for orphan in sorted(p for p in labels_dir.rglob("*.txt") if p not in expected_labels):
            problems.append(Problem(str(orphan), "label file", "", "no image with the same name under images/"))
    if problems:
        raise DatasetError(problems)
    coco = make_coco(images, annotations, names)
    if out_json is not None:
        save_coco(coco, out_json)
    return coco


def _parse_label_file(path: Path, num_classes: int, width: int, height: int, problems: list[Problem]):
    """Yield (class index, COCO bbox [x, y, w, h] pixels) per valid row; add a Problem per bad one."""
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue

        def bad(msg: str, lineno=lineno) -> None:
            problems.append(Problem(str(path), "line", str(lineno), msg))

        if len(fields) != 5:
            bad(f"expected 5 fields 'cls cx cy w h', got {len(fields)}: {line.strip()!r}")
            continue
        try:
            values = [float(v) for v in fields]
        except ValueError:
            bad(f"non-numeric field in {line.strip()!r}")
            continue
        if not all(math.isfinite(v) for v in values):
            bad(f"non-finite value in {line.strip()!r}")
            continue
        cls_f, cx, cy, w, h = values
        if not cls_f.is_integer() or not 0 <= cls_f < num_classes:
            bad(f"class {fields[0]} out of range 0..{num_classes - 1}")
            continue
        if not all(0.0 <= v <= 1.0 for v in (cx, cy, w, h)) or w <= 0 or h <= 0:
            bad(f"coordinates must lie in [0, 1] with w, h > 0, got cx={cx} cy={cy} w={w} h={h}")
            continue
        x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        if x0 < -_EDGE_EPS or y0 < -_EDGE_EPS or x1 > 1 + _EDGE_EPS or y1 > 1 + _EDGE_EPS:
            bad(f"box edges ({x0:.6f}, {y0:.6f}, {x1:.6f}, {y1:.6f}) fall outside [0, 1]")
            continue
        yield int(cls_f), [x0 * width, y0 * height, w * width, h * height]


def coco_to_yolo(
    coco: dict | str | Path | CocoDataset,
    out_root: str | Path,
    image_root: str | Path | None = None,
    split: str = "train",
    link: str = "copy",
) -> Path:
    """Write a COCO dataset as a YOLO folder: ``images/<split>/``, ``labels/<split>/``, ``data.yaml``.

    ``coco`` is a dict (validated; ``image_root`` required), a COCO JSON path (loaded with
    ``load_coco(coco, image_root)``) or a ``CocoDataset``. Every image gets a label file (empty for a
    clean image). Boxes are clipped to the image and written with 10 decimals; ``iscrowd`` has no
    YOLO equivalent, crowd boxes are written as ordinary boxes. A leading ``images/`` and then
    ``<split>/`` is dropped from ``file_name`` so a converted YOLO folder converts back to itself.
    ``link``: ``copy`` | ``hardlink`` | ``symlink``. Returns the path of ``data.yaml``, which is
    merged with an existing one (another split) if the class names agree.
    """
    if link not in ("copy", "hardlink", "symlink"):
        raise ValueError(f"link must be 'copy', 'hardlink' or 'symlink', got {link!r}")
    dataset = _as_dataset(coco, image_root)
    out = Path(out_root)
    yaml_path = _write_data_yaml(out, split, dataset.class_names)
    dests: dict[Path, str] = {}
    per_image: dict[int, list[dict]] = {rec.id: [] for rec in dataset.images}
    for ann in dataset.coco_dict["annotations"]:
        per_image[ann["image_id"]].append(ann)
    for rec in dataset.images:
        rel = _relative_image_path(rec.file_name, split)
        if rel in dests:
            raise DatasetError([Problem(str(dataset.ann_file), "image", f"id={rec.id}",
                                        f"maps to the same YOLO file as {dests[rel]!r}", rec.file_name)])
        dests[rel] = rec.file_name
        image_dest = out / "images" / split / rel
        label_dest = (out / "labels" / split / rel).with_suffix(".txt")
        image_dest.parent.mkdir(parents=True, exist_ok=True)
        label_dest.parent.mkdir(parents=True, exist_ok=True)
        _place(rec.path, image_dest, link)
        rows = []
        for ann in per_image[rec.id]:  # float64 from the JSON, not the float32 Target, for a lossless trip
            x, y, bw, bh = (float(v) for v in ann["bbox"])
            x0, y0 = max(x, 0.0), max(y, 0.0)
            x1, y1 = min(x + bw, rec.width), min(y + bh, rec.height)
            cx, cy = (x0 + x1) / 2 / rec.width, (y0 + y1) / 2 / rec.height
            w, h = (x1 - x0) / rec.width, (y1 - y0) / rec.height
            rows.append(f"{ann['category_id'] - 1} {cx:.10f} {cy:.10f} {w:.10f} {h:.10f}\n")
        label_dest.write_text("".join(rows), encoding="utf-8")
    return yaml_path


def _as_dataset(coco: dict | str | Path | CocoDataset, image_root: str | Path | None) -> CocoDataset:
    if isinstance(coco, CocoDataset):
        return coco
    if isinstance(coco, (str, Path)):
        return load_coco(coco, image_root)
    if image_root is None:
        raise ValueError("coco_to_yolo: a COCO dict needs image_root to find its images")
    problems = validate_coco(coco, "<coco dict>", image_root, check_files=True)
    if problems:
        raise DatasetError(problems)
    return CocoDataset(coco, "<coco dict>", image_root)


def _relative_image_path(file_name: str, split: str) -> Path:
    rel = Path(file_name)
    if rel.is_absolute():
        return Path(rel.name)
    parts = rel.parts
    if len(parts) > 1 and parts[0] == "images":
        parts = parts[1:]
        if len(parts) > 1 and parts[0] == split:
            parts = parts[1:]
    return Path(*parts)


def _place(src: Path, dest: Path, link: str) -> None:
    if dest.exists() or dest.is_symlink():
        if dest.resolve() == src.resolve():
            return
        dest.unlink()
    if link == "copy":
        shutil.copy2(src, dest)
    elif link == "hardlink":
        os.link(src, dest)
    else:
        dest.symlink_to(src.resolve())


def _write_data_yaml(out: Path, split: str, class_names: Sequence[str]) -> Path:
    path = out / "data.yaml"
    data: dict = {}
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        existing = read_class_names(out)
        if existing is not None and existing != list(class_names):
            raise DatasetError([Problem(str(path), "key", "'names'",
                                        f"holds {existing}, the dataset being written has {list(class_names)}")])
    data.update({
        "path": str(out.resolve()),
        split: f"images/{split}",
        "nc": len(class_names),
        "names": {i: n for i, n in enumerate(class_names)},
    })
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
