"""Scanner, display and material randomisation: a new ``ScanSetup`` per scan (``randomise: true``,
the ``randomisation`` node of configs/synth.yaml).

Per scan, from the scan's own generator (so scan i still depends only on (seed, i)):
1. a physics set-up from a fixed pool: the training profiles as they are, plus ``pool_size`` set-ups
   drawn once from ``physics`` ranges with ``pool_seed`` (kVp, anode angle, filtration, front and
   rear scintillator, inter-layer copper, belt). Each is built the first time a scan draws it and
   then cached (~1 s: spectrum, LUT, basis fits), so a stream pays for at most the pool's size;
2. the detector: pixel pitch, dose, electronic noise, blur, gain streaks, flicker, dead lines, card
   gain steps;
3. the operator display: view (colour / grey / high / low), palette hues, band positions,
   brightness curve, near-air threshold, saturation, gamma, edge enhancement;
4. materials within their published ranges (density, mineral and water fractions).

Held-out profiles (``held_out: true``, configs/scanner/README.md) are evaluation only: a pool that
names one raises, and a drawn set-up whose physics equals a held-out profile's is drawn again.
The ranges are the training set-ups' own, never widened to reach a held-out profile.
"""

from __future__ import annotations

import colorsys
import dataclasses
from typing import Any, Mapping

import numpy as np

from wildxray.core.colour import ColourRule
from wildxray.xray.synth_config import plain_node
from wildxray.xray.display import VIEWS, DisplayStyle
from wildxray.xray.materials import default_materials, mixture_components
from wildxray.xray.scan_setup import Physics, ScanSetup, with_dose
from wildxray.xray.scanner import Layer, ScannerProfile

SECTIONS = ("profiles", "pool_size", "pool_seed", "physics", "detector", "display", "materials")
PHYSICS_RANGES = ("kvp", "anode_angle_deg", "filtration_aluminium_mm", "filtration_copper_mm",
                  "interlayer_copper_mm", "belt_pvc_mm")
PHYSICS_KEYS = PHYSICS_RANGES + ("kvp_step", "front", "rear")
DETECTOR_RANGES = ("pixel_pitch_mm", "photons_high", "low_to_high_photons", "electronic_noise",
                   "blur_sigma_high_px", "low_to_high_blur", "column_gain_std", "row_flicker_std",
                   "dead_line_prob", "module_gain_std")
DETECTOR_KEYS = DETECTOR_RANGES + ("module_elements",)
RULE_RANGES = ("mix_start", "mix_width", "metal_start", "metal_width", "saturation_attenuation",
               "saturation_exponent", "light_rate", "light_knee", "air_attenuation", "air_ramp")
STYLE_RANGES = ("gamma", "saturation", "edge_amount", "edge_sigma_px", "grey_black_attenuation")
DISPLAY_KEYS = RULE_RANGES + STYLE_RANGES + ("views", "hue_deg", "hue_saturation", "hue_value", "edge_probability")
HUES = ("organic", "inorganic", "metal")


def _keys(node: Any, allowed: tuple[str, ...], where: str) -> dict:
    if not isinstance(node, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {node!r}")
    unknown = set(node) - set(allowed)
    missing = set(allowed) - set(node)
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}; "
                         f"expected {sorted(allowed)}")
    return dict(node)


def _range(value: Any, where: str, lo: float = -np.inf, hi: float = np.inf) -> tuple[float, float]:
    """A [low, high] pair inside [lo, hi]; the error names the key."""
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected [low, high], got {value!r}") from None
    if not lo <= a <= b <= hi:
        raise ValueError(f"{where}: expected {lo} <= low <= high <= {hi}, got [{a}, {b}]")
    return a, b


def _probability(value: Any, where: str) -> float:
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a probability, got {value!r}") from None
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: expected a probability in [0, 1], got {p}")
    return p


def _layers(node: Any, where: str) -> dict[str, tuple[float, float]]:
    """scintillator material -> thickness range (mm)."""
    if not isinstance(node, Mapping) or not node:
        raise ValueError(f"{where}: expected {{material: [min_mm, max_mm]}}, got {node!r}")
    table = default_materials()
    for name in node:
        if name not in table:
            raise ValueError(f"{where}.{name}: unknown material; known: {', '.join(sorted(table))}")
    return {str(k): _range(v, f"{where}.{k}", 0.0, 50.0) for k, v in node.items()}


