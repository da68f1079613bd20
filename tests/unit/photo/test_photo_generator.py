"""The procedural photo generator: boxes are the visible footprint, look-alikes and clean photos
carry no box, every class is drawn, and it never needs torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from wildxray.photo.backgrounds import BACKGROUNDS, render_background
from wildxray.photo.photo_catalogue import CONTRABAND, LOOKALIKES
from wildxray.photo.dataset import iter_photos
from wildxray.photo.generator import MIN_VISIBLE, Placement, PhotoSynthesizer, compose, footprint_box
from wildxray.photo.sprite import transform_sprite
from wildxray.types import CLASS_NAMES

SMALL = (240, 320)


@pytest.fixture(scope="module")
def photos() -> list:
    """60 small photos of seed 0 (shared: generating them is the slow part)."""
    return list(iter_photos(0, PhotoSynthesizer(size=SMALL), n=60))


def test_sample_is_rgb_uint8_with_consistent_target(photos: list) -> None:
    for p in photos[:10]:
        assert p.image.shape == SMALL + (3,) and p.image.dtype == np.uint8
        assert p.target.boxes.dtype == np.float32 and p.target.labels.dtype == np.int64
        assert p.meta["instance_map"].shape == SMALL
        assert p.image.std() > 5  # textured, not a flat fill


def test_boxes_are_tight_around_visible_pixels(photos: list) -> None:
    checked = 0
    for p in photos:
        inst = p.meta["instance_map"]
        boxed = [(i, o) for i, o in enumerate(p.meta["objects"]) if o["box"] is not None]
        assert len(boxed) == len(p.target.boxes)
        for (i, obj), box, label in zip(boxed, p.target.boxes, p.target.labels):
            assert obj["label"] == int(label)
            x0, y0, x1, y1 = (int(v) for v in box)
            assert 0 <= x0 < x1 <= SMALL[1] and 0 <= y0 < y1 <= SMALL[0]
            mine = inst == i
            # Every edge of the box touches a visible pixel of its object, and nothing of it lies outside.
            assert mine[y0, x0:x1].any() and mine[y1 - 1, x0:x1].any()
            assert mine[y0:y1, x0].any() and mine[y0:y1, x1 - 1].any()
            assert mine[y0:y1, x0:x1].sum() == mine.sum()
            checked += 1
    assert checked > 40


def test_objects_stay_mostly_visible(photos: list) -> None:
    for p in photos:
        for obj in p.meta["objects"]:
            assert obj["visible_fraction"] >= MIN_VISIBLE - 1e-6, obj


def test_lookalikes_never_carry_a_box(photos: list) -> None:
    n_look = 0
    for p in photos:
        for obj in p.meta["objects"]:
            if obj["kind"].startswith("lookalike/"):
                n_look += 1
                assert obj["label"] is None and obj["box"] is None and obj["class"] is None
            else:
                assert obj["class"] == obj["kind"].split("/")[0] == CLASS_NAMES[obj["label"]]
    assert n_look > 30


def test_every_class_appears_in_sixty_photos(photos: list) -> None:
    seen = np.bincount(np.concatenate([p.target.labels for p in photos]), minlength=len(CLASS_NAMES))
    assert (seen > 0).all(), dict(zip(CLASS_NAMES, seen.tolist()))


def test_clean_photos_carry_no_box() -> None:
    clean = list(iter_photos(1, PhotoSynthesizer(size=SMALL, clean_fraction=1.0), n=8))
    for p in clean:
        assert p.target.is_clean and p.meta["clean"]
        assert p.meta["objects"] and all(o["label"] is None for o in p.meta["objects"])
    dirty = list(iter_photos(1, PhotoSynthesizer(size=SMALL, clean_fraction=0.0), n=8))
    assert all(not p.target.is_clean for p in dirty)


def test_box_matches_pixels_that_differ_from_the_bare_background() -> None:
    """Independent of the instance map: with shadows off, the pixels the object changed are the box."""
    rng = np.random.default_rng(5)
    background, _ = render_background(rng, SMALL, "studio")
    light = np.array([0.4, -0.3, 0.866], np.float32)
    # Opaque objects only: fur hairs and the scale bag film are deliberately translucent (< 0.5).
    for obj_type in (CONTRABAND[0], CONTRABAND[6], CONTRABAND[13], CONTRABAND[16]):
        sprite = transform_sprite(obj_type.render(rng, 90), 30.0)
        image, inst = compose(background, [Placement(sprite, 60, 40, obj_type.label)], light, shadow_strength=0.0)
        changed = np.abs(image - background).max(axis=2) > 0.02
        box = footprint_box(inst == 0)
        ref = footprint_box(changed)
        # Antialiased rims and tapering tips (coverage < 0.5) change pixels without being footprint.
        assert np.abs(np.array(box) - np.array(ref)).max() <= 2.0, (obj_type.name, box, ref)
        assert changed[inst == 0].all()  # and every footprint pixel really shows the object


def test_occluded_object_box_shrinks_to_its_visible_part() -> None:
    rng = np.random.default_rng(6)
    background, _ = render_background(rng, SMALL, "cardboard")
    lower = transform_sprite(CONTRABAND[12].render(rng, 150), 0.0)  # a long bone, lying along x
    upper = transform_sprite(LOOKALIKES[2].render(rng, 80), 0.0)  # leather goods over its right end
    lx, ly = 40, 100
    ux = lx + lower.alpha.shape[1] - upper.alpha.shape[1] // 2
    uy = ly + lower.alpha.shape[0] // 2 - upper.alpha.shape[0] // 2
    _, inst = compose(background, [Placement(lower, lx, ly, 4), Placement(upper, ux, uy, None)], np.array([0, 0, 1.0], np.float32), 0.0)
    # Expected visible footprint, recomputed from the two alphas directly.
    want = np.zeros(SMALL, bool)
    want[ly : ly + lower.alpha.shape[0], lx : lx + lower.alpha.shape[1]] = lower.alpha > 0.5
    cover = np.zeros(SMALL, bool)
    h, w = upper.alpha.shape
    cover[uy : uy + h, ux : min(SMALL[1], ux + w)] = (upper.alpha > 0.5)[:, : min(w, SMALL[1] - ux)]
    want &= ~cover
    assert footprint_box(inst == 0) == footprint_box(want)
    assert footprint_box(inst == 0)[2] < lx + lower.alpha.shape[1] - 1  # the hidden end is not boxed


def test_every_renderer_draws_a_textured_object() -> None:
    rng = np.random.default_rng(7)
    for t in CONTRABAND + LOOKALIKES:
        s = t.render(rng, 80)
        assert (s.alpha > 0.5).sum() > 100, t.name
        assert 0.0 <= s.albedo.min() and s.albedo.max() <= 1.0, t.name
        assert s.kind.split("/")[0] == ("lookalike" if t.label is None else CLASS_NAMES[t.label]), t.name
        assert s.albedo[s.alpha > 0.5].std() > 0.005, f"{t.name} is a flat blob"


def test_backgrounds_and_bad_arguments() -> None:
    rng = np.random.default_rng(8)
    for name in BACKGROUNDS:
        bg, got = render_background(rng, (64, 96), name)
        assert got == name and bg.shape == (64, 96, 3) and bg.dtype == np.float32
    with pytest.raises(ValueError, match="unknown photo background 'marble'"):
        render_background(rng, (64, 96), "marble")
    with pytest.raises(ValueError, match="clean_fraction"):
        PhotoSynthesizer(clean_fraction=1.5)
    with pytest.raises(ValueError, match="photo size"):
        PhotoSynthesizer(size=(32, 32))


def test_same_rng_state_gives_the_same_photo() -> None:
    synth = PhotoSynthesizer(size=SMALL)
    a = synth.sample(np.random.default_rng(11))
    b = synth.sample(np.random.default_rng(11))
    c = synth.sample(np.random.default_rng(12))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.target.boxes, b.target.boxes)
    assert not np.array_equal(a.image, c.image)


def test_generator_never_imports_torch() -> None:
    code = (
        "import sys, numpy as np\n"
        "sys.modules['torch'] = None  # any 'import torch' now fails\n"
        "from wildxray.photo import PhotoSynthesizer, write_photo_dataset\n"
        "PhotoSynthesizer(size=(96, 128)).sample(np.random.default_rng(0))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
