"""The X-ray sensor (the scanner's detector array; the neural network is ``models/detector.py``): its
effects on ideal transmissions: blur, quantum and electronic noise, line-scan artefacts, 16-bit
quantisation.

Raw encoding: uint16 0..65535 = transmission 0..1 relative to the empty belt (65535 = air).
"""

from __future__ import annotations

import cv2
import numpy as np

from wildxray.xray.scanner import ScannerProfile

#: Below this many expected quanta the Gaussian approximation of Poisson noise is replaced by
#: true Poisson draws (dense metal, where the distribution is visibly skewed).
POISSON_BELOW = 30.0


def to_raw(transmission: np.ndarray) -> np.ndarray:
    """float [H, W, 2] transmission -> uint16 raw (clipped to 0..1)."""
    scaled = np.clip(transmission, 0.0, 1.0)
    scaled *= np.float32(65535.0)
    scaled += np.float32(0.5)
    return scaled.astype(np.uint16)


def from_raw(raw: np.ndarray) -> np.ndarray:
    """uint16 raw [H, W, 2] -> float32 transmission."""
    return raw.astype(np.float32) * np.float32(1.0 / 65535.0)


def apply_detector(transmission: np.ndarray, profile: ScannerProfile, rng: np.random.Generator,
                   noise: bool = True) -> np.ndarray:
    """Ideal transmission float32 [H, W, 2] (high, low) -> measured raw uint16 [H, W, 2].

    Order follows the signal chain: scintillator blur, quantum noise on detected counts, electronic
    noise, then gain errors that flat-field calibration leaves behind (per detector element, i.e.
    per row: streaks along the belt) and tube flicker (per scan line, i.e. per column).
    """
    h, w, _ = transmission.shape
    out = np.empty_like(transmission, dtype=np.float32)
    # Full-frame float32 passes done in place: at 640x480 every fresh temporary costs a pass of
    # page faults as well as its arithmetic.
    for ch, (sigma, quanta) in enumerate(((profile.blur_sigma_high_px, profile.photons_high),
                                          (profile.blur_sigma_low_px, profile.photons_low))):
        t = transmission[..., ch].astype(np.float32)
        if sigma > 0:
            t = cv2.GaussianBlur(t, (0, 0), sigma)
        if noise:
            # Quantum and electronic noise are independent Gaussians: one draw with summed variance.
            n = np.multiply(t, np.float32(quanta), out=t)
            counts = np.maximum(n, 0.0)
            counts += np.float32(profile.electronic_noise ** 2)
            np.sqrt(counts, out=counts)
            counts *= rng.standard_normal((h, w), dtype=np.float32)
            counts += n
            low = n < POISSON_BELOW
            if low.any():
                lam = np.maximum(n[low], 0.0)
                counts[low] = rng.poisson(lam).astype(np.float32) + np.float32(profile.electronic_noise) * \
                    rng.standard_normal(lam.shape, dtype=np.float32)
            t = np.divide(counts, np.float32(quanta), out=counts)
        out[..., ch] = t
    if noise:
        gain = 1.0 + profile.column_gain_std * rng.standard_normal(h).astype(np.float32)
        flicker = 1.0 + profile.row_flicker_std * rng.standard_normal(w).astype(np.float32)
        out *= gain[:, None, None] * flicker[None, :, None]
        if rng.random() < profile.dead_line_prob:  # a weak detector element: a streak through everything
            out[int(rng.integers(0, h))] *= np.float32(rng.uniform(0.85, 0.95))
        if profile.module_gain_std > 0:  # drawn only when asked: older profiles keep their scans
            cards = -(-h // profile.module_elements)
            card_gain = 1.0 + profile.module_gain_std * rng.standard_normal(cards).astype(np.float32)
            out *= np.repeat(card_gain, profile.module_elements)[:h, None, None]
    return to_raw(out)
