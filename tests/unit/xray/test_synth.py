"""Scene content, per-item masks and their tight boxes, clean parcels, reproducibility of written datasets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wildxray.types import CLASS_NAMES
from wildxray.xray.content.builder import Item
from wildxray.xray.content.clutter import CLUTTER
from wildxray.xray.content.decoys import DECOYS
from wildxray.xray.scene import MASK_DENSITY_G_CM2, PlacedItem, Scene, item_mask
from wildxray.xray.synth import ScanError, ScanSynthesizer, write_dataset
from wildxray.xray.xray_catalogue import CONTRABAND, make_clutter, make_contraband, make_decoy


def test_catalogue_covers_the_issue():
    assert len(CLUTTER) >= 15 and len(DECOYS) >= 8
    assert tuple(CONTRABAND) == CLASS_NAMES
    for cls, forms in CONTRABAND.items():
        assert len(forms) >= (1 if cls == "scales" else 3), cls


@pytest.mark.parametrize("cls", CLASS_NAMES)
def test_every_contraband_form_builds_nonempty_item(cls):
    rng = np.random.default_rng(1)
    for form in CONTRABAND[cls]:
        item = make_contraband(cls, rng, 10.0, form)
        assert item.label == CLASS_NAMES.index(cls) and item.role == "contraband"
        assert item.footprint().sum() > 20, f"{cls}/{form}"
        assert all(np.isfinite(v).all() and v.min() >= 0 for v in item.parts.values())


def test_clutter_and_decoys_carry_no_label():
    rng = np.random.default_rng(2)
    for kind in CLUTTER:
        assert make_clutter(rng, 10.0, kind).label is None
    for kind in DECOYS:
        assert make_decoy(rng, 10.0, kind).label is None


def _alone(synth: ScanSynthesizer, placed: PlacedItem) -> np.ndarray:
    """Noise- and blur-free render of one item alone: the pixels it attenuates."""
    import dataclasses

    sharp = dataclasses.replace(synth.profile, blur_sigma_high_px=0.0, blur_sigma_low_px=0.0)
    scene = Scene(synth.width, synth.height, synth.ppc, [placed])
    from wildxray.xray.sensor import apply_detector
    from wildxray.xray.scene import rasterise

    basis = rasterise(scene, synth.coefficients)
    raw = apply_detector(synth.lut.transmission(basis[0], basis[1]), sharp, np.random.default_rng(0), noise=False)
    return raw[..., 1] < 65535


def _own_density(synth: ScanSynthesizer, placed: PlacedItem) -> np.ndarray:
    """float64 [H, W]: the item's own g/cm^2 in the image frame, summed here from the material table."""
    from wildxray.xray.materials import default_materials

    out = np.zeros((synth.height + 2 * 1000, synth.width + 2 * 1000))  # room for items hanging off the image
    h, w = placed.item.shape
    for material, t in placed.item.parts.items():
        out[1000 + placed.y:1000 + placed.y + h, 1000 + placed.x:1000 + placed.x + w] += \
            default_materials()[material].density * t.astype(np.float64)
    return out[1000:1000 + synth.height, 1000:1000 + synth.width]


def _tight(mask: np.ndarray) -> list[float]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return [float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)]


def test_masks_are_each_items_own_density_and_boxes_their_tight_boxes(small_cfg):
    cfg = small_cfg.copy()
    cfg.clean_fraction = 0.0
    # The threshold is the median mask size of these scenes, so some items fall below it (no box)
    # whatever the item generators draw.
    probe = ScanSynthesizer(cfg)
    sizes = [int((_own_density(probe, p) > MASK_DENSITY_G_CM2).sum())
             for seed in range(6) for p in probe.draw_scene(np.random.default_rng(seed)).contraband()]
    limit = int(np.median(sizes))
    cfg.content.min_visible_pixels = limit
    synth = ScanSynthesizer(cfg)
    kept = dropped = 0
    for seed in range(6):
        scene = synth.draw_scene(np.random.default_rng(seed))  # the scene sample() draws first
        scan = synth.sample(np.random.default_rng(seed))
        expected, labels = [], []
        for placed in scene.contraband():
            mask = _own_density(synth, placed) > MASK_DENSITY_G_CM2
            assert not (mask & ~_alone(synth, placed)).any(), "a mask pixel where the item does not attenuate"
            if mask.sum() >= limit:
                expected.append(mask)
                labels.append(placed.item.label)
            else:
                dropped += 1
        kept += len(expected)
        assert scan.masks.dtype == bool and scan.masks.shape == (len(expected), synth.height, synth.width)
        np.testing.assert_array_equal(scan.masks, np.array(expected, bool).reshape(scan.masks.shape))
        np.testing.assert_array_equal(scan.target.labels, labels)
        np.testing.assert_array_equal(scan.target.boxes, np.array([_tight(m) for m in expected], np.float32).reshape(-1, 4))
        boxed = [it for it in scan.meta["items"] if "box" in it]
        assert [it["area"] for it in boxed] == [int(m.sum()) for m in expected]
    assert kept >= 3 and dropped >= 1


