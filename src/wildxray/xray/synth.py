"""Synthetic dual-energy parcel scans with COCO labels: ``ScanSynthesizer`` and ``write_dataset``.

One scan: compose a scene -> basis thickness maps -> basis LUT (polychromatic Beer-Lambert) ->
detector effects -> raw uint16 [H, W, 2] (high, low) -> ``encode_dual_energy`` -> RGB uint8.
Scan ``i`` of a dataset with seed ``s`` is drawn from ``np.random.default_rng([s, i])``, so a
dataset is reproducible byte for byte and any scan can be regenerated alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing as mp
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm

import wildxray.core
from wildxray.core.image_io import write_dual_energy_tiff
from wildxray.data.coco import coco_annotation, make_coco, save_coco
from wildxray.data.masks import encode_mask
from wildxray.types import CLASS_NAMES, Target
from wildxray.xray.synth_config import profile_of, randomiser_of
from wildxray.xray.scan_setup import ScanSetup, fixed_setup
from wildxray.xray.scene import ItemMask, Scene, compose_scene, item_mask, rasterise
from wildxray.xray.sensor import apply_detector
from wildxray.xray.tip import mask_box


@dataclass
class SynthScan:
    """raw: uint16 [H, W, 2] (high, low) transmission; image: uint8 [H, W, 3] RGB pseudo-colour;
    target: boxes float32 [M, 4] xyxy in image pixels (exclusive max) + 0-based labels int64 [M];
    masks: bool [M, H, W] in the image frame, one per box in the same order, each box the tight box
    of its mask (``scene.item_mask``: the item's own areal density, whatever covers it); M = 0 gives
    [0, H, W]; meta: scanner, parcel, items."""

    raw: np.ndarray
    image: np.ndarray
    target: Target
    masks: np.ndarray
    meta: dict = field(default_factory=dict)


class ScanSynthesizer:
    """Draws parcel scans for one composed ``synth`` config (see configs/synth.yaml).

    With ``randomise: true`` each scan draws its own scanner physics, detector, display and
    material densities (``randomise.Randomiser``, from the scan's generator); otherwise every scan
    uses ``self.setup``, the configured profile's, and ``profile``/``lut``/``coefficients``/... are
    that setup's."""

    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.profile = profile_of(cfg)
        self.width, self.height = int(cfg["image"]["width"]), int(cfg["image"]["height"])
        if self.width < 64 or self.height < 64:
            raise ValueError(f"image size {self.width}x{self.height} too small (min 64x64)")
        self.ppc = 10.0 / self.profile.pixel_pitch_mm
        self.clean_fraction = float(cfg["clean_fraction"])
        if not 0.0 <= self.clean_fraction <= 1.0:
            raise ValueError(f"clean_fraction must be in [0, 1], got {self.clean_fraction}")
        content = cfg["content"]  # a plain dict: compose_scene reads it ~20 times a scan, OmegaConf is slow at that
        self.content = OmegaConf.to_container(content, resolve=True) if OmegaConf.is_config(content) else content
        self.randomiser = randomiser_of(cfg)  # None unless randomise: true
        self.setup = fixed_setup(self.profile)
        self.lut, self.coefficients = self.setup.lut, self.setup.coefficients
        self.densities = self.setup.densities  # g/cm^3, for masks
        self.bands = self.setup.bands
        self.palette = self.profile.colour_map

    def render(self, scene: Scene, rng: np.random.Generator | None, noise: bool = True,
               setup: ScanSetup | None = None) -> np.ndarray:
        """Scene -> raw uint16 [H, W, 2]; ``noise=False`` gives the ideal (blurred) transmission."""
        setup = setup or self.setup
        basis = rasterise(scene, setup.coefficients)
        trans = setup.lut.transmission(basis[0], basis[1])
        return apply_detector(trans, setup.profile, rng if rng is not None else np.random.default_rng(0), noise)

    def draw_scene(self, rng: np.random.Generator, ppc: float | None = None) -> Scene:
        """The parcel layout of the next scan (the first draws of ``sample``, after its setup's)."""
        with_contraband = bool(rng.random() >= self.clean_fraction)
        return compose_scene(rng, self.content, self.width, self.height, ppc or self.ppc, with_contraband)

    def sample(self, rng: np.random.Generator, image_id: int = 0) -> SynthScan:
        """One scan: scene, raw, pseudo-colour image, and each contraband item's mask and its tight box.

        An item whose mask has fewer than ``content.min_visible_pixels`` pixels (after clipping to
        the image) gets no box. ``meta["items"]`` lists every placed item; a boxed one also has
        ``box``, ``area`` (its mask's pixel count) and ``concealment``, in the order of the boxes.
        With randomisation, ``meta["randomisation"]`` records what the scan drew."""
        setup = self.randomiser.draw(rng) if self.randomiser is not None else self.setup
        scene = self.draw_scene(rng, setup.ppc)
        raw = self.render(scene, rng, setup=setup)
        masks: list[ItemMask] = []
        labels, items = [], []
        min_px = int(self.content["min_visible_pixels"])
        for placed in scene.items:
            entry = {"kind": placed.item.kind, "role": placed.item.role, "x": placed.x, "y": placed.y}
            if placed.item.role == "contraband":  # masks only for contraband: clutter needs none
                mask = item_mask(placed, setup.densities, self.width, self.height)
                if mask is not None and mask.pixels >= min_px:
                    masks.append(mask)
                    labels.append(placed.item.label)
                    entry.update(box=mask.box, area=mask.pixels, concealment=placed.concealment)
            items.append(entry)
        boxes = np.array([m.box for m in masks], np.float32).reshape(-1, 4)
        full = np.array([m.full(self.width, self.height) for m in masks], bool).reshape(-1, self.height, self.width)
        target = Target(boxes, np.array(labels, np.int64), image_id)
        meta = {"scanner": setup.profile.name, "parcel": scene.parcel_kind, "items": items}
        if setup.meta:
            meta["randomisation"] = dict(setup.meta)
        return SynthScan(raw, setup.encode(raw), target, full, meta)


@functools.lru_cache(maxsize=4)
def generator_fingerprint(*roots: Path) -> str:
    """12 hex digits of sha256 over the simulator's own files (code, material table, colour bands)
    under ``roots`` (default: this package and ``wildxray.core``, which holds the colour encoding
    and the bands every pseudo-colour scan is drawn with).

    A cached or reused dataset is only current if it was written by the same generator: any change
    to the physics, content or colour map changes this."""
    roots = roots or (Path(__file__).parent, Path(wildxray.core.__file__).parent)
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.suffix in {".py", ".yaml", ".json"}):
            name = f"{root.name}/{path.relative_to(root).as_posix()}"
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def config_digest(cfg: Any) -> str:
    """12 hex digits of sha256 over a composed synth config (DictConfig or plain mapping)."""
    plain = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else cfg
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()[:12]


def ensure_dataset(out_dir: Path | str, n: int, seed: int, cfg: Any, progress: bool = True) -> dict:
    """``write_dataset`` unless ``out_dir`` already holds exactly this dataset; returns its summary.

    "Exactly" means the same number of scans, seed, config and generator (``summary.json``, written
    last, records them), so a folder from an older generator, a smaller smoke run or an interrupted
    write is rewritten, never silently reused."""
    out = Path(out_dir)
    want = {"scans": int(n), "seed": int(seed), "config": config_digest(cfg), "generator": generator_fingerprint()}
    try:
        have = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        have = {}
    if all(have.get(k) == v for k, v in want.items()) and (out / "annotations.json").is_file():
        return have
    return write_dataset(out, int(n), int(seed), cfg, progress)


def _files_listed(annotations: Path) -> set[str]:
    """The image and raw files a dataset's annotations.json names (none if it is absent or unreadable)."""
    try:
        images = json.loads(annotations.read_text())["images"]
        return {im[key] for im in images for key in ("file_name", "raw_file") if isinstance(im.get(key), str)}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _write_png(path: Path, rgb: np.ndarray, compression: int) -> None:
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, compression]):
        raise OSError(f"could not write {path}")


