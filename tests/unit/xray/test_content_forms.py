"""Each contraband form looks like what its label says: one object per item (groups excepted),
the shape and material cues an inspector reads (a horn's core and taper, a heap of separate
shields, a hide's claws and layers, ...)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from wildxray.types import CLASS_NAMES
from wildxray.xray.content import bone, horn, ivory, live_animals, scales, skins
from wildxray.xray.content.builder import ItemBuilder
from wildxray.xray.materials import default_materials
from wildxray.xray.scene import MASK_DENSITY_G_CM2, areal_density
from wildxray.xray.xray_catalogue import CONTRABAND, GROUP_FORMS, make_contraband

PPC = 10.0
DENSITIES = {name: m.density for name, m in default_materials().items()}


def _components(item) -> list[int]:
    """Pixel counts of the connected parts of an item's mask (areal density above the box threshold)."""
    mask = (areal_density(item, DENSITIES) > MASK_DENSITY_G_CM2).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return sorted(stats[1:, cv2.CC_STAT_AREA].tolist(), reverse=True)


@pytest.mark.parametrize("cls,form", [(c, f) for c, forms in CONTRABAND.items() for f in forms])
def test_an_item_is_one_object_unless_its_form_is_a_defined_group(cls, form):
    """A box per object: a non-group item's mask is one connected blob (specks under 0.2 % of its
    area aside); only the forms docs/internals.md defines as groups carry meta["group"]."""
    for seed in range(8):
        item = make_contraband(cls, np.random.default_rng([21, seed]), PPC, form)
        assert item.meta.get("group", False) == ((cls, form) in GROUP_FORMS), (cls, form)
        if (cls, form) in GROUP_FORMS:
            continue
        parts = _components(item)
        big = [a for a in parts if a > 0.002 * sum(parts)]
        assert len(big) == 1, (cls, form, seed, parts[:6])


def test_groups_are_only_the_defined_ones():
    assert GROUP_FORMS == {("ivory", "beads"), ("ivory", "chopsticks"), ("scales", "sack"), ("scales", "loose")}


def _axis_profile(t: np.ndarray, n: int = 10) -> np.ndarray:
    """Max thickness in ``n`` slices along the item's longest principal axis (base to tip unknown)."""
    ys, xs = np.nonzero(t > 1e-3)
    pts = np.stack([xs, ys], 1).astype(np.float64)
    pts -= pts.mean(0)
    axis = np.linalg.svd(pts, full_matrices=False)[2][0]
    s = pts @ axis
    bins = np.linspace(s.min(), s.max() + 1e-9, n + 1)
    idx = np.digitize(s, bins) - 1
    vals = t[ys, xs]
    return np.array([vals[idx == k].max() if (idx == k).any() else 0.0 for k in range(n)])


