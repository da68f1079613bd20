"""Polychromatic dual-energy physics: tube spectrum, detector response, Beer-Lambert, basis LUT.

Signal model (energy-integrating scintillators, as in dual-energy line scanners):

    S_ch = sum_E  Phi(E) * E * A_ch(E) * exp(-sum_m mu_m(E) t_m)

with ``Phi`` the filtered tube spectrum (spekpy, photons per keV bin), ``A_front(E) = 1 - exp(-mu_f t_f)``
the energy fraction stopped in the thin front (low-energy) layer and
``A_rear(E) = exp(-mu_f t_f) exp(-mu_cu t_cu) (1 - exp(-mu_r t_r))`` for the rear (high-energy) layer.
Transmission ``T_ch = S_ch(object) / S_ch(air)``.

Basis-material decomposition (Alvarez & Macovski 1976): in the scanner's energy range, without
K-edges, every material's mu/rho(E) is close to ``a1 mu/rho_water(E) + a2 mu/rho_iron(E)``. So an
object is fully described, for both channels, by two basis mass thicknesses (g/cm^2), and the
polychromatic integral becomes a 2-D table ``(b_water, b_iron) -> (-ln T_high, -ln T_low)`` that is
precomputed once per scanner profile and read with bilinear interpolation (cv2.remap).
Materials beyond iron (lead, tin) are fitted with non-negative weights: their absorption is then
slightly misrepresented but they are opaque at parcel thicknesses anyway (documented clamp).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from wildxray.xray.materials import get_material
from wildxray.xray.scanner import Layer, ScannerProfile

BASIS = ("water", "iron")
#: LUT extent in g/cm^2 per basis; beyond this every pixel is opaque for any sane profile.
LUT_MAX = (80.0, 16.0)
LUT_SIZE = (321, 257)
CHANNELS = ("high", "low")


@dataclass(frozen=True)
class DetectorSpectra:
    """Per-channel detection weights on an energy grid.

    energy_kev: float64 [E] bin centres; weights: float64 [2, E] (row 0 high, row 1 low), each row
    normalised to sum 1 (``Phi * E * A_ch`` after the belt, i.e. the empty-belt flat field).
    """

    energy_kev: np.ndarray
    weights: np.ndarray


def _attenuate(layer: Layer, energy_kev: np.ndarray) -> np.ndarray:
    """Transmission of a slab (thickness in mm) at each energy."""
    return np.exp(-get_material(layer.material).linear_attenuation(energy_kev) * layer.thickness_mm / 10.0)


@functools.lru_cache(maxsize=64)
def _tube_spectrum(kvp: float, angle: float, dk: float) -> tuple[np.ndarray, np.ndarray]:
    """(energy keV, fluence) of the unfiltered tube above 10 keV: the ~1 s spekpy part, shared by
    every profile (or randomised set-up) with the same kVp and anode angle."""
    import spekpy  # start-up: spekpy loads only when a spectrum is computed (~1 s each, hence the cache)

    spek = spekpy.Spek(kvp=kvp, th=angle, dk=dk)
    energy, fluence = spek.get_spectrum()
    energy = np.asarray(energy, dtype=np.float64)
    phi = np.asarray(fluence, dtype=np.float64)
    keep = energy >= 10.0  # below 10 keV nothing crosses the tube window + filtration
    return energy[keep], phi[keep]


@functools.lru_cache(maxsize=64)
def _detector_spectra(key: tuple, belt: Layer) -> DetectorSpectra:
    kvp, angle, dk, filtration, front, inter, rear = key
    energy, phi = _tube_spectrum(kvp, angle, dk)
    for layer in filtration + (belt,):
        phi = phi * _attenuate(layer, energy)
    t_front = _attenuate(front, energy)
    a_front = 1.0 - t_front
    a_rear = t_front * _attenuate(inter, energy) * (1.0 - _attenuate(rear, energy))
    weights = np.stack([phi * energy * a_rear, phi * energy * a_front])
    weights /= weights.sum(axis=1, keepdims=True)
    return DetectorSpectra(energy, weights)


def detector_spectra(profile: ScannerProfile) -> DetectorSpectra:
    """Detection weights of the high and low channels for a profile (memoised per process)."""
    return _detector_spectra(profile.key(), profile.belt)


def beam_transmission(spectra: DetectorSpectra, path: list[tuple[str, float]] | dict[str, float]) -> np.ndarray:
    """Transmission float64 [2] (high, low) of a material stack for given detection weights.

    path: (material name, thickness in cm) pairs; Beer-Lambert per energy, then the weighted sum.
    """
    items = path.items() if isinstance(path, dict) else path
    mu_t = np.zeros_like(spectra.energy_kev, dtype=np.float64)
    for name, cm in items:
        mu_t += get_material(name).linear_attenuation(spectra.energy_kev) * float(cm)
    return spectra.weights @ np.exp(-mu_t)


def polychromatic_transmission(
    profile: ScannerProfile, path: list[tuple[str, float]] | dict[str, float]
) -> np.ndarray:
    """Exact (no LUT) dual-energy transmission (T_high, T_low), float64 [2] in 0..1, relative to
    the empty belt, through (material name, thickness cm) pairs."""
    return beam_transmission(detector_spectra(profile), path)


@functools.lru_cache(maxsize=8192)
def _basis_coefficients(material: str, key: tuple, belt: Layer) -> tuple[float, float]:
    from scipy.optimize import nnls  # start-up: scipy.optimize (~1-3 s) loads only for this fit

    spectra = _detector_spectra(key, belt)
    e = spectra.energy_kev
    w = spectra.weights.sum(axis=0)
    basis = np.stack([get_material(b).mass_attenuation(e) for b in BASIS], axis=1)  # [E, 2]
    target = get_material(material).mass_attenuation(e)
    # Relative error, weighted by where the detectors see photons: -ln T is what must match.
    sw = np.sqrt(w) / target
    coef, _ = nnls(basis * sw[:, None], target * sw)
    return float(coef[0]), float(coef[1])


def basis_coefficients(material: str, profile: ScannerProfile) -> np.ndarray:
    """Basis mass thickness per unit length of ``material``: float32 [2] in (g/cm^2) per cm.

    Multiply by the material's thickness in cm to get (b_water, b_iron) in g/cm^2.
    """
    a_w, a_fe = _basis_coefficients(material, profile.key(), profile.belt)
    rho = get_material(material).density
    return np.array([a_w * rho, a_fe * rho], dtype=np.float32)


@dataclass(frozen=True)
class TransmissionLUT:
    """-ln T for both channels on a regular basis-thickness grid.

    table: float32 [N_water, N_iron, 2] attenuation (channel 0 high, 1 low).
    step:  (g/cm^2 per cell along water, along iron).
    """

    table: np.ndarray
    step: tuple[float, float]

    def attenuation(self, b_water: np.ndarray, b_iron: np.ndarray) -> np.ndarray:
        """Bilinear look-up. b_*: float32 [H, W] g/cm^2 -> float32 [H, W, 2] = (-ln T_high, -ln T_low).

        Values beyond the grid are clamped to its edge (opaque anyway).
        """
        map_y = np.asarray(b_water, np.float32) * np.float32(1.0 / self.step[0])
        map_x = np.asarray(b_iron, np.float32) * np.float32(1.0 / self.step[1])
        return cv2.remap(self.table, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def transmission(self, b_water: np.ndarray, b_iron: np.ndarray) -> np.ndarray:
        """float32 [H, W, 2] = (T_high, T_low) in 0..1."""
        return np.exp(-self.attenuation(b_water, b_iron))

    def basis(self, attenuation: np.ndarray, iterations: int = 12) -> np.ndarray:
        """Inverse look-up: float [H, W, 2] (-ln T_high, -ln T_low) -> float32 [H, W, 2] (b_water, b_iron).

        Newton's method on the bilinear table, started from the monochromatic (small-thickness)
        solution and kept inside the grid. Noise can put a pixel outside what any material gives
        (e.g. negative attenuation in air); it lands on the nearest edge of the grid.
        """
        att = np.asarray(attenuation, np.float32)
        step = np.asarray(self.step, np.float32)
        hi = (np.asarray(self.table.shape[:2], np.float32) - 1) * step  # the grid's far corner
        # slopes at the origin: d(-ln T_ch)/d(b) for each basis, a 2x2 matrix (rows: channel)
        origin = self.table[0, 0]
        m0 = np.stack([(self.table[1, 0] - origin) / step[0], (self.table[0, 1] - origin) / step[1]], axis=1)
        b = np.clip(att @ np.linalg.inv(m0).T.astype(np.float32), 0, hi)
        for _ in range(iterations):
            current = self.attenuation(b[..., 0], b[..., 1])
            f = current - att
            # one-sided differences, stepping inwards at the upper edge of the grid
            dw = np.where(b[..., 0] + step[0] <= hi[0], step[0], -step[0]).astype(np.float32)
            df = np.where(b[..., 1] + step[1] <= hi[1], step[1], -step[1]).astype(np.float32)
            jw = (self.attenuation(b[..., 0] + dw, b[..., 1]) - current) / dw[..., None]  # [H, W, 2]: d/d b_water
            jf = (self.attenuation(b[..., 0], b[..., 1] + df) - current) / df[..., None]  # d/d b_iron
            det = jw[..., 0] * jf[..., 1] - jf[..., 0] * jw[..., 1]
            ok = np.abs(det) > 1e-12  # flat (opaque, clamped) cells: no step
            inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0).astype(np.float32)
            delta_w = (jf[..., 1] * f[..., 0] - jf[..., 0] * f[..., 1]) * inv
            delta_f = (jw[..., 0] * f[..., 1] - jw[..., 1] * f[..., 0]) * inv
            b = np.clip(b - np.stack([delta_w, delta_f], axis=-1), 0, hi)
        return b


@functools.lru_cache(maxsize=64)
def _lut(key: tuple, belt: Layer) -> TransmissionLUT:
    spectra = _detector_spectra(key, belt)
    e = spectra.energy_kev
    mu_w = get_material(BASIS[0]).mass_attenuation(e)
    mu_fe = get_material(BASIS[1]).mass_attenuation(e)
    bw = np.linspace(0.0, LUT_MAX[0], LUT_SIZE[0])
    bf = np.linspace(0.0, LUT_MAX[1], LUT_SIZE[1])
    table = np.empty((LUT_SIZE[0], LUT_SIZE[1], 2), np.float32)
    for i, w in enumerate(bw):  # row by row keeps memory at [N_iron, E]
        trans = np.exp(-(w * mu_w[None, :] + bf[:, None] * mu_fe[None, :]))  # [N_iron, E]
        signal = trans @ spectra.weights.T  # [N_iron, 2]
        table[i] = -np.log(np.maximum(signal, 1e-30))
    return TransmissionLUT(table, (float(bw[1]), float(bf[1])))


def transmission_lut(profile: ScannerProfile) -> TransmissionLUT:
    """The profile's basis LUT (memoised per process; ~0.5 s to build)."""
    return _lut(profile.key(), profile.belt)
