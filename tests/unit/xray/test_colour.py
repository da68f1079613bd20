"""Pseudo-colour: reference slabs get the scanner colours; shipped bands equal the derived ones;
the encoder is numpy-only."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from wildxray.core.colour import BANDS_FILE, encode_dual_energy, grey_view
from wildxray.xray.colour_bands import derive_colour_bands
from wildxray.xray.physics import polychromatic_transmission


def _slab_rgb(profile, material, cm):
    t = polychromatic_transmission(profile, [(material, cm)])
    raw = np.empty((4, 4, 2), np.uint16)
    raw[..., 0], raw[..., 1] = round(t[0] * 65535), round(t[1] * 65535)
    return encode_dual_energy(raw)[0, 0].astype(int)


@pytest.mark.parametrize("cm", [2.0, 8.0, 15.0])
def test_water_is_orange(profile, cm):
    r, g, b = _slab_rgb(profile, "water", cm)
    assert r > g > b and r - b > 40


@pytest.mark.parametrize("cm", [0.5, 2.0, 4.0])
def test_aluminium_is_green(profile, cm):
    r, g, b = _slab_rgb(profile, "aluminium", cm)
    assert g > r + 20 and g > b + 20


@pytest.mark.parametrize("cm", [0.1, 0.3, 0.6])
def test_steel_is_blue(profile, cm):
    r, g, b = _slab_rgb(profile, "stainless_steel", cm)
    assert b > g + 15 and b > r + 30


def test_thick_lead_is_black(profile):
    assert _slab_rgb(profile, "lead", 1.0).max() == 0


def test_air_is_white_and_grey_view_tracks_attenuation(profile):
    raw = np.full((2, 3, 2), 65535, np.uint16)
    assert encode_dual_energy(raw).min() >= 250
    raw[0, 0] = (30000, 20000)
    grey = grey_view(raw)
    assert grey.shape == (2, 3, 3) and grey.dtype == np.uint8
    assert grey[0, 0, 0] < grey[1, 1, 0] == 255


def test_shipped_bands_equal_derived_for_default_profile(profile):
    shipped = json.loads(BANDS_FILE.read_text())
    derived = derive_colour_bands(profile)
    assert shipped["anchors"] == derived["anchors"]
    np.testing.assert_allclose(shipped["attenuation_grid"], derived["attenuation_grid"], rtol=1e-6)
    for name in derived["anchors"]:
        np.testing.assert_allclose(shipped["curves"][name], derived["curves"][name], atol=2e-3)
    assert shipped["opaque_low_attenuation"] == pytest.approx(derived["opaque_low_attenuation"], abs=1e-3)


def test_encoder_rejects_non_raw_input():
    with pytest.raises(ValueError, match="HxWx2 uint16"):
        encode_dual_energy(np.zeros((4, 4, 3), np.uint8))


def test_colour_module_needs_only_numpy():
    code = (
        "import sys\n"
        "for m in ('torch', 'xraydb', 'spekpy', 'scipy', 'hydra', 'yaml', 'cv2', 'albumentations'):\n"
        "    sys.modules[m] = None\n"
        "import numpy as np\n"
        "from wildxray.core.colour import encode_dual_energy, grey_view\n"
        "raw = np.full((8, 8, 2), 40000, np.uint16)\n"
        "assert encode_dual_energy(raw).shape == (8, 8, 3) and grey_view(raw).shape == (8, 8, 3)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