def _materials(node: Any, where: str) -> dict[str, dict]:
    """material -> {density: (lo, hi), fractions: {component: (lo, hi)}} checked against the table."""
    table, mixtures = default_materials(), mixture_components()
    out = {}
    for name, spec in dict(node or {}).items():
        at = f"{where}.{name}"
        if name not in table:
            raise ValueError(f"{at}: unknown material; known: {', '.join(sorted(table))}")
        if not isinstance(spec, Mapping) or set(spec) - {"density", "fractions"} or "density" not in spec:
            raise ValueError(f"{at}: expected {{density: [lo, hi], fractions: {{component: [lo, hi]}}}}, got {spec!r}")
        fractions = {}
        for comp, rng_ in dict(spec.get("fractions") or {}).items():
            if comp not in mixtures.get(name, {}):
                raise ValueError(f"{at}.fractions.{comp}: not a component of '{name}' "
                                 f"(its mixture: {sorted(mixtures.get(name, {})) or 'none, a plain formula'})")
            fractions[comp] = _range(rng_, f"{at}.fractions.{comp}", 0.0, 1.0)
        if sum(lo for lo, _ in fractions.values()) > 1.0:
            raise ValueError(f"{at}.fractions: the lower bounds sum above 1")
        out[name] = {"density": _range(spec["density"], f"{at}.density", 0.001, 25.0), "fractions": fractions}
    return out