class ScanError(RuntimeError):
    """Writing scan ``i`` of a dataset failed; the message names the scan, its seed and the cause."""


def _write_scan(synth: ScanSynthesizer, out: Path, seed: int, i: int, compression: int) -> tuple[dict, list[dict]]:
    """Draw scan ``i`` from ``default_rng([seed, i])``, write its PNG and TIFF, and return its COCO
    image entry and annotations (``id`` 0: the writer numbers them in scan order)."""
    scan = synth.sample(np.random.default_rng([seed, i]), image_id=i + 1)
    stem = f"{i:06d}"
    _write_png(out / "images" / f"{stem}.png", scan.image, compression)
    write_dual_energy_tiff(out / "raw" / f"{stem}.tiff", scan.raw)
    image = {
        "id": i + 1, "file_name": f"images/{stem}.png", "width": synth.width, "height": synth.height,
        "modality": "xray", "scanner": scan.meta["scanner"], "contraband": not scan.target.is_clean,
        "raw_file": f"raw/{stem}.tiff", "parcel": scan.meta["parcel"],
    }
    if "randomisation" in scan.meta:  # what this scan's scanner and display were
        image["randomisation"] = scan.meta["randomisation"]
    boxed = [item for item in scan.meta["items"] if "box" in item]  # in the order of the masks
    annotations = []
    for item, mask, label in zip(boxed, scan.masks, scan.target.labels.tolist()):
        x0, y0, x1, y1 = mask_box(mask)
        annotations.append(coco_annotation(0, i + 1, label + 1, [x0, y0, x1 - x0, y1 - y0], area=float(mask.sum()),
                                           segmentation=encode_mask(mask), form=item["kind"],
                                           concealment=item["concealment"]))
    return image, annotations


