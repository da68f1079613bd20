"""Threat libraries and projected COCO datasets (``wildxray synth --clean-parcels DIR --threats DIR``).

Folder layouts:
- clean parcels: ``DIR/*.tif[f]`` raw dual energy HxWx2 uint16 (high, low), or ``*.png``/``*.jpg``
  pseudo-colour (projected with the RGB caveat of ``wildxray.xray.tip``);
- threats: ``DIR/<class>/*.tif[f]`` (or png/jpg) empty-belt scans of seized items, ``<class>`` one
  of ``wildxray.types.CLASS_NAMES``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import tifffile
from tqdm import tqdm

from wildxray.core.colour import encode_dual_energy
from wildxray.core.image_io import write_dual_energy_tiff
from wildxray.data.coco import coco_annotation, make_coco, save_coco
from wildxray.data.masks import encode_mask
from wildxray.types import CLASS_NAMES
from wildxray.xray.synth_config import profile_of
from wildxray.xray.physics import transmission_lut
from wildxray.xray.scene import PlacedItem, Scene
from wildxray.xray.tip import (choose_position, crop_threat, mask_box, place_mask, project_threat,
                               project_threat_rgb, projected_mask)
from wildxray.xray.xray_catalogue import make_contraband

RAW_SUFFIXES = (".tif", ".tiff")
RGB_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class Threat:
    """A threat patch (raw uint16 [h, w, 2], or RGB uint8 [h, w, 3]) and its 0-based class label."""

    image: np.ndarray
    label: int
    source: str


def read_scan(path: Path) -> np.ndarray:
    """Raw HxWx2 uint16 from TIFF, or RGB uint8 from PNG/JPEG; errors name the file."""
    suffix = path.suffix.lower()
    if suffix in RAW_SUFFIXES:
        arr = tifffile.imread(path)
        if arr.ndim == 3 and arr.shape[0] == 2 and arr.shape[2] != 2:  # planar (2, H, W) files
            arr = np.moveaxis(arr, 0, -1)
        if arr.ndim != 3 or arr.shape[2] != 2 or arr.dtype != np.uint16:
            raise ValueError(f"{path}: expected dual-energy raw HxWx2 uint16 (high, low), got {arr.shape} {arr.dtype}")
        return np.ascontiguousarray(arr)
    if suffix in RGB_SUFFIXES:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"{path}: unreadable image")
        return np.ascontiguousarray(bgr[..., ::-1])
    raise ValueError(f"{path}: unsupported file type (want {RAW_SUFFIXES + RGB_SUFFIXES})")


def _rgb_crop(rgb: np.ndarray, air_level: int = 235) -> np.ndarray:
    """Pseudo-colour threat crop: the item is whatever is darker than the near-white belt."""
    mask = rgb.min(axis=2) < air_level
    box = mask_box(mask)
    if box is None:
        raise ValueError("pseudo-colour threat shows no item")
    x0, y0, x1, y1 = (int(v) for v in box)
    patch = rgb[y0:y1, x0:x1].copy()
    patch[~mask[y0:y1, x0:x1]] = 255
    return patch


def load_threats(folder: Path | str, air_threshold: float = 0.97) -> list[Threat]:
    """Every threat scan under ``folder/<class>/``, cropped to its item."""
    folder = Path(folder)
    threats = []
    for path in sorted(folder.glob("*/*")):
        if path.suffix.lower() not in RAW_SUFFIXES + RGB_SUFFIXES:
            continue
        cls = path.parent.name
        if cls not in CLASS_NAMES:
            raise ValueError(f"{path}: folder '{cls}' is not a class; use one of {CLASS_NAMES}")
        img = read_scan(path)
        try:
            patch = crop_threat(img, air_threshold) if img.shape[2] == 2 else _rgb_crop(img)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        threats.append(Threat(patch, CLASS_NAMES.index(cls), str(path)))
    if not threats:
        raise ValueError(f"{folder}: no threat scans found (expected {folder}/<class>/*.tiff)")
    return threats


def render_threat_library(synth: Any, per_class: int, seed: int, noise: bool = False) -> list[Threat]:
    """Synthetic TIP library: each contraband item rendered alone on the empty belt, cropped.

    ``synth`` is a ``ScanSynthesizer``; noise-free by default so projection adds no second noise.
    """
    rng = np.random.default_rng(seed)
    out = []
    for cls in CLASS_NAMES:
        for _ in range(per_class):
            item = make_contraband(cls, rng, synth.ppc).rotated(rng.uniform(0, 360))
            h, w = item.shape
            scene = Scene(w + 8, h + 8, synth.ppc, [PlacedItem(item, 4, 4)])
            raw = synth.render(scene, rng, noise=noise)
            out.append(Threat(crop_threat(raw), CLASS_NAMES.index(cls), item.kind))
    return out


def write_projected_dataset(out_dir: Path | str, clean_dir: Path | str, threats_dir: Path | str, n: int, seed: int,
                            cfg: Any, progress: bool = True) -> dict:
    """Project user threats into user clean parcels: COCO ``annotations.json``, ``images/``, ``raw/``.

    Each annotation's ``segmentation`` (COCO RLE) is the threat's footprint where it lands (raw: the
    pixels of its empty-belt scan below ``tip.air_threshold`` transmission; pseudo-colour: those not
    pure white), clipped to the parcel image; ``bbox`` is its tight box and ``area`` its pixel count.
    A threat projected over another keeps its whole mask. annotations.json is written by
    ``data.coco.save_coco`` (validated, atomic)."""
    out = Path(out_dir)
    parcels = sorted(p for p in Path(clean_dir).iterdir() if p.suffix.lower() in RAW_SUFFIXES + RGB_SUFFIXES)
    if not parcels:
        raise ValueError(f"{clean_dir}: no clean parcel scans (*.tiff raw or *.png/*.jpg pseudo-colour)")
    air = float(cfg["tip"]["air_threshold"])
    threats = load_threats(threats_dir, air)
    (out / "images").mkdir(parents=True, exist_ok=True)
    lo, hi = cfg["tip"]["threats_per_parcel"]
    lut = None
    if cfg["tip"].get("beam_hardening_correction", False):
        lut = transmission_lut(profile_of(cfg))
    images, anns, counts = [], [], Counter()
    for i in tqdm(range(n), desc="tip", unit="scan", disable=not progress):
        rng = np.random.default_rng([seed, i])
        path = parcels[int(rng.integers(len(parcels)))]
        scan = read_scan(path)
        is_raw = scan.shape[2] == 2
        pool = [t for t in threats if (t.image.shape[2] == 2) == is_raw]
        if not pool:
            raise ValueError(f"{path}: no threat scans of the same kind ({'raw' if is_raw else 'pseudo-colour'})")
        placed = []  # (mask bool [H, W], label)
        for _ in range(int(rng.integers(lo, hi + 1))):
            threat = pool[int(rng.integers(len(pool)))]
            if is_raw:
                at = choose_position(rng, scan, threat.image, air)
                mask = projected_mask(threat.image, at, scan.shape, air)
                scan = project_threat(scan, threat.image, at, lut)
            else:
                h, w = scan.shape[:2]
                th, tw = threat.image.shape[:2]
                at = (int(rng.integers(0, max(1, w - tw))), int(rng.integers(0, max(1, h - th))))
                mask = place_mask(threat.image.min(axis=2) < 255, at, scan.shape)
                scan = project_threat_rgb(scan, threat.image, at)
            if mask.any():
                placed.append((mask, threat.label))
        stem = f"{i:06d}"
        image = encode_dual_energy(scan) if is_raw else scan
        cv2.imwrite(str(out / "images" / f"{stem}.png"), np.ascontiguousarray(image[..., ::-1]))
        entry = {"id": i + 1, "file_name": f"images/{stem}.png", "width": scan.shape[1], "height": scan.shape[0],
                 "modality": "xray", "scanner": "user", "contraband": bool(placed), "source": str(path)}
        if is_raw:
            (out / "raw").mkdir(exist_ok=True)
            write_dual_energy_tiff(out / "raw" / f"{stem}.tiff", scan)
            entry["raw_file"] = f"raw/{stem}.tiff"
        images.append(entry)
        for mask, label in placed:
            x0, y0, x1, y1 = mask_box(mask)
            anns.append(coco_annotation(len(anns) + 1, i + 1, label + 1, [x0, y0, x1 - x0, y1 - y0],
                                        area=float(mask.sum()), segmentation=encode_mask(mask)))
            counts[CLASS_NAMES[label]] += 1
    info = {"description": "wildxray threat image projection", "seed": seed}
    save_coco(make_coco(images, anns, CLASS_NAMES, info=info), out / "annotations.json")
    summary = {"scans": n, "seed": seed, "instances": {c: counts.get(c, 0) for c in CLASS_NAMES},
               "contraband_parcels": sum(im["contraband"] for im in images)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


