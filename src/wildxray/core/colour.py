"""Dual-energy raw -> operator pseudo-colour (the model's input). numpy only, by contract.

``encode_dual_energy(raw)`` is THE encoding of a raw dual-energy scan into 8-bit RGB: training,
``wildxray predict`` and the station all call it, so it must not depend on xraydb, spekpy or torch.

Raw encoding (DESIGN.md): ``raw`` is HxWx2 uint16, channel 0 the high-energy and channel 1 the
low-energy transmission, 0..65535 meaning 0..1 (65535 = empty belt / air).

Colour rule, as dual-energy parcel scanners show it:
- material class from the ratio ``R = A_low / A_high`` of the attenuations ``A = -ln T``; R grows with
  effective atomic number. The band boundaries (Zeff 10 organic/inorganic, Zeff 18 inorganic/metal)
  are curves R(A_high), because beam hardening bends them; they are derived from reference-material
  physics by ``wildxray.xray.colour_bands`` and shipped in ``colour_bands.json``.
  orange = organic (Zeff < ~10), green = mixed / light inorganic, blue = metal;
- saturation and brightness from attenuation, so thickness reads as shading; black where the low
  channel is nearly opaque (too few photons left to tell materials apart); white where nothing
  attenuates more than a few noise sigma (the empty belt, a plastic film), as operator screens show it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BANDS_FILE = Path(__file__).with_name("colour_bands.json")

#: Version of the raw -> RGB encoding below, recorded in every exported model's card
#: (``xray_encoding``): a model sees raw scans as this function renders them, so a station warns
#: when its encoding differs from the one the model was trained on. 1: pale, slowly darkening
#: colours (until 2026-12-01); 2: saturation within A ~ 0.45, shading with attenuation, near-air white.
ENCODING_VERSION = 2
#: Card modalities whose models see raw scans through this encoding.
XRAY_MODALITIES = ("xray", "xray_dual")

#: Palettes: RGB of (organic, inorganic, metal). "classic" is the common orange/green/blue; "deep"
#: mimics makers whose organics are darker brown and metals more violet.
PALETTES: dict[str, np.ndarray] = {
    "classic": np.array([[240, 140, 30], [60, 175, 60], [40, 90, 220]], np.float32),
    "deep": np.array([[205, 110, 35], [95, 185, 55], [85, 70, 200]], np.float32),
}

#: Mean attenuation below which a pixel shows as air (white): ~4 sigma of the flat-field noise at
#: the default dose (sigma_T ~ 0.007-0.009); colour ramps in over the next AIR_RAMP, wide enough
#: that noise on a faint cardboard face does not turn into speckle.
AIR_ATTENUATION = 0.03
AIR_RAMP = 0.05

#: Raw values are quantised to this many levels per channel for the 2-D colour table.
_LEVELS = 1024


@dataclass(frozen=True)
class ColourBands:
    """Band curves on a grid of high-energy attenuation.

    attenuation_grid: float [G] values of A_high; curves: float [4, G] ratio R at each A_high for
    the anchors (u = 0 organic reference, 1 organic/inorganic boundary, 2 inorganic/metal boundary,
    3 metal reference); opaque_low_attenuation: A_low above which a pixel shows black.
    """

    attenuation_grid: np.ndarray
    curves: np.ndarray
    opaque_low_attenuation: float
    profile: str = "default"

    @classmethod
    def from_dict(cls, data: dict) -> "ColourBands":
        names = data["anchors"]
        curves = np.array([data["curves"][n] for n in names], np.float64)
        grid = np.asarray(data["attenuation_grid"], np.float64)
        if curves.shape != (4, len(grid)) or np.any(np.diff(curves, axis=0) <= 0):
            raise ValueError(f"colour bands '{data.get('profile')}': curves must be 4 x grid and increasing in R")
        return cls(grid, curves, float(data["opaque_low_attenuation"]), str(data.get("profile", "?")))


def load_bands(path: Path | str = BANDS_FILE) -> ColourBands:
    """Bands from a JSON file (default: the shipped one for the default scanner profile)."""
    path = Path(path)
    try:
        return ColourBands.from_dict(json.loads(path.read_text()))
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: not a valid colour-band file: {exc}") from exc


@functools.lru_cache(maxsize=1)
def default_bands() -> ColourBands:
    return load_bands(BANDS_FILE)


def material_coordinate(a_high: np.ndarray, a_low: np.ndarray, bands: ColourBands) -> np.ndarray:
    """Continuous material class u in [0, 3] (0 organic ref, 1 and 2 the boundaries, 3 metal ref).

    a_high, a_low: float arrays of attenuations (-ln T), any equal shapes.
    """
    a_high = np.asarray(a_high, np.float64)
    ratio = np.asarray(a_low, np.float64) / np.maximum(a_high, 1e-6)
    ah = np.clip(a_high, bands.attenuation_grid[0], bands.attenuation_grid[-1])
    anchors = [np.interp(ah, bands.attenuation_grid, c) for c in bands.curves]
    u = np.zeros_like(ratio)
    for k in range(3):  # piecewise linear between consecutive anchor curves
        lo, hi = anchors[k], anchors[k + 1]
        seg = k + (ratio - lo) / (hi - lo)
        inside = (ratio >= lo) & (ratio < hi)
        u = np.where(inside, seg, u)
    u = np.where(ratio >= anchors[3], 3.0, u)
    return np.clip(u, 0.0, 3.0)


@dataclass(frozen=True)
class ColourRule:
    """The numbers of the colour rule below; the defaults are THE encoding (``ENCODING_VERSION``).

    ``wildxray.xray.display`` draws other values per training scan (another maker's screen); the
    runtime only ever uses the defaults. palette: RGB of (organic, inorganic, metal); organic blends
    into inorganic over u in [mix_start, mix_start + mix_width] (smoothstep), inorganic into metal
    over [metal_start, metal_start + metal_width]; colour saturates as (mean A / saturation_attenuation)
    ** saturation_exponent; brightness is exp(-light_rate * max(mean A - light_knee, 0)); near-air
    (mean A < air_attenuation, then a ramp of air_ramp) is white."""

    palette: tuple[tuple[float, float, float], ...] = tuple(map(tuple, PALETTES["classic"].tolist()))
    mix_start: float = 0.7
    mix_width: float = 1.0
    metal_start: float = 1.9
    metal_width: float = 0.2
    saturation_attenuation: float = 0.45
    saturation_exponent: float = 0.6
    light_rate: float = 0.42
    light_knee: float = 0.15
    air_attenuation: float = AIR_ATTENUATION
    air_ramp: float = AIR_RAMP

    @classmethod
    def for_palette(cls, palette: str) -> "ColourRule":
        if palette not in PALETTES:
            raise ValueError(f"unknown palette '{palette}'; known: {sorted(PALETTES)}")
        return cls(palette=tuple(map(tuple, PALETTES[palette].tolist())))


def colour_rgb(a_high: np.ndarray, a_low: np.ndarray, bands: ColourBands, rule: ColourRule) -> np.ndarray:
    """float64 RGB [..., 3] (unrounded, 0..255) of attenuation arrays [...] under ``rule``."""
    pal = np.asarray(rule.palette, np.float32)
    a_high = np.maximum(np.asarray(a_high, np.float64), 0.0)
    a_low = np.maximum(np.asarray(a_low, np.float64), 0.0)
    u = material_coordinate(a_high, a_low, bands)
    # Organic -> inorganic blends over a wide band of u (smoothstep 0.7..1.7) so bone, ivory and
    # organic/metal overlaps show the green-orange "mixed" tint of real screens; metal is sharper.
    x = np.clip((u - rule.mix_start) / rule.mix_width, 0, 1)
    w_mix = x * x * (3 - 2 * x)
    w_metal = np.clip((u - rule.metal_start) / rule.metal_width, 0, 1)
    w_inorg = w_mix * (1 - w_metal)
    w_org = 1 - w_inorg - w_metal
    hue = w_org[..., None] * pal[0] + w_inorg[..., None] * pal[1] + w_metal[..., None] * pal[2]
    mean_a = 0.5 * (a_high + a_low)
    # Colour saturates over the first ~0.45 of attenuation (a folded shirt is clearly orange) and
    # brightness falls with attenuation, so thickness reads as shading: a 10 cm bottle shows mid-dark
    # brown, a 20 cm stack dark. Like operator screens, near-air (A < ~4 noise sigma, a plastic film)
    # is drawn white, so the empty belt and the flat-field's residual noise show as plain white.
    sat = (np.clip(mean_a / rule.saturation_attenuation, 0.0, 1.0) ** rule.saturation_exponent)[..., None]
    sat = sat * np.clip((mean_a - rule.air_attenuation) / rule.air_ramp, 0.0, 1.0)[..., None]
    light = np.exp(-rule.light_rate * np.maximum(mean_a - rule.light_knee, 0.0))[..., None]
    rgb = (255.0 * (1 - sat) + hue * sat) * light
    opaque = (a_low >= bands.opaque_low_attenuation)[..., None]
    return np.where(opaque, 0.0, rgb)


def colour_from_attenuation(
    a_high: np.ndarray, a_low: np.ndarray, bands: ColourBands, palette: str = "classic"
) -> np.ndarray:
    """RGB uint8 [..., 3] for attenuation arrays [...] (the exact, unquantised rule)."""
    rgb = colour_rgb(a_high, a_low, bands, ColourRule.for_palette(palette))
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _colour_table(bands_id: int, palette: str) -> np.ndarray:
    bands = _BANDS_BY_ID[bands_id]
    centres = (np.arange(_LEVELS) + 0.5) / _LEVELS
    att = -np.log(centres)
    ah, al = np.meshgrid(att, att, indexing="ij")  # [high level, low level]
    return colour_from_attenuation(ah, al, bands, palette)  # [L, L, 3]


_BANDS_BY_ID: dict[int, ColourBands] = {}


def _check_raw(raw: np.ndarray) -> np.ndarray:
    raw = np.asarray(raw)
    if raw.ndim != 3 or raw.shape[2] != 2 or raw.dtype != np.uint16:
        raise ValueError(f"expected raw dual energy HxWx2 uint16 [high, low], got {raw.shape} {raw.dtype}")
    return raw


def encode_dual_energy(raw: np.ndarray, bands: ColourBands | None = None, palette: str = "classic") -> np.ndarray:
    """Raw dual energy -> the operator pseudo-colour image, the model's input.

    raw: HxWx2 uint16 [high, low] transmission (65535 = 1). Returns HxWx3 uint8 RGB.
    A cached 1024x1024 table over quantised (high, low) transmissions makes this a gather
    (a few ms for 640x480); quantisation only matters below 0.1 % transmission (black anyway).
    """
    raw = _check_raw(raw)
    bands = bands or default_bands()
    _BANDS_BY_ID.setdefault(id(bands), bands)
    table = _colour_table(id(bands), palette).reshape(-1, 3)
    shift = 16 - int(np.log2(_LEVELS))
    bits = int(np.log2(_LEVELS))
    index = ((raw[..., 0].astype(np.int32) >> shift) << bits) | (raw[..., 1] >> shift)
    return np.take(table, index, axis=0)  # a flat gather is ~4x faster than 2-D fancy indexing


def grey_view(raw: np.ndarray) -> np.ndarray:
    """High-energy grey view: HxWx3 uint8, white = air, log-compressed so thick parts keep detail."""
    raw = _check_raw(raw)
    t = np.maximum(raw[..., 0].astype(np.float32) / 65535.0, 1e-4)
    grey = np.clip(255.0 * (1.0 - np.log(t) / np.log(1e-3)), 0, 255)  # 1 -> 255, 1e-3 -> 0
    g8 = np.rint(grey).astype(np.uint8)
    return np.repeat(g8[..., None], 3, axis=2)
