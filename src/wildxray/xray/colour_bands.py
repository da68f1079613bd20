"""Derive the pseudo-colour band boundaries from reference-material physics.

Scanners colour a pixel by the ratio ``R = A_low / A_high`` of its dual-energy attenuations. For a
given material R depends on thickness (beam hardening), so each boundary is a curve R(A_high):
the curve traced by a reference material of the boundary's effective atomic number as its
thickness grows. Anchors (u coordinate of ``wildxray.core.colour``):

    u=0 polyethylene (Zeff 5.4)    organic reference
    u=1 Zeff 10 water/aluminium mix organic | inorganic boundary
    u=2 Zeff 18 aluminium/iron mix  inorganic | metal boundary
    u=3 iron (Zeff 26)             metal reference

The opaque limit is where the low channel keeps fewer than ``MIN_QUANTA`` detected quanta
(> 10 % noise: the ratio can no longer tell materials apart), so it follows the profile's dose.

Regenerate the shipped file with ``python -m wildxray.xray.colour_bands``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from wildxray.core.colour import BANDS_FILE
from wildxray.xray.materials import effective_z, get_material, mass_attenuation
from wildxray.xray.physics import detector_spectra
from wildxray.xray.synth_config import default_profile
from wildxray.xray.scanner import ScannerProfile

ANCHORS = ("organic_reference", "organic_inorganic", "inorganic_metal", "metal_reference")
BOUNDARY_ZEFF = (10.0, 18.0)
MIN_QUANTA = 100.0
ATTENUATION_GRID = np.round(np.geomspace(0.01, 6.0, 48), 5)


def _mix(a: str, b: str, zeff: float) -> dict[str, float]:
    """Elemental fractions of the a/b mass mix whose effective Z equals ``zeff`` (bisection)."""
    fa, fb = get_material(a).fractions, get_material(b).fractions

    def fractions(w: float) -> dict[str, float]:
        out = {el: (1 - w) * f for el, f in fa.items()}
        for el, f in fb.items():
            out[el] = out.get(el, 0.0) + w * f
        return out

    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if effective_z(fractions(mid)) < zeff else (lo, mid)
    return fractions(0.5 * (lo + hi))


def ratio_curve(profile: ScannerProfile, fractions: dict[str, float], grid: np.ndarray) -> np.ndarray:
    """R = A_low / A_high of a material (elemental fractions) at each A_high of ``grid``."""
    spectra = detector_spectra(profile)
    mu = mass_attenuation(fractions, spectra.energy_kev)  # cm^2/g
    mass = np.geomspace(1e-3, 400.0, 600)  # g/cm^2, far past opaque for any grid value
    trans = spectra.weights @ np.exp(-np.outer(mu, mass))  # [2, n]
    att = -np.log(np.maximum(trans, 1e-300))
    return np.interp(grid, att[0], att[1] / att[0])


def derive_colour_bands(profile: ScannerProfile) -> dict:
    """The colour-band JSON document for ``profile`` (see ``wildxray.core.colour.ColourBands``)."""
    refs = {
        ANCHORS[0]: get_material("polyethylene").fractions,
        ANCHORS[1]: _mix("water", "aluminium", BOUNDARY_ZEFF[0]),
        ANCHORS[2]: _mix("aluminium", "iron", BOUNDARY_ZEFF[1]),
        ANCHORS[3]: get_material("iron").fractions,
    }
    grid = ATTENUATION_GRID
    return {
        "profile": profile.name,
        "kvp": profile.kvp,
        "anchors": list(ANCHORS),
        "anchor_zeff": {k: round(effective_z(v), 2) for k, v in refs.items()},
        "attenuation_grid": grid.tolist(),
        "curves": {k: np.round(ratio_curve(profile, v, grid), 5).tolist() for k, v in refs.items()},
        "opaque_low_attenuation": round(float(np.log(profile.photons_low / MIN_QUANTA)), 4),
        "min_quanta": MIN_QUANTA,
        "derived_by": "wildxray.xray.colour_bands.derive_colour_bands",
    }


def main(argv: list[str] | None = None) -> int:
    """Write the default profile's bands to the shipped JSON (or to argv[0])."""
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else BANDS_FILE
    out.write_text(json.dumps(derive_colour_bands(default_profile()), indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