class Randomiser:
    """Draws a ``ScanSetup`` per scan from a validated ``randomisation`` node (see module docstring).

    profiles: name -> ScannerProfile for the training profiles the node lists (configs/scanner).
    Picklable (spawned ``wildxray synth`` workers get it with whatever physics is already built)."""

    def __init__(self, node: Mapping[str, Any], load_profile: Any, held_out: Mapping[str, ScannerProfile]):
        where = "randomisation"
        node = _keys(plain_node(node), SECTIONS, where)
        names = list(node["profiles"] or [])
        for name in names:
            if name in held_out:
                raise ValueError(f"{where}.profiles: '{name}' is a held-out profile (held_out: true in "
                                 f"configs/scanner/{name}.yaml): evaluation only, never in training")
        self.held_out_keys = {p.key() + (p.belt,): n for n, p in held_out.items()}
        try:
            pool_size, pool_seed = int(node["pool_size"]), int(node["pool_seed"])
        except (TypeError, ValueError):
            raise ValueError(f"{where}.pool_size and pool_seed: expected integers, got "
                             f"{node['pool_size']!r}, {node['pool_seed']!r}") from None
        if pool_size < 0 or (pool_size == 0 and not names):
            raise ValueError(f"{where}.pool_size: expected >= 0 (and > 0 without profiles), got {pool_size}")
        phys = _keys(node["physics"], PHYSICS_KEYS, f"{where}.physics")
        self.physics_ranges = {k: _range(phys[k], f"{where}.physics.{k}", 0.0, 300.0) for k in PHYSICS_RANGES}
        _range(phys["kvp"], f"{where}.physics.kvp", 20.0, 300.0)
        self.kvp_step = float(phys["kvp_step"])
        if self.kvp_step <= 0:
            raise ValueError(f"{where}.physics.kvp_step: expected > 0, got {self.kvp_step}")
        self.front = _layers(phys["front"], f"{where}.physics.front")
        self.rear = _layers(phys["rear"], f"{where}.physics.rear")
        det = _keys(node["detector"], DETECTOR_KEYS, f"{where}.detector")
        self.detector = {k: _range(det[k], f"{where}.detector.{k}", 0.0, 1e7) for k in DETECTOR_RANGES}
        _range(det["pixel_pitch_mm"], f"{where}.detector.pixel_pitch_mm", 0.05, 10.0)
        _range(det["dead_line_prob"], f"{where}.detector.dead_line_prob", 0.0, 1.0)
        if self.detector["photons_high"][0] < 1:
            raise ValueError(f"{where}.detector.photons_high: expected >= 1 quantum, got {det['photons_high']}")
        try:
            self.module_elements = [int(v) for v in det["module_elements"]]
            assert self.module_elements and min(self.module_elements) > 0
        except (TypeError, ValueError, AssertionError):
            raise ValueError(f"{where}.detector.module_elements: expected a list of positive integers, "
                             f"got {det['module_elements']!r}") from None
        self._parse_display(node["display"], f"{where}.display")
        self.materials = _materials(node["materials"], f"{where}.materials")
        self.pool: list[ScannerProfile] = [load_profile(n) for n in names]
        pool_rng = np.random.default_rng([pool_seed, 0x5CA9])
        rejected = 0
        while len(self.pool) < len(names) + pool_size:
            drawn = self._draw_physics(pool_rng, f"random{len(self.pool) - len(names):02d}")
            if drawn.key() + (drawn.belt,) not in self.held_out_keys:  # never a held-out profile's physics
                self.pool.append(drawn)
            elif (rejected := rejected + 1) > 1000:
                raise ValueError(f"{where}.physics: the ranges only give the held-out profile "
                                 f"'{self.held_out_keys[drawn.key() + (drawn.belt,)]}' (evaluation only)")
        self._physics: dict[tuple, Physics] = {}

    def _parse_display(self, node: Any, where: str) -> None:
        disp = _keys(node, DISPLAY_KEYS, where)
        views = disp["views"]
        if not isinstance(views, Mapping) or set(views) - set(VIEWS) or not views:
            raise ValueError(f"{where}.views: expected weights of {list(VIEWS)}, got {views!r}")
        weights = np.array([_probability(views.get(v, 0.0), f"{where}.views.{v}") for v in VIEWS])
        if weights.sum() <= 0:
            raise ValueError(f"{where}.views: the weights sum to 0")
        self.view_p = weights / weights.sum()
        hue = _keys(disp["hue_deg"], HUES, f"{where}.hue_deg")
        self.hues = {k: _range(hue[k], f"{where}.hue_deg.{k}", 0.0, 360.0) for k in HUES}
        self.hue_sv = (_range(disp["hue_saturation"], f"{where}.hue_saturation", 0.0, 1.0),
                       _range(disp["hue_value"], f"{where}.hue_value", 0.0, 1.0))
        positive = {"mix_width", "metal_width", "saturation_attenuation", "air_ramp", "gamma",
                    "edge_sigma_px", "grey_black_attenuation"}
        self.display = {}
        for k in RULE_RANGES + STYLE_RANGES:
            lo, hi = _range(disp[k], f"{where}.{k}", 0.0, 100.0)
            if k in positive and lo <= 0:
                raise ValueError(f"{where}.{k}: expected > 0, got [{lo}, {hi}]")
            self.display[k] = (lo, hi)
        self.edge_probability = _probability(disp["edge_probability"], f"{where}.edge_probability")

    def _uniform(self, rng: np.random.Generator, bounds: tuple[float, float]) -> float:
        return float(rng.uniform(bounds[0], bounds[1]))

    def _draw_physics(self, rng: np.random.Generator, name: str) -> ScannerProfile:
        r = self.physics_ranges
        kvp = float(np.clip(np.round(self._uniform(rng, r["kvp"]) / self.kvp_step) * self.kvp_step, *r["kvp"]))
        front = sorted(self.front)[int(rng.integers(len(self.front)))]
        rear = sorted(self.rear)[int(rng.integers(len(self.rear)))]
        mm = lambda bounds: round(self._uniform(rng, bounds), 2)  # noqa: E731 - quantised: fewer distinct LUTs
        filtration = (Layer("aluminium", mm(r["filtration_aluminium_mm"])),)
        copper = mm(r["filtration_copper_mm"])
        if copper > 0:
            filtration += (Layer("copper", copper),)
        return ScannerProfile(
            name=name, kvp=kvp, anode_angle_deg=float(round(self._uniform(rng, r["anode_angle_deg"]))),
            filtration=filtration, front_detector=Layer(front, mm(self.front[front])),
            interlayer_filter=Layer("copper", mm(r["interlayer_copper_mm"])),
            rear_detector=Layer(rear, mm(self.rear[rear])), belt=Layer("pvc", mm(r["belt_pvc_mm"])))

    def physics(self, profile: ScannerProfile) -> Physics:
        """The cached physics of a pool member (built on first use)."""
        key = profile.key() + (profile.belt,)
        if key not in self._physics:
            self._physics[key] = Physics.of(profile)
        return self._physics[key]

    def prepare(self) -> None:
        """Build every pool member's physics now (the training stream, before its workers fork; benchmarks)."""
        for member in self.pool:
            self.physics(member)

    def _draw_detector(self, rng: np.random.Generator, member: ScannerProfile) -> ScannerProfile:
        d = self.detector
        lo, hi = d["photons_high"]
        high = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))  # dose spans decades: log-uniform
        blur_high = self._uniform(rng, d["blur_sigma_high_px"])
        return dataclasses.replace(
            member, name=f"randomised/{member.name}", pixel_pitch_mm=round(self._uniform(rng, d["pixel_pitch_mm"]), 3),
            photons_high=high, photons_low=high * self._uniform(rng, d["low_to_high_photons"]),
            electronic_noise=self._uniform(rng, d["electronic_noise"]),
            blur_sigma_high_px=blur_high, blur_sigma_low_px=blur_high * self._uniform(rng, d["low_to_high_blur"]),
            column_gain_std=self._uniform(rng, d["column_gain_std"]),
            row_flicker_std=self._uniform(rng, d["row_flicker_std"]),
            dead_line_prob=self._uniform(rng, d["dead_line_prob"]),
            module_gain_std=self._uniform(rng, d["module_gain_std"]),
            module_elements=self.module_elements[int(rng.integers(len(self.module_elements)))],
            colour_map="classic", display={})

    def _draw_style(self, rng: np.random.Generator) -> DisplayStyle:
        (s_lo, s_hi), (v_lo, v_hi) = self.hue_sv
        palette = tuple(
            tuple(255.0 * c for c in colorsys.hsv_to_rgb(self._uniform(rng, self.hues[k]) / 360.0,
                                                         rng.uniform(s_lo, s_hi), rng.uniform(v_lo, v_hi)))
            for k in HUES)
        rule = ColourRule(palette=palette, **{k: self._uniform(rng, self.display[k]) for k in RULE_RANGES})
        view = VIEWS[int(rng.choice(len(VIEWS), p=self.view_p))]
        style = {k: self._uniform(rng, self.display[k]) for k in STYLE_RANGES}
        if rng.random() >= self.edge_probability:
            style["edge_amount"] = 0.0
        return DisplayStyle(view=view, rule=rule, **style)

    def _draw_materials(self, rng: np.random.Generator, physics: Physics,
                        ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Per-scan coefficients and densities. A mixture's basis fit is linear in its components'
        mass fractions (mu/rho of a mix is the mass-weighted sum), so a drawn composition is the
        fraction-weighted sum of its components' per-gram coefficients: no fit per scan."""
        table, mixtures = default_materials(), mixture_components()
        coefficients, densities = dict(physics.coefficients), {n: m.density for n, m in table.items()}
        for name, spec in self.materials.items():
            density = self._uniform(rng, spec["density"])
            per_gram = physics.coefficients[name] / np.float32(table[name].density)
            if spec["fractions"]:
                nominal = mixtures[name]
                drawn = {c: self._uniform(rng, b) for c, b in spec["fractions"].items()}
                rest = {c: f for c, f in nominal.items() if c not in drawn}
                left = max(0.0, 1.0 - sum(drawn.values()))
                if rest:  # the other components share what is left in their table proportions
                    total = sum(rest.values())
                    drawn.update({c: left * f / total for c, f in rest.items()})
                norm = sum(drawn.values())
                per_gram = sum(np.float32(f / norm) * physics.coefficients[c] / np.float32(table[c].density)
                               for c, f in drawn.items())
            coefficients[name] = (per_gram * np.float32(density)).astype(np.float32)
            densities[name] = density
        return coefficients, densities

    def draw(self, rng: np.random.Generator) -> ScanSetup:
        """The setup of one scan, from that scan's generator."""
        member = self.pool[int(rng.integers(len(self.pool)))]
        profile = self._draw_detector(rng, member)
        style = self._draw_style(rng)
        physics = self.physics(member)
        coefficients, densities = self._draw_materials(rng, physics)
        meta = {"physics": member.name, "kvp": member.kvp, "front": member.front_detector.material,
                "rear": member.rear_detector.material, "pixel_pitch_mm": profile.pixel_pitch_mm,
                "photons_high": round(profile.photons_high), "view": style.view}
        return ScanSetup(profile, physics.lut, coefficients, densities, with_dose(physics.bands, profile.photons_low),
                         style, meta)