def test_mask_threshold_is_on_the_items_own_areal_density():
    """One constructed item: ivory (1.85 g/cm^3) and keratin (1.30) in cm; a pixel counts when their
    summed density x path length exceeds the threshold, by a hair either way."""
    from wildxray.xray.materials import default_materials

    densities = {name: m.density for name, m in default_materials().items()}
    ivory, keratin = np.zeros((5, 7), np.float32), np.zeros((5, 7), np.float32)
    thr = MASK_DENSITY_G_CM2
    ivory[1, 1] = thr * 0.99 / 1.85                          # just below, alone
    ivory[1, 3] = thr * 1.01 / 1.85                          # just above, alone
    ivory[3, 2], keratin[3, 2] = thr * 0.6 / 1.85, thr * 0.6 / 1.30  # each below, together above
    keratin[3, 5] = thr * 0.99 / 1.30                        # just below
    item = Item({"dentine_ivory": ivory, "keratin": keratin}, "ivory/test", "contraband", 0)
    mask = item_mask(PlacedItem(item, 10, 20), densities, 100, 100)
    assert mask.box == [12.0, 21.0, 14.0, 24.0] and mask.pixels == 2
    full = mask.full(100, 100)
    assert full[21, 13] and full[23, 12] and not full[21, 11] and not full[23, 15] and full.sum() == 2
    assert item_mask(PlacedItem(item, 10, 20), densities, 100, 100, threshold=thr * 2) is None
    # clipped to the image: the item hangs off the left edge, so only the pixel still inside counts
    clipped = item_mask(PlacedItem(item, -3, 0), densities, 100, 100)
    assert clipped.box == [0.0, 1.0, 1.0, 2.0] and clipped.pixels == 1


def test_a_concealed_item_keeps_its_full_mask(small_cfg):
    """Wrapped in foil, under clothes or a laptop: the mask is the item's own density, so a cover
    neither shrinks nor grows it, and the item keeps its box."""
    cfg = small_cfg.copy()
    cfg.clean_fraction = 0.0
    cfg.content.conceal_probability = 1.0
    synth = ScanSynthesizer(cfg)
    seen = set()
    for seed in range(8):
        scene = synth.draw_scene(np.random.default_rng(seed))
        scan = synth.sample(np.random.default_rng(seed))
        boxed = [it for it in scan.meta["items"] if "box" in it]
        threats = [p for p in scene.contraband() if (_own_density(synth, p) > MASK_DENSITY_G_CM2).sum() >= 30]
        assert len(threats) == len(boxed) == len(scan.masks)
        for k, placed in enumerate(threats):
            own = _own_density(synth, placed) > MASK_DENSITY_G_CM2
            covers = [p for p in scene.items if p is not placed and p.item.role in ("clutter", "wrap")]
            covered = np.logical_or.reduce([_own_density(synth, p) > MASK_DENSITY_G_CM2 for p in covers]) & own
            np.testing.assert_array_equal(scan.masks[k], own)
            assert scan.target.boxes[k].tolist() == _tight(own) and boxed[k]["concealment"] == placed.concealment
            if placed.concealment and covered.sum() > 0.2 * own.sum():  # really under something
                seen.add(placed.concealment)
    assert seen == {"clothes", "foil", "dense"}