def test_rhino_horn_is_a_single_tapering_cone_with_a_denser_core_and_streaks():
    for seed in range(6):
        b = horn.rhino_horn(np.random.default_rng(seed), PPC)
        total = b.parts["rhino_horn"] + b.parts["rhino_horn_core"]
        _tapers(total)
        core = b.parts["rhino_horn_core"] > 0.1
        assert core.sum() > 0.05 * (total > 0.1).sum()  # a core runs down its middle
        # streaks: along a line across the horn the thickness ripples at a few-mm period
        row = total[total.shape[0] // 2]
        inside = row[row > 0.5 * row.max()]
        assert np.abs(np.diff(inside, 2)).mean() > 0.002 * inside.mean()


def _tapers(t: np.ndarray, tip_ratio: float = 0.3) -> None:
    """The thickness falls steadily from the base to the tip, to under ``tip_ratio`` of the base's
    (in tenths of the length: a tusk's blunt tip keeps ~0.35 in its last tenth)."""
    prof = _axis_profile(t)
    peak = int(prof.argmax())  # near the base; from there it tapers steadily to the tip
    taper = prof[peak:] if peak < len(prof) / 2 else prof[:peak + 1][::-1]
    assert len(taper) >= 5 and (np.diff(taper) <= 0.05 * taper[0]).all(), prof
    assert taper[-1] < tip_ratio * taper[0], prof


def test_tusk_tapers_and_has_a_conical_pulp_cavity_at_its_lip():
    for seed in range(6):
        real = ivory.tusk(np.random.default_rng(seed), PPC).parts["dentine_ivory"]
        cast = ivory.tusk(np.random.default_rng(seed), PPC, "polyresin", cavity=False).parts["polyresin"]
        _tapers(cast, 0.5)  # a tip pitched towards the beam looks thicker
        cavity = cast - real
        assert cavity.min() >= -1e-4 and cavity.sum() > 0.03 * cast.sum()  # hollow, only carved
        # the cavity sits at the thick end: where it is, the solid tusk is thick
        assert np.median(cast[cavity > 0.1]) > 0.5 * cast.max()
        assert not ({"spongy_bone", "yellow_marrow"} & set(ivory.tusk(np.random.default_rng(seed), PPC).parts))


def test_long_bone_shows_two_cortical_lines_round_its_medulla_and_spongy_ends():
    for seed in range(6):
        b = bone.long_bone(np.random.default_rng(seed), PPC)
        cortex = b.parts["cortical_bone"]
        assert b.parts["spongy_bone"].max() > 0.5  # epiphyses
        ys, xs = np.nonzero(cortex > 1e-3)
        pts = np.stack([xs, ys], 1).astype(np.float64)
        centre = pts.mean(0)
        axis = np.linalg.svd(pts - centre, full_matrices=False)[2][0]
        normal = np.array([-axis[1], axis[0]])
        d = np.linspace(-40, 40, 161)
        line = centre + d[:, None] * normal  # across the middle of the shaft
        ok = (line[:, 0] >= 0) & (line[:, 0] < cortex.shape[1]) & (line[:, 1] >= 0) & (line[:, 1] < cortex.shape[0])
        prof = cortex[line[ok, 1].astype(int), line[ok, 0].astype(int)]
        inside = np.flatnonzero(prof > 0.05 * prof.max())
        prof = prof[inside[0]:inside[-1] + 1]
        mid = prof[len(prof) // 3: 2 * len(prof) // 3]
        assert mid.min() < 0.85 * min(prof[: len(prof) // 3].max(), prof[2 * len(prof) // 3:].max()), prof


def test_bone_forms_are_bone_with_their_parts():
    rng = np.random.default_rng(2)
    sk = bone.skull(rng, PPC)
    assert sk.parts["dentine_ivory"].max() > 2.0  # canines pointing down: long path along the beam
    p = bone.paw(rng, PPC)
    claws = (p.parts["keratin"] > 0.05).astype(np.uint8)
    assert cv2.connectedComponents(claws)[0] - 1 >= 3  # a claw on each toe (two may touch)
    for form in (bone.vertebrae, bone.ribs, bone.long_bone, bone.skull):
        assert form(rng, PPC).parts["cortical_bone"].max() > 0.5


@pytest.mark.parametrize("form", [live_animals.lizard, live_animals.snake, live_animals.tortoise, live_animals.bird])
def test_a_live_animal_has_a_skeleton_inside_a_soft_body(form):
    for seed in range(4):
        b = form(np.random.default_rng(seed), PPC)
        body = (b.parts["soft_tissue"] + b.parts.get("feathers", 0.0)) > 0.05  # a bird: its feathers too
        skeleton = (b.parts["cortical_bone"] > 0.05)
        assert skeleton.sum() > 0.02 * body.sum()
        grown = cv2.dilate(body.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        assert (skeleton & grown).sum() > 0.85 * skeleton.sum()  # the bones are inside the animal


def test_live_animals_come_in_their_containers():
    bird = live_animals.bird(np.random.default_rng(0), PPC, container="tube")
    assert {"pvc", "cardboard"} & set(bird.parts)
    boxed = live_animals.bird(np.random.default_rng(0), PPC, container="box")
    assert "polypropylene" in boxed.parts
    socked = live_animals.lizard(np.random.default_rng(0), PPC, container="sock")
    cloth = socked.parts["cotton_fabric"] > 0
    assert (cloth & (socked.parts["soft_tissue"] > 0)).sum() > 0.9 * (socked.parts["soft_tissue"] > 0).sum()


def test_antelope_horn_is_ringed_and_hollow_at_its_base():
    b = horn.antelope_horn(np.random.default_rng(3), PPC)
    prof = _axis_profile(b.parts["keratin"], 40)
    base = prof[:20] if prof[:20].mean() > prof[20:].mean() else prof[20:][::-1]
    bumps = (np.diff(np.sign(np.diff(base))) < 0).sum()  # local maxima along the ringed half
    assert bumps >= 3, base


@pytest.mark.parametrize("form", [scales.scale_sack, scales.loose_scales])
def test_a_scale_heap_is_many_separate_tilted_shields(form, monkeypatch):
    drawn = []
    real = ItemBuilder._plate_patch  # every shield of a heap is one plate, drawn in its own window

    def spy(self, *args, **kwargs):
        patch = real(self, *args, **kwargs)
        full = np.zeros((self.h, self.w), np.float32)
        if patch is not None:
            full[patch[0], patch[1]] = patch[2]
        drawn.append(full)
        return patch

    monkeypatch.setattr(ItemBuilder, "_plate_patch", spy)
    for seed in range(5):
        drawn.clear()
        _check_heap(form(np.random.default_rng(seed), PPC), drawn)


def _check_heap(b: ItemBuilder, drawn: list[np.ndarray]) -> None:
    assert b.meta["group"] is True
    assert len(drawn) >= 20
    np.testing.assert_allclose(sum(drawn), b.parts["pangolin_scale"], atol=1e-4)  # the heap IS its scales
    for t in drawn:
        ys, xs = np.nonzero(t)
        assert 1.5 * PPC <= max(np.ptp(xs), np.ptp(ys)) <= 8.5 * PPC  # each a 2.5-8 cm shield, seen at a tilt
    peaks = np.array([t.max() for t in drawn])
    flat = (peaks <= 0.3).sum()
    steep = (peaks > 2 * np.median(peaks)).sum()  # steep slivers: path = thickness / cos(tilt)
    assert flat > len(drawn) / 2 and steep >= 1
    stacked = b.parts["pangolin_scale"] > 0.45  # overlapping shields stack up in the heap
    assert stacked.sum() > 0.05 * (b.parts["pangolin_scale"] > 0).sum()


def test_hides_show_claws_fur_and_folded_layers():
    for seed in range(4):
        rng = np.random.default_rng(seed)
        flat = skins.flat_hide(rng, PPC)
        claws = (flat.parts["keratin"] > 0.05).astype(np.uint8)
        n_paws = cv2.connectedComponents(cv2.dilate(claws, np.ones((15, 15), np.uint8)))[0] - 1
        assert n_paws >= 2 and "fur_hair" in flat.parts
        folded = skins.folded_hide(rng, PPC)
        hide = folded.parts["salted_hide"]
        assert np.percentile(hide[hide > 0], 90) > 4 * 0.3 * 0.8  # at least 4 layers of 3+ mm
        assert (folded.parts["keratin"] > 0).any()  # a paw with claws hangs out of the bundle
    croc = skins.reptile_skin(np.random.default_rng(1), PPC, bony=True)
    assert croc.parts["osteoderm"].max() > 0.15
    plates = (croc.parts["osteoderm"] > 0.05).astype(np.uint8)
    assert cv2.connectedComponents(plates)[0] - 1 >= 12  # rows of separate plates down the back


def test_every_class_has_its_forms():
    assert tuple(CONTRABAND) == CLASS_NAMES
    assert {"whole", "piece", "antelope"} <= set(CONTRABAND["horn"])
    assert {"sack", "loose"} <= set(CONTRABAND["scales"])
    assert {"flat_hide", "folded_hide", "rolled_hide", "reptile_skin"} <= set(CONTRABAND["skin"])
    assert {"tusk", "tusk_section", "carving", "bangle", "beads", "chopsticks", "seal"} <= set(CONTRABAND["ivory"])
    assert {"long_bone", "skull", "vertebrae", "ribs", "paw"} <= set(CONTRABAND["bone"])
    assert {"tortoise", "lizard", "snake", "bird"} <= set(CONTRABAND["live_animal"])


def test_items_come_on_patches_cropped_to_their_footprint():
    """The composer fits items by their patch: a generator's padding must not keep them out."""
    for cls in CLASS_NAMES:
        item = make_contraband(cls, np.random.default_rng(7), PPC)
        fp = item.footprint()
        assert fp[:2].any() and fp[-2:].any() and fp[:, :2].any() and fp[:, -2:].any(), item.kind
