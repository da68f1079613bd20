"""Scanner profiles: tube, filtration, dual-energy detector stack, geometry, noise, colour map.

A profile is plain data (a frozen dataclass) built from the Hydra group ``configs/scanner/``.
Geometry convention of every raw scan: rows (y) are detector elements across the tunnel, columns
(x) are successive scan lines in the belt direction; ``pixel_pitch_mm`` is the same on both axes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class Layer:
    """A slab in the beam path: material name (see materials.yaml) and thickness in mm."""

    material: str
    thickness_mm: float


@dataclass(frozen=True)
class ScannerProfile:
    """Everything that makes one scanner model's images look like its own.

    Photon numbers are detected quanta per pixel in air (they set quantum noise); the electronic
    noise is in the same units. Blur sigmas are in pixels.
    """

    name: str = "default"
    kvp: float = 160.0
    anode_angle_deg: float = 12.0
    energy_bin_kev: float = 1.0
    filtration: tuple[Layer, ...] = (Layer("aluminium", 2.0), Layer("copper", 0.2))
    front_detector: Layer = Layer("csi", 0.3)
    interlayer_filter: Layer = Layer("copper", 0.5)
    rear_detector: Layer = Layer("csi", 3.0)
    belt: Layer = Layer("pvc", 3.0)
    pixel_pitch_mm: float = 1.0
    photons_high: float = 20000.0
    photons_low: float = 12000.0
    electronic_noise: float = 15.0
    blur_sigma_high_px: float = 0.9
    blur_sigma_low_px: float = 0.6
    column_gain_std: float = 0.004
    row_flicker_std: float = 0.002
    dead_line_prob: float = 0.05
    #: gain steps between detector boards of ``module_elements`` elements each (line detectors are
    #: built from cards of 16-64 photodiodes; a card's residual gain shows as a band along the belt).
    #: 0 draws nothing, so profiles without it give the scans they gave before it existed.
    module_gain_std: float = 0.0
    module_elements: int = 32
    colour_map: str = "classic"
    #: the maker's operator display, as ``wildxray.xray.display.DisplayStyle`` fields (palette hues,
    #: band positions, gamma, edge enhancement, view); empty: the canonical ``encode_dual_energy``.
    display: Mapping[str, Any] = field(default_factory=dict)
    #: evaluation-only profile: the training randomisation never draws it (configs/scanner/README.md).
    held_out: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def key(self) -> tuple:
        """Hashable identity of the physics (what a LUT depends on)."""
        return (
            self.kvp, self.anode_angle_deg, self.energy_bin_kev, self.filtration,
            self.front_detector, self.interlayer_filter, self.rear_detector,
        )


def _layer(value: Any, where: str) -> Layer:
    if isinstance(value, Layer):
        return value
    try:
        return Layer(str(value["material"]), float(value["thickness_mm"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"scanner profile: {where}: expected {{material, thickness_mm}}, got {value!r}") from exc


def profile_from_config(cfg: Mapping[str, Any]) -> ScannerProfile:
    """Build a profile from a mapping (a Hydra ``scanner`` node or a plain dict).

    Unknown keys raise so a misspelt override does not silently fall back to a default.
    """
    data = dict(cfg)
    names = {f.name for f in fields(ScannerProfile)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"scanner profile: unknown keys {sorted(unknown)}; known: {sorted(names)}")
    where = f"scanner profile '{data.get('name', '?')}'"
    if "filtration" in data:
        data["filtration"] = tuple(_layer(v, f"filtration[{i}]") for i, v in enumerate(data["filtration"]))
    for key in ("front_detector", "interlayer_filter", "rear_detector", "belt"):
        if key in data:
            data[key] = _layer(data[key], key)
    for key, value in list(data.items()):
        if key in _NUMBERS:
            try:
                data[key] = int(value) if key == "module_elements" else float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{where}: scanner.{key}: expected a number, got {value!r}") from None
    if "held_out" in data:
        if not isinstance(data["held_out"], bool):
            raise ValueError(f"{where}: scanner.held_out: expected true or false, got {data['held_out']!r}")
    for key in ("extra", "display"):
        if key in data:
            if not isinstance(data[key], Mapping):
                raise ValueError(f"{where}: scanner.{key}: expected a mapping, got {data[key]!r}")
            data[key] = dict(data[key])
    profile = ScannerProfile(**data)
    for key, (lo, hi) in _BOUNDS.items():
        value = getattr(profile, key)
        if not lo <= value <= hi:
            raise ValueError(f"{where}: scanner.{key} = {value} outside {lo}..{hi}")
    for layer_key in ("front_detector", "interlayer_filter", "rear_detector", "belt"):
        if getattr(profile, layer_key).thickness_mm < 0:
            raise ValueError(f"{where}: scanner.{layer_key}.thickness_mm must be >= 0")
    return profile


_NUMBERS = {f.name for f in fields(ScannerProfile) if f.type in ("float", "int")}
#: sane limits per numeric key; a value outside names its key (a typo'd 1600 kVp, a negative dose)
_BOUNDS: dict[str, tuple[float, float]] = {
    "kvp": (20.0, 300.0), "anode_angle_deg": (1.0, 45.0), "energy_bin_kev": (0.1, 10.0),
    "pixel_pitch_mm": (0.05, 10.0), "photons_high": (1.0, 1e9), "photons_low": (1.0, 1e9),
    "electronic_noise": (0.0, 1e6), "blur_sigma_high_px": (0.0, 20.0), "blur_sigma_low_px": (0.0, 20.0),
    "column_gain_std": (0.0, 0.5), "row_flicker_std": (0.0, 0.5), "dead_line_prob": (0.0, 1.0),
    "module_gain_std": (0.0, 0.5), "module_elements": (1, 4096),
}
