"""The shipped scanner profiles (configs/scanner/): each composes and scans, each documents its
sources, and the held-out ones are listed in one place and kept out of training."""

from __future__ import annotations

import re

import numpy as np
import pytest

from wildxray.paths import config_dir
from wildxray.xray.synth_config import held_out_profiles, load_synth_config, shipped_profiles
from wildxray.xray.synth import ScanSynthesizer

PROFILES = shipped_profiles()


def test_at_least_six_profiles_two_held_out():
    assert len(PROFILES) >= 6
    assert len(held_out_profiles()) == 2


@pytest.mark.parametrize("name", PROFILES)
def test_profile_composes_and_gives_a_valid_scan(name):
    synth = ScanSynthesizer(load_synth_config([f"scanner={name}", "image.width=192", "image.height=144",
                                               "clean_fraction=0.0"]))
    assert synth.profile.name == name
    scan = synth.sample(np.random.default_rng([0, 2]))
    assert scan.raw.shape == (144, 192, 2) and scan.raw.dtype == np.uint16
    assert scan.image.shape == (144, 192, 3) and scan.image.dtype == np.uint8
    assert scan.meta["scanner"] == name
    boxes = scan.target.boxes
    assert len(boxes) >= 1 and (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 192).all() and (boxes[:, 3] <= 144).all()
    assert scan.masks.shape == (len(boxes), 144, 192)
    assert (scan.raw < 65535).mean() > 0.05  # a parcel attenuates
    assert len(np.unique(scan.image.reshape(-1, 3), axis=0)) > 50  # a picture, not a flat fill


@pytest.mark.parametrize("name", PROFILES)
def test_profile_says_where_its_numbers_come_from(name):
    text = (config_dir() / "scanner" / f"{name}.yaml").read_text()
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    assert "Where the numbers come from" in header, name
    assert ("HELD OUT" in header) == (name in held_out_profiles()), name


def test_the_readme_lists_exactly_the_held_out_profiles():
    readme = (config_dir() / "scanner" / "README.md").read_text()
    listed = re.search(r"\*\*Held out: (.+?)\.\*\*", readme).group(1)
    assert set(re.findall(r"`(\w+)`", listed)) == set(held_out_profiles())
    for name in PROFILES:  # and its table has a row per profile with the right role
        row = next(line for line in readme.splitlines() if line.startswith(f"| {name} |"))
        assert ("held out" in row) == (name in held_out_profiles()), name


def test_training_pool_is_every_profile_but_the_held_out():
    cfg = load_synth_config([])
    assert set(cfg.randomisation.profiles) == set(PROFILES) - set(held_out_profiles())


def test_a_makers_display_replaces_the_canonical_encoding():
    from wildxray.core.colour import encode_dual_energy

    synth = ScanSynthesizer(load_synth_config(["scanner=znse150", "image.width=192", "image.height=144"]))
    assert synth.setup.style is not None and synth.setup.style.edge_amount > 0
    scan = synth.sample(np.random.default_rng([1, 0]))
    canonical = encode_dual_energy(scan.raw, synth.bands, synth.palette)
    assert np.abs(scan.image.astype(int) - canonical).mean() > 2
