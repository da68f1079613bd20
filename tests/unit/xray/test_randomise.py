"""Scanner, display and material randomisation (``randomise: true``): per-scan variety, (seed, i)
determinism, the off switch, held-out profiles, and config errors that name their key."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from wildxray.core.colour import default_bands, encode_dual_energy
from wildxray.xray.synth_config import held_out_profiles, load_synth_config, randomiser_of
from wildxray.xray.display import DisplayStyle, render
from wildxray.xray.synth import ScanSynthesizer

SMALL = ["image.width=192", "image.height=144"]
# a small pool keeps the physics builds (~1 s each) few; the ranges are the shipped ones
POOL = ["randomise=true", "randomisation.profiles=[default]", "randomisation.pool_size=3", *SMALL]


@pytest.fixture(scope="module")
def randomised():
    return ScanSynthesizer(load_synth_config(POOL))


def test_off_is_the_configured_profile_with_the_canonical_encoding(synthesizer):
    """randomise: false draws nothing extra and encodes canonically: the scan equals the pipeline
    written out by hand from the same generator (any extra draw or other display breaks it)."""
    assert synthesizer.randomiser is None and synthesizer.setup.style is None
    scan = synthesizer.sample(np.random.default_rng([7, 1]))
    rng = np.random.default_rng([7, 1])
    raw = synthesizer.render(synthesizer.draw_scene(rng), rng)
    assert np.array_equal(scan.raw, raw)
    assert np.array_equal(scan.image, encode_dual_energy(raw, default_bands(), "classic"))
    assert scan.meta["scanner"] == "default" and "randomisation" not in scan.meta


def test_each_scan_draws_its_own_physics_detector_and_display(randomised):
    r = randomised.randomiser
    setups = [r.draw(np.random.default_rng([0, i])) for i in range(40)]
    assert len({s.meta["physics"] for s in setups}) == len(r.pool) == 4
    assert len({s.profile.pixel_pitch_mm for s in setups}) >= 35  # rounded to um: a tie is possible
    assert len({round(s.profile.photons_high) for s in setups}) == 40
    assert len({s.style.rule.palette for s in setups}) == 40
    assert len({s.style.gamma for s in setups}) == 40
    assert {"colour"} < {s.style.view for s in setups}  # some grey/high/low views among them
    assert any(s.style.edge_amount > 0 for s in setups) and any(s.style.edge_amount == 0 for s in setups)
    assert len({s.lut.table.tobytes() for s in setups}) == 4  # one LUT per physics set-up, shared
    for s in setups:  # the drawn values lie in the configured ranges
        lo, hi = r.detector["pixel_pitch_mm"]
        assert lo <= s.profile.pixel_pitch_mm <= hi
        assert 100 <= s.profile.kvp <= 200
        assert s.profile.name.startswith("randomised/")


def test_the_same_scene_looks_different_under_two_draws(randomised):
    r = randomised.randomiser
    a, b = (r.draw(np.random.default_rng([1, i])) for i in (0, 1))
    scene = randomised.draw_scene(np.random.default_rng(5), a.ppc)
    raw_a = randomised.render(scene, None, noise=False, setup=a)
    raw_b = randomised.render(scene, None, noise=False, setup=b)
    assert not np.array_equal(raw_a, raw_b)
    assert not np.array_equal(a.encode(raw_a), b.encode(raw_a))  # the display alone differs too


def test_randomised_scan_depends_only_on_seed_and_index(randomised):
    """A fresh synthesizer (empty physics cache), drawing the scans in another order, gives the
    same bytes: what a scan draws never depends on what was drawn or built before it."""
    first = [randomised.sample(np.random.default_rng([3, i])) for i in range(3)]
    fresh = ScanSynthesizer(load_synth_config(POOL))
    again = {i: fresh.sample(np.random.default_rng([3, i])) for i in (2, 0, 1)}
    for i, scan in enumerate(first):
        assert np.array_equal(scan.raw, again[i].raw) and np.array_equal(scan.image, again[i].image)
        assert np.array_equal(scan.target.boxes, again[i].target.boxes)
        assert scan.meta == again[i].meta
    assert not np.array_equal(first[0].image, first[1].image)
    assert first[0].meta["randomisation"] != first[1].meta["randomisation"]


def test_materials_vary_within_their_ranges(synthesizer):
    # one physics set-up (the default profile's), so only the drawn composition moves the coefficients
    r = randomiser_of(load_synth_config(["randomise=true", "randomisation.profiles=[default]",
                                         "randomisation.pool_size=0", *SMALL]))
    ivory = []
    for i in range(30):
        s = r.draw(np.random.default_rng([2, i]))
        lo, hi = r.materials["dentine_ivory"]["density"]
        assert lo <= s.densities["dentine_ivory"] <= hi
        ivory.append(s.coefficients["dentine_ivory"] / s.densities["dentine_ivory"])  # per gram
        assert np.array_equal(s.coefficients["water"], synthesizer.coefficients["water"])  # not listed: as is
        assert s.densities["water"] == 1.0
    per_gram = np.array(ivory)
    assert per_gram[:, 1].std() > 0.02 * per_gram[:, 1].mean()  # the apatite share moves the iron basis
    nominal = synthesizer.coefficients["dentine_ivory"][1] / synthesizer.densities["dentine_ivory"]
    assert per_gram[:, 1].min() < nominal < per_gram[:, 1].max()  # the table's ivory lies inside the spread


def test_held_out_profiles_are_never_drawn(randomised):
    held = held_out_profiles()
    assert set(held) == {"znse150", "gos130"}
    keys = {p.key() + (p.belt,) for p in held.values()}
    shipped = randomiser_of(load_synth_config(["randomise=true", *SMALL]))  # the training pool as shipped
    assert len(shipped.pool) == 24
    for r in (randomised.randomiser, shipped):
        assert not {p.name for p in r.pool} & set(held)
        assert not {p.key() + (p.belt,) for p in r.pool} & keys
        assert "znse" not in {p.front_detector.material for p in r.pool}
    drawn = {randomised.randomiser.draw(np.random.default_rng([4, i])).meta["physics"] for i in range(200)}
    assert drawn == {p.name for p in randomised.randomiser.pool}


def _randomised_cfg(**replace):
    """The shipped randomised config with whole nodes replaced (a Hydra override would merge dicts)."""
    from omegaconf import OmegaConf, open_dict

    cfg = load_synth_config(["randomise=true", *SMALL])
    with open_dict(cfg):
        for key, value in replace.items():
            OmegaConf.update(cfg, key.replace("__", "."), value, merge=False)
    return cfg


def test_a_pool_that_can_only_give_a_held_out_profile_raises():
    g = held_out_profiles()["gos130"]
    pin = lambda v: [v, v]  # noqa: E731
    physics = {
        "kvp": pin(g.kvp), "kvp_step": 10, "anode_angle_deg": pin(g.anode_angle_deg),
        "filtration_aluminium_mm": pin(g.filtration[0].thickness_mm),
        "filtration_copper_mm": pin(g.filtration[1].thickness_mm), "front": {"gos": pin(g.front_detector.thickness_mm)},
        "interlayer_copper_mm": pin(g.interlayer_filter.thickness_mm), "rear": {"cdwo4": pin(g.rear_detector.thickness_mm)},
        "belt_pvc_mm": pin(g.belt.thickness_mm),
    }
    with pytest.raises(ValueError, match="held-out profile 'gos130'"):
        randomiser_of(_randomised_cfg(randomisation__pool_size=1, randomisation__physics=physics))
    physics["kvp"] = pin(140.0)  # one value off the held-out profile: a valid, if narrow, pool
    assert len(randomiser_of(_randomised_cfg(randomisation__pool_size=1, randomisation__physics=physics)).pool) == 5


@pytest.mark.parametrize("key, value, named", [
    ("randomisation__profiles", ["default", "znse150"], "randomisation.profiles"),
    ("scanner", "gos130", "held-out"),
    ("randomisation__physics__kvp", [200, 100], "randomisation.physics.kvp"),
    ("randomisation__physics__front", {"nai": [0.1, 0.2]}, "randomisation.physics.front.nai"),
    ("randomisation__physics__rear", {"csi": [3.0]}, "randomisation.physics.rear.csi"),
    ("randomisation__physics__speed", 3, "randomisation.physics: unknown keys ['speed']"),
    ("randomisation__detector__photons_high", [0, 100], "randomisation.detector.photons_high"),
    ("randomisation__detector__pixel_pitch_mm", "fine", "randomisation.detector.pixel_pitch_mm"),
    ("randomisation__detector__module_elements", [0], "randomisation.detector.module_elements"),
    ("randomisation__display__views", {"colour": 0}, "randomisation.display.views"),
    ("randomisation__display__views", {"sepia": 1}, "randomisation.display.views"),
    ("randomisation__display__gamma", [0, 1], "randomisation.display.gamma"),
    ("randomisation__display__edge_probability", 2, "randomisation.display.edge_probability"),
    ("randomisation__materials__dentine_ivory__fractions", {"hydroxyapatite": [0.9, 1.2]},
     "randomisation.materials.dentine_ivory.fractions.hydroxyapatite"),
    ("randomisation__materials__wood", {"density": [0.5, 0.9], "fractions": {"calcite": [0.1, 0.2]}},
     "randomisation.materials.wood.fractions.calcite"),
    ("randomisation__materials__unobtainium", {"density": [1, 2]}, "randomisation.materials.unobtainium"),
    ("randomisation__pool_size", -1, "randomisation.pool_size"),
])
def test_bad_randomisation_values_name_their_key(key, value, named):
    if key == "scanner":  # a group choice, not a value
        cfg = load_synth_config(["randomise=true", f"scanner={value}", *SMALL])
    else:
        cfg = _randomised_cfg(**{key: value})
    with pytest.raises(ValueError, match=named.replace(".", r"\.").replace("[", r"\[")):
        randomiser_of(cfg)


@pytest.mark.parametrize("override, key", [
    ("randomise=sometimes", "randomise"),
    ("scanner.kvp=1600", "scanner.kvp"),
    ("scanner.photons_low=-5", "scanner.photons_low"),
    ("scanner.held_out=maybe", "scanner.held_out"),
    ("+scanner.display={gamma: -1}", "display.gamma"),
    ("+scanner.display={palette: sepia}", "display.palette"),
])
def test_bad_scanner_values_name_their_key(override, key):
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        ScanSynthesizer(load_synth_config([override, *SMALL]))


def test_display_views_keep_the_image_contract(synthesizer):
    raw = synthesizer.sample(np.random.default_rng([9, 0])).raw
    canonical = encode_dual_energy(raw, synthesizer.bands)
    near = render(raw, synthesizer.bands, DisplayStyle())
    diff = np.abs(near.astype(int) - canonical)
    assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 6  # the grid look-up is the same rule
    for view in ("grey", "high", "low"):
        img = render(raw, synthesizer.bands, DisplayStyle(view=view))
        assert img.shape == raw.shape[:2] + (3,) and img.dtype == np.uint8
        assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()
    high, low = (render(raw, synthesizer.bands, DisplayStyle(view=v)) for v in ("high", "low"))
    assert high.astype(int).sum() > low.astype(int).sum()  # the high channel is more transparent
    sharp = render(raw, synthesizer.bands, DisplayStyle(edge_amount=1.0))
    assert np.abs(sharp.astype(int) - near).max() > 10


def test_card_gain_steps_are_shared_within_a_card(profile):
    from wildxray.xray.sensor import apply_detector

    flat = np.full((128, 64, 2), 0.5, np.float32)
    banded = dataclasses.replace(profile, module_gain_std=0.02, module_elements=32, column_gain_std=0.0,
                                 row_flicker_std=0.0, dead_line_prob=0.0, photons_high=1e8, photons_low=1e8)
    rows = apply_detector(flat, banded, np.random.default_rng(0)).astype(float).mean(axis=(1, 2))
    cards = rows.reshape(4, 32)
    assert cards.std(axis=1).max() < 0.2 * cards.mean(axis=1).std()
    plain = dataclasses.replace(banded, module_gain_std=0.0)
    assert apply_detector(flat, plain, np.random.default_rng(0)).astype(float).mean(axis=(1, 2)).std() < 0.1 * rows.std()


def test_the_element_cache_gives_xraydb_floats():
    import xraydb

    from wildxray.xray.materials import get_material, mass_attenuation

    for energies in (np.arange(10, 160) + 0.5, np.array([33.17, 80.0])):  # on spekpy's grid, and off it
        for name in ("dentine_ivory", "csi", "znse"):
            fractions = get_material(name).fractions
            direct = sum(w * np.asarray(xraydb.mu_elam(el, energies * 1000.0)) for el, w in fractions.items())
            assert np.array_equal(mass_attenuation(fractions, energies), direct), name
