"""Other operator displays of a raw dual-energy scan: another maker's colour rule, gamma,
saturation, edge enhancement, and the grey / high / low single-channel views scanners export.

Every rendering keeps the image contract of DESIGN.md (HxWx3 uint8 RGB). This is training-side
variety only: the model's input for a raw scan stays ``colour.encode_dual_energy`` (the default
``ColourRule``), which the station and ``predict`` call; nothing here is used at run time.

A colour rendering evaluates the rule on a 256 x 256 grid of (A_high, A_low), spaced as
log(1 + A / 0.02) so near-air and thin organics keep fine steps, and reads each pixel from it
bilinearly: ~10 ms a style, so every scan can have its own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import cv2
import numpy as np

from wildxray.core.colour import PALETTES, ColourBands, ColourRule, colour_rgb

VIEWS = ("colour", "grey", "high", "low")
_GRID = 256
_SCALE = 0.02  # attenuation where the grid turns from linear to logarithmic spacing
_A_MAX = float(np.log(65535.0))  # the attenuation of raw value 1: nothing lies beyond


@dataclass(frozen=True)
class DisplayStyle:
    """One operator display. view: colour | grey (mean of both channels) | high | low; gamma
    applies to brightness (out = 255 (v / 255) ** (1 / gamma)); saturation scales colour away from
    its grey; edge_amount > 0 adds an unsharp mask of ``edge_sigma_px``; grey views run from white
    (air) to black at attenuation ``grey_black_attenuation``, log-compressed as ``colour.grey_view``."""

    view: str = "colour"
    rule: ColourRule = field(default_factory=ColourRule)
    gamma: float = 1.0
    saturation: float = 1.0
    edge_amount: float = 0.0
    edge_sigma_px: float = 1.0
    grey_black_attenuation: float = 6.9

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"display.view: unknown view '{self.view}'; known: {list(VIEWS)}")
        for key in ("gamma", "grey_black_attenuation", "edge_sigma_px"):
            if not getattr(self, key) > 0:
                raise ValueError(f"display.{key} must be > 0, got {getattr(self, key)}")


_RULE_KEYS = {f.name for f in fields(ColourRule)}
_STYLE_KEYS = {f.name for f in fields(DisplayStyle)} - {"rule"}


def style_from_config(node: Mapping[str, Any], where: str = "display") -> DisplayStyle:
    """A style from a flat mapping of ``DisplayStyle`` and ``ColourRule`` fields (a scanner profile's
    ``display:``); ``palette`` is a palette name or three RGB triples. Unknown keys name themselves."""
    data = dict(node)
    unknown = set(data) - _RULE_KEYS - _STYLE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_RULE_KEYS | _STYLE_KEYS)}")
    rule_args = {k: data.pop(k) for k in list(data) if k in _RULE_KEYS}
    if "palette" in rule_args:
        pal = rule_args["palette"]
        if isinstance(pal, str):
            if pal not in PALETTES:
                raise ValueError(f"{where}.palette: unknown palette '{pal}'; known: {sorted(PALETTES)}")
            pal = PALETTES[pal].tolist()
        try:
            rule_args["palette"] = tuple(tuple(float(c) for c in rgb) for rgb in pal)
            assert len(rule_args["palette"]) == 3 and all(len(rgb) == 3 for rgb in rule_args["palette"])
        except (TypeError, ValueError, AssertionError):
            raise ValueError(f"{where}.palette: expected a name or 3 RGB triples, got {pal!r}") from None
    for key, value in list(rule_args.items()) + list(data.items()):
        if key not in ("palette", "view"):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{where}.{key}: expected a number, got {value!r}") from None
            (rule_args if key in rule_args else data)[key] = value
    for key in ("mix_width", "metal_width", "saturation_attenuation", "air_ramp"):
        if key in rule_args and rule_args[key] <= 0:
            raise ValueError(f"{where}.{key} must be > 0, got {rule_args[key]}")
    try:
        return DisplayStyle(rule=ColourRule(**rule_args), **data)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


@functools.lru_cache(maxsize=1)
def _raw_attenuation() -> np.ndarray:
    """float32 [65536]: raw value -> attenuation -ln T (raw 0 read as raw 1)."""
    return (-np.log(np.maximum(np.arange(65536, dtype=np.float64), 1.0) / 65535.0)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _raw_to_grid() -> np.ndarray:
    """float32 [65536]: raw value -> fractional index of its attenuation on the display grid."""
    att = _raw_attenuation().astype(np.float64)
    return (np.log1p(att / _SCALE) / np.log1p(_A_MAX / _SCALE) * (_GRID - 1)).astype(np.float32)


def _grid_attenuation() -> np.ndarray:
    """float64 [G]: the attenuation at each grid index (inverse of ``_raw_to_grid``'s spacing)."""
    return _SCALE * np.expm1(np.linspace(0.0, np.log1p(_A_MAX / _SCALE), _GRID))


def _tone(v: np.ndarray, style: DisplayStyle) -> np.ndarray:
    """Gamma on 0..255 brightness."""
    if style.gamma == 1.0:
        return v
    return 255.0 * (np.clip(v, 0.0, 255.0) / 255.0) ** (1.0 / style.gamma)


def colour_table(bands: ColourBands, style: DisplayStyle) -> np.ndarray:
    """float32 [G, G, 3] RGB of the style's colour rule, indexed [A_high, A_low] on the display grid."""
    att = _grid_attenuation()
    ah, al = np.meshgrid(att, att, indexing="ij")
    rgb = colour_rgb(ah, al, bands, style.rule)
    if style.saturation != 1.0:
        grey = rgb.mean(axis=-1, keepdims=True)
        rgb = grey + style.saturation * (rgb - grey)
    return _tone(rgb, style).astype(np.float32)


def _grey_levels(att: np.ndarray, style: DisplayStyle) -> np.ndarray:
    level = 255.0 * np.clip(1.0 - att / style.grey_black_attenuation, 0.0, 1.0)
    return _tone(level, style)


def render(raw: np.ndarray, bands: ColourBands, style: DisplayStyle) -> np.ndarray:
    """Raw HxWx2 uint16 [high, low] (65535 = air) -> HxWx3 uint8 RGB in the style's display."""
    if raw.ndim != 3 or raw.shape[2] != 2 or raw.dtype != np.uint16:
        raise ValueError(f"expected raw dual energy HxWx2 uint16 [high, low], got {raw.shape} {raw.dtype}")
    if style.view == "colour":
        index = _raw_to_grid()
        gy, gx = np.take(index, raw[..., 0]), np.take(index, raw[..., 1])  # rows A_high, columns A_low
        out = cv2.remap(colour_table(bands, style), gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    else:
        att = _raw_attenuation()
        if style.view == "grey":
            a = np.float32(0.5) * (np.take(att, raw[..., 0]) + np.take(att, raw[..., 1]))
        else:
            a = np.take(att, raw[..., 0 if style.view == "high" else 1])
        out = np.repeat(_grey_levels(a, style).astype(np.float32)[..., None], 3, axis=2)
    if style.edge_amount > 0:  # the operator's "edge enhance" key: an unsharp mask
        soft = cv2.GaussianBlur(out, (0, 0), style.edge_sigma_px)
        out = out + np.float32(style.edge_amount) * (out - soft)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