def test_clean_parcels_carry_no_box_but_still_have_content(small_cfg):
    cfg = small_cfg.copy()
    cfg.clean_fraction = 1.0
    synth = ScanSynthesizer(cfg)
    for seed in range(4):
        scan = synth.sample(np.random.default_rng(seed))
        assert scan.target.is_clean and scan.masks.shape == (0, 240, 320) and scan.masks.dtype == bool
        assert (scan.raw[..., 0] < 60000).mean() > 0.05, "a clean parcel is not an empty belt"
        assert scan.raw.dtype == np.uint16 and scan.raw.shape == (240, 320, 2)
        assert scan.image.dtype == np.uint8 and scan.image.shape == (240, 320, 3)


def test_clean_share_follows_config(synthesizer):
    n_clean = sum(synthesizer.sample(np.random.default_rng([9, i])).target.is_clean for i in range(40))
    assert 10 <= n_clean <= 30  # default 0.5


def test_same_seed_gives_byte_identical_files(tmp_path, small_cfg):
    a, b = tmp_path / "a", tmp_path / "b"
    write_dataset(a, 3, 7, small_cfg, progress=False)
    write_dataset(b, 3, 7, small_cfg, progress=False)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 3 + 3 + 2
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    write_dataset(tmp_path / "c", 1, 8, small_cfg, progress=False)
    assert (tmp_path / "c/raw/000000.tiff").read_bytes() != (a / "raw/000000.tiff").read_bytes()


