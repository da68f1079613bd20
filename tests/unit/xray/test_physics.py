"""Physics against xraydb directly, polychromatic behaviour, basis LUT accuracy, material table."""

from __future__ import annotations

import numpy as np
import pytest
import xraydb

from wildxray.xray.materials import MaterialError, default_materials, load_materials
from wildxray.xray.physics import (DetectorSpectra, basis_coefficients, beam_transmission, polychromatic_transmission,
                                   transmission_lut)


@pytest.mark.parametrize("formula,name,density", [("H2O", "water", 1.0), ("Al", "aluminium", 2.699), ("Fe", "iron", 7.874)])
@pytest.mark.parametrize("energy_kev", [30.0, 60.0, 120.0])
def test_monochromatic_slab_is_beer_lambert(formula, name, density, energy_kev):
    spectra = DetectorSpectra(np.array([energy_kev]), np.ones((2, 1)))
    for cm in (0.1, 1.0, 3.0):
        expected = np.exp(-xraydb.material_mu(formula, energy_kev * 1000.0, density=density) * cm)
        got = beam_transmission(spectra, [(name, cm)])
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("material", ["water", "aluminium", "stainless_steel"])
def test_polychromatic_transmission_falls_with_thickness(profile, material):
    t = np.array([polychromatic_transmission(profile, [(material, cm)]) for cm in np.linspace(0, 5, 26)])
    assert t[0] == pytest.approx([1.0, 1.0])
    assert np.all(np.diff(t, axis=0) < 0), "both channels must fall monotonically"
    assert np.all(t[:, 1] <= t[:, 0] + 1e-12), "the low channel is absorbed more"


def _ratio(profile, material, mass_gcm2):
    cm = mass_gcm2 / default_materials()[material].density
    t = polychromatic_transmission(profile, [(material, cm)])
    return np.log(t[1]) / np.log(t[0])


@pytest.mark.parametrize("mass", [1.0, 3.0, 6.0])
def test_low_high_ratio_separates_organic_mixed_metal(profile, mass):
    organic = [_ratio(profile, m, mass) for m in ("water", "polyethylene", "keratin", "cotton_fabric")]
    mixed = [_ratio(profile, m, mass) for m in ("aluminium", "soda_lime_glass", "dentine_ivory")]
    metal = [_ratio(profile, m, mass) for m in ("iron", "copper", "stainless_steel")]
    assert max(organic) < min(mixed) < max(mixed) < min(metal)


@pytest.mark.parametrize("material,cm", [("water", 10.0), ("aluminium", 2.0), ("dentine_ivory", 3.0),
                                         ("keratin", 5.0), ("iron", 0.3), ("li_ion_cell", 1.5), ("polyresin", 3.0)])
def test_basis_lut_matches_exact_polychromatic(profile, material, cm):
    lut = transmission_lut(profile)
    b = basis_coefficients(material, profile) * cm
    approx = lut.transmission(np.full((1, 1), b[0], np.float32), np.full((1, 1), b[1], np.float32))[0, 0]
    exact = polychromatic_transmission(profile, [(material, cm)])
    np.testing.assert_allclose(np.log(approx), np.log(exact), rtol=0.01)


def test_material_table_rows_have_sources_and_sane_densities():
    table = default_materials()
    assert len(table) >= 60
    for m in table.values():
        assert m.source.strip(), m.name
        assert 0.001 < m.density < 20, m.name
        assert sum(m.fractions.values()) == pytest.approx(1.0)
    ivory, keratin = table["dentine_ivory"], table["keratin"]
    assert 1.7 <= ivory.density <= 2.0 and 1.25 <= keratin.density <= 1.4


def test_bad_material_row_names_file_and_row(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("- {name: goo, mixture: {nothing_here: 1.0}, density: 1.0, source: x}\n")
    with pytest.raises(MaterialError, match=r"m\.yaml.*goo.*nothing_here"):
        load_materials(bad)
    bad.write_text("- {name: goo, formula: H2O, density: -1, source: x}\n")
    with pytest.raises(MaterialError, match=r"goo.*density"):
        load_materials(bad)
