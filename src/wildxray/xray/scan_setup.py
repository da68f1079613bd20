"""What one scan is simulated with: a scanner profile's physics (basis LUT, material coefficients,
colour bands) plus the per-scan parts (detector, display, material densities) in one ``ScanSetup``.

A synthesizer without randomisation has one setup for all scans; with it
(``wildxray.xray.randomise``) each scan gets its own, built on a cached ``Physics`` per distinct
physics key (the seconds-long part: spectra, LUT, 72 materials' basis fits).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from wildxray.core.colour import ColourBands, default_bands, encode_dual_energy
from wildxray.xray.colour_bands import MIN_QUANTA, derive_colour_bands
from wildxray.xray.display import DisplayStyle, render, style_from_config
from wildxray.xray.materials import default_materials
from wildxray.xray.physics import TransmissionLUT, basis_coefficients, transmission_lut
from wildxray.xray.scanner import ScannerProfile


def bands_for(profile: ScannerProfile) -> ColourBands:
    """Shipped bands for the default profile; derived from physics for any other profile."""
    shipped = default_bands()
    if profile.name == shipped.profile == "default":
        return shipped
    return ColourBands.from_dict(derive_colour_bands(profile))


@dataclass(frozen=True)
class Physics:
    """The expensive, dose-independent part of a profile. coefficients: material -> float32 [2]
    basis g/cm^2 per cm (water, iron) at the table's density; bands: the profile's colour bands."""

    lut: TransmissionLUT
    coefficients: Mapping[str, np.ndarray]
    bands: ColourBands

    @classmethod
    def of(cls, profile: ScannerProfile) -> "Physics":
        return cls(transmission_lut(profile), {m: basis_coefficients(m, profile) for m in default_materials()},
                   bands_for(profile))


@dataclass(frozen=True)
class ScanSetup:
    """Everything a scan is rendered with. style None: the canonical ``encode_dual_energy`` with the
    profile's palette (byte for byte what scans were before displays could vary); densities:
    material -> g/cm^3 (the masks' areal densities); meta: what was drawn, for the scan's record."""

    profile: ScannerProfile
    lut: TransmissionLUT
    coefficients: Mapping[str, np.ndarray]
    densities: Mapping[str, float]
    bands: ColourBands
    style: DisplayStyle | None = None
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def ppc(self) -> float:
        """Pixels per cm."""
        return 10.0 / self.profile.pixel_pitch_mm

    def encode(self, raw: np.ndarray) -> np.ndarray:
        """Raw HxWx2 uint16 -> the scan's HxWx3 uint8 RGB display."""
        if self.style is None:
            return encode_dual_energy(raw, self.bands, self.profile.colour_map)
        return render(raw, self.bands, self.style)


def fixed_setup(profile: ScannerProfile, physics: Physics | None = None) -> ScanSetup:
    """The setup of every scan of a profile without randomisation: its own detector and its
    maker's display (``display:`` in its YAML), or the canonical encoding if it names none."""
    physics = physics or Physics.of(profile)
    style = style_from_config(profile.display, f"scanner '{profile.name}'.display") if profile.display else None
    densities = {name: m.density for name, m in default_materials().items()}
    return ScanSetup(profile, physics.lut, physics.coefficients, densities, physics.bands, style)


def with_dose(bands: ColourBands, photons_low: float) -> ColourBands:
    """Bands whose opaque limit follows a drawn dose (as ``colour_bands.derive_colour_bands`` does)."""
    return dataclasses.replace(bands, opaque_low_attenuation=float(np.log(photons_low / MIN_QUANTA)))