def test_written_dataset_is_valid_coco(tmp_path, small_cfg):
    import tifffile

    summary = write_dataset(tmp_path, 4, 11, small_cfg, progress=False)
    coco = json.loads((tmp_path / "annotations.json").read_text())
    assert [c["name"] for c in coco["categories"]] == list(CLASS_NAMES)
    by_image = {im["id"]: im for im in coco["images"]}
    for im in coco["images"]:
        assert im["modality"] == "xray" and im["scanner"] == "default" and isinstance(im["contraband"], bool)
        raw = tifffile.imread(tmp_path / im["raw_file"])
        assert raw.shape == (im["height"], im["width"], 2) and raw.dtype == np.uint16
    for ann in coco["annotations"]:
        im = by_image[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= im["width"] and y + h <= im["height"]
        assert im["contraband"]
    assert sum(summary["instances"].values()) == len(coco["annotations"])
    assert summary["clean_parcels"] == sum(not im["contraband"] for im in coco["images"])


def test_masks_round_trip_through_coco_rle(tmp_path, small_cfg):
    """annotations.json carries each box's mask: decoded with pycocotools it is SynthScan.masks,
    its tight box is the bbox and its pixel count the area; the dataset loads for training."""
    from pycocotools import mask as mask_utils

    from wildxray.data.coco import load_coco

    cfg = small_cfg.copy()
    cfg.clean_fraction = 0.0
    write_dataset(tmp_path, 4, 3, cfg, progress=False)
    coco = json.loads((tmp_path / "annotations.json").read_text())
    synth = ScanSynthesizer(cfg)
    checked = 0
    for im in coco["images"]:
        i = im["id"] - 1
        scan = synth.sample(np.random.default_rng([3, i]), image_id=im["id"])
        anns = [a for a in coco["annotations"] if a["image_id"] == im["id"]]
        assert len(anns) == len(scan.masks) == len(scan.target.boxes)
        for k, ann in enumerate(anns):
            seg = ann["segmentation"]
            assert isinstance(seg["counts"], str) and seg["size"] == [im["height"], im["width"]]
            decoded = mask_utils.decode({"size": seg["size"], "counts": seg["counts"].encode()}).astype(bool)
            np.testing.assert_array_equal(decoded, scan.masks[k])
            x0, y0, x1, y1 = _tight(decoded)
            assert ann["bbox"] == [x0, y0, x1 - x0, y1 - y0] and ann["area"] == decoded.sum()
            assert ann["category_id"] == scan.target.labels[k] + 1
            assert [x0, y0, x1, y1] == scan.target.boxes[k].tolist()
            checked += 1
    assert checked >= 4
    assert len(load_coco(tmp_path / "annotations.json")) == 4


def test_a_failing_scan_is_named_from_its_worker(tmp_path, small_cfg):
    """All class weights 0: clean parcels still draw, the first contraband parcel fails (numpy
    refuses NaN probabilities), and the error names that scan, from a worker or from this process."""
    cfg = small_cfg.copy()
    cfg.content.class_weights = {name: 0.0 for name in CLASS_NAMES}
    first = next(i for i in range(50) if np.random.default_rng([8, i]).random() >= cfg.clean_fraction)
    assert first > 0  # seed 8 opens with clean parcels, so the index in the message means something
    want = rf"scan {first} \(images/{first:06d}.png, rng \[seed=8, {first}\]\): ValueError: .*NaN"
    with pytest.raises(ScanError, match=want) as err:
        write_dataset(tmp_path, first + 3, 8, cfg, progress=False, workers=2)
    assert "RemoteTraceback" in type(err.value.__cause__).__name__  # raised in a worker, not here
    with pytest.raises(ScanError, match=want):
        write_dataset(tmp_path, first + 3, 8, cfg, progress=False, workers=1)
    assert not (tmp_path / "summary.json").exists()  # an unfinished set never looks finished


def test_a_smaller_set_over_a_bigger_one_leaves_only_its_own_scans(tmp_path, small_cfg):
    write_dataset(tmp_path, 4, 7, small_cfg, progress=False)
    (tmp_path / "images" / "notes.txt").write_text("a user's file")  # not named by the set: kept
    write_dataset(tmp_path, 2, 7, small_cfg, progress=False)
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["000000.png", "000001.png", "notes.txt"]
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["000000.tiff", "000001.tiff"]
    assert len(json.loads((tmp_path / "annotations.json").read_text())["images"]) == 2


def test_a_set_the_coco_writer_refuses_is_not_written(tmp_path, small_cfg, monkeypatch):
    """annotations.json goes through save_coco: an invalid record raises DatasetError naming it, and
    neither annotations.json nor summary.json (the mark of a finished set) is left behind."""
    from wildxray.core.errors import DatasetError
    from wildxray.xray import synth as synth_module

    real_scan = synth_module._write_scan

    def bad_scan(*args):
        image, anns = real_scan(*args)
        return image | {"contraband": "yes"}, anns

    monkeypatch.setattr(synth_module, "_write_scan", bad_scan)
    with pytest.raises(DatasetError, match=r"images/000000\.png.*contraband must be true or false"):
        write_dataset(tmp_path, 1, 7, small_cfg, progress=False)
    assert not (tmp_path / "annotations.json").exists() and not (tmp_path / "summary.json").exists()


def test_a_dataset_is_reused_only_if_it_is_this_very_set(tmp_path, small_cfg, monkeypatch):
    """ensure_dataset rewrites a folder from another size, seed, config or generator, or an
    interrupted write; it reuses the folder only when all of them match."""
    from wildxray.xray import synth as synth_module
    from wildxray.xray.synth_config import load_synth_config

    writes = []
    real_write = synth_module.write_dataset
    monkeypatch.setattr(synth_module, "write_dataset", lambda out, n, seed, cfg, progress: writes.append(n) or
                        real_write(out, n, seed, cfg, progress))
    ensure = synth_module.ensure_dataset
    first = ensure(tmp_path, 2, 7, small_cfg, progress=False)
    assert writes == [2] and first["generator"] == synth_module.generator_fingerprint()
    assert ensure(tmp_path, 2, 7, small_cfg, progress=False) == first and writes == [2]  # reused as it is
    ensure(tmp_path, 3, 7, small_cfg, progress=False)  # a bigger set (a smoke run's folder, then the real one)
    ensure(tmp_path, 3, 8, small_cfg, progress=False)  # another seed
    other_cfg = load_synth_config(["image.width=320", "image.height=240", "clean_fraction=1.0"])
    ensure(tmp_path, 3, 8, other_cfg, progress=False)  # another config
    assert writes == [2, 3, 3, 3]
    monkeypatch.setattr(synth_module, "generator_fingerprint", lambda: "0" * 12)  # the simulator changed
    ensure(tmp_path, 3, 8, other_cfg, progress=False)
    assert writes == [2, 3, 3, 3, 3]
    (tmp_path / "summary.json").unlink()  # written last: missing after an interrupted write
    ensure(tmp_path, 3, 8, other_cfg, progress=False)
    assert writes == [2, 3, 3, 3, 3, 3] and len(json.loads((tmp_path / "annotations.json").read_text())["images"]) == 3


def test_generator_fingerprint_follows_the_simulator_files(tmp_path):
    import shutil

    import wildxray.core
    from wildxray.xray import synth as synth_module

    copies = []
    for package in (Path(synth_module.__file__).parent, Path(wildxray.core.__file__).parent):
        copies.append(tmp_path / package.name)
        shutil.copytree(package, copies[-1], ignore=shutil.ignore_patterns("__pycache__"))
    xray_copy, core_copy = copies
    fingerprint = synth_module.generator_fingerprint()
    assert len(fingerprint) == 12 and synth_module.generator_fingerprint(*copies) == fingerprint
    assert synth_module.generator_fingerprint(xray_copy) != fingerprint  # the colour encoding counts too
    (xray_copy / "__pycache__").mkdir()
    (xray_copy / "__pycache__" / "scene.cpython-311.pyc").write_bytes(b"compiled")  # not a source: ignored
    synth_module.generator_fingerprint.cache_clear()
    assert synth_module.generator_fingerprint(*copies) == fingerprint
    clutter = xray_copy / "content" / "clutter.py"
    clutter.write_text(clutter.read_text().replace("W, H = rng.uniform(20, 38)", "W, H = rng.uniform(20, 39)"))
    synth_module.generator_fingerprint.cache_clear()
    changed = synth_module.generator_fingerprint(*copies)
    assert changed != fingerprint  # one garment size changed
    bands = core_copy / "colour_bands.json"
    bands.write_text(bands.read_text().replace("0", "1", 1))
    synth_module.generator_fingerprint.cache_clear()
    assert synth_module.generator_fingerprint(*copies) not in (fingerprint, changed)  # the colour bands changed


def _contraband_boxes(scene) -> list[np.ndarray]:
    from wildxray.xray.tip import mask_box

    return [np.asarray(mask_box(p.item.footprint(), (p.x, p.y))) for p in scene.contraband()]


def test_contraband_max_overlap_keeps_contraband_apart(small_cfg):
    """With the setting, no two contraband items share more than that share of the smaller one's
    footprint box; without it they land anywhere, and stacked items are common."""
    from omegaconf import OmegaConf

    from wildxray.xray.scene import _cover, compose_scene

    content = OmegaConf.to_container(small_cfg.content, resolve=True)
    assert content["contraband_max_overlap"] is None  # off by default: the same scans as before
    worst = {}
    for setting in (None, 0.2):
        content["contraband_max_overlap"] = setting
        covers, n_items = [], 0
        for seed in range(60):
            scene = compose_scene(np.random.default_rng(seed), content, 640, 480, 10.0, with_contraband=True)
            boxes = _contraband_boxes(scene)
            n_items += len(boxes)
            covers += [_cover(b, boxes[:i]) for i, b in enumerate(boxes) if i]
        assert n_items >= 60  # every contraband parcel still holds contraband
        worst[setting] = max(covers)
    assert worst[0.2] <= 0.2 + 1e-9
    assert worst[None] > 0.5


def test_decoy_weights_choose_the_look_alikes(small_cfg):
    """``content.decoy_weights`` steers which look-alikes a parcel holds (hard negatives for training);
    off by default, where every kind appears."""
    from omegaconf import OmegaConf

    from wildxray.xray.scene import compose_scene

    content = OmegaConf.to_container(small_cfg.content, resolve=True)
    assert content["decoy_weights"] is None
    content["decoy_probability"] = 1.0
    kinds = {}
    for setting in (None, {"resin_carving": 1.0, **{k: 0.0 for k in DECOYS if k != "resin_carving"}}):
        content["decoy_weights"] = setting
        kinds[str(setting)] = [p.item.kind for seed in range(40)
                               for p in compose_scene(np.random.default_rng(seed), content, 640, 480, 10.0, False).items
                               if p.item.role == "decoy"]
    uniform, resin = kinds.values()
    assert len(set(uniform)) >= 6 and len(resin) >= 40
    assert set(resin) == {"decoy/resin_carving"}


@pytest.mark.parametrize("weights, message", [({"resin": 2.0}, "unknown decoy kind"),
                                              ({k: 0.0 for k in DECOYS}, "not all zero"),
                                              ({"ceramics": -1.0}, ">= 0")])
def test_decoy_weights_refuse_a_bad_mapping(weights, message):
    from wildxray.xray.xray_catalogue import decoy_probabilities

    with pytest.raises(ValueError, match=message):
        decoy_probabilities(weights)