def _checked_scan(synth: ScanSynthesizer, out: Path, seed: int, i: int, compression: int) -> tuple[dict, list[dict]]:
    """``_write_scan`` whose errors name the scan (in a worker the traceback alone would not)."""
    try:
        return _write_scan(synth, out, seed, i, compression)
    except Exception as exc:
        raise ScanError(f"scan {i} (images/{i:06d}.png, rng [seed={seed}, {i}]): {type(exc).__name__}: {exc}") from exc


_WORKER: dict[str, Any] = {}  # the synthesizer and output settings of this worker process


def _init_worker(synth: ScanSynthesizer, out: Path, seed: int, compression: int) -> None:
    cv2.setNumThreads(1)  # one process per core already: OpenCV's own threads would only contend
    _WORKER.update(synth=synth, out=out, seed=seed, compression=compression)


def _worker_scan(i: int) -> tuple[dict, list[dict]]:
    w = _WORKER
    return _checked_scan(w["synth"], w["out"], w["seed"], i, w["compression"])


def _scans(synth: ScanSynthesizer, out: Path, n: int, seed: int, compression: int, workers: int):
    """(image, annotations) of scans 0..n-1 in order, drawn by ``workers`` processes.

    Scan i depends only on (seed, i), so the order of work does not matter and the files are the
    same for any worker count. Workers are spawned, not forked: a fork copies the caller's threads'
    locks (OpenCV's pool, tqdm's monitor, torch's) mid-use and can hang the child, as it did under
    pytest. Each receives the built synthesizer pickled (~0.7 MB), so the spectra and LUT, which
    take seconds, are computed once."""
    if workers <= 1:
        for i in range(n):
            yield _checked_scan(synth, out, seed, i, compression)
        return
    # An executor, not multiprocessing.Pool: a worker that dies (or cannot start) raises
    # BrokenProcessPool here instead of being respawned for ever.
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                               initargs=(synth, out, seed, compression))
    try:
        yield from pool.map(_worker_scan, range(n))  # in scan order; a worker's error re-raises here
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after an error, do not draw the rest


def write_dataset(out_dir: Path | str, n: int, seed: int, cfg: Any, progress: bool = True, workers: int = 1) -> dict:
    """Write ``n`` scans: annotations.json (COCO), images/*.png, raw/*.tiff, summary.json.

    Each contraband annotation carries its mask as ``segmentation`` (COCO RLE, str counts), ``area``
    = the mask's pixel count and ``bbox`` = the mask's tight box [x, y, w, h]. ``workers`` processes
    draw and write the scans; the files are byte-identical for any number. A failing scan raises
    ``ScanError`` naming it. Returns the summary (class instance counts, clean/contraband parcels,
    forms, scanner). Writing a smaller set over an older one removes the older set's scans that the
    new one does not list (only files its annotations.json named), so the folder never mixes two sets.
    annotations.json is built with ``data.coco.make_coco`` and written by ``save_coco`` (validated,
    atomic): a set it refuses raises ``DatasetError`` and leaves no summary.json.
    """
    out = Path(out_dir)
    previous = _files_listed(out / "annotations.json")
    (out / "summary.json").unlink(missing_ok=True)  # written last: its absence marks an unfinished set
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "raw").mkdir(parents=True, exist_ok=True)
    synth = ScanSynthesizer(cfg)
    compression = int(cfg["output"]["png_compression"])
    images, annotations = [], []
    counts: Counter = Counter()
    forms: Counter = Counter()
    scans = _scans(synth, out, n, seed, compression, max(1, min(int(workers), n)))
    for image, anns in tqdm(scans, total=n, desc="synth", unit="scan", disable=not progress):
        images.append(image)
        for ann in anns:
            annotations.append(ann | {"id": len(annotations) + 1})
            counts[CLASS_NAMES[ann["category_id"] - 1]] += 1
            forms[ann["form"]] += 1
    info = {"description": "wildxray synthetic dual-energy parcel scans", "seed": seed, "scanner": synth.profile.name,
            "raw_encoding": "uint16 (high, low), 65535 = transmission 1", "generator": generator_fingerprint()}
    save_coco(make_coco(images, annotations, CLASS_NAMES, info=info), out / "annotations.json")
    for rel in sorted(previous - {im[key] for im in images for key in ("file_name", "raw_file")}):
        (out / rel).unlink(missing_ok=True)
    n_threat = sum(im["contraband"] for im in images)
    summary = {
        "scans": n, "seed": seed, "scanner": synth.profile.name, "contraband_parcels": n_threat,
        "clean_parcels": n - n_threat, "instances": {c: counts.get(c, 0) for c in CLASS_NAMES},
        "forms": dict(sorted(forms.items())), "config": config_digest(cfg), "generator": generator_fingerprint(),
    }
    if synth.randomiser is not None:  # each scan drew its own scanner: annotations.json says which
        summary["randomised"] = True
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
