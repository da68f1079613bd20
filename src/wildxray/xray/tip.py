"""Threat image projection (TIP): insert a threat scanned alone into a clean parcel scan.

Physics: transmissions multiply along a ray (attenuations add), so projecting a threat is a
per-channel product of the two raw images in transmission space. This holds exactly for a
monochromatic beam. With a polychromatic beam a dense parcel has already hardened the beam, so
the threat attenuates less behind it than alone and the plain product over-attenuates (by ~2 % of
-ln T in the low channel behind typical content). Given the scanner's basis look-up table
(``lut=``), ``project_threat`` corrects this: it inverts both images to basis thicknesses
(water, iron), adds those, and renders the sum, keeping each image's own noise (see
``_hardening_correction``). It works for synthetic and real raw scans alike, as long as both are
flat-fielded to the empty belt (65535 = air), which is how scanners store raw data; for a real
scanner the correction is only as good as the profile's match to its spectrum.

Pseudo-colour (8-bit RGB) inputs: ``project_threat_rgb`` multiplies normalised RGB. Caveat: the
pseudo-colour map is not multiplicative (hue encodes a ratio of attenuations), so overlaps get
plausible brightness but not the colour the scanner would show; prefer raw scans.
"""

from __future__ import annotations

import cv2
import numpy as np

from wildxray.xray.physics import TransmissionLUT
from wildxray.xray.sensor import from_raw, to_raw


def _check(raw: np.ndarray, what: str) -> None:
    if raw.ndim != 3 or raw.shape[2] != 2 or raw.dtype != np.uint16:
        raise ValueError(f"{what}: expected raw dual energy HxWx2 uint16 [high, low], got {raw.shape} {raw.dtype}")


def _window(parcel_shape: tuple[int, ...], threat_shape: tuple[int, ...], at: tuple[int, int]):
    """Overlap of a threat patch placed with its top-left at ``at`` = (x, y): (parcel slices, threat slices)."""
    x, y = int(at[0]), int(at[1])
    th, tw = threat_shape[:2]
    ph, pw = parcel_shape[:2]
    xa, ya, xb, yb = max(x, 0), max(y, 0), min(x + tw, pw), min(y + th, ph)
    if xb <= xa or yb <= ya:
        raise ValueError(f"threat of {tw}x{th} at {at} does not overlap the {pw}x{ph} parcel scan")
    return (slice(ya, yb), slice(xa, xb)), (slice(ya - y, yb - y), slice(xa - x, xb - x))


def _attenuation(raw: np.ndarray) -> np.ndarray:
    """uint16 raw -> float32 -ln T (air 0; a zero count is capped at -ln(0.5/65535))."""
    return -np.log(np.maximum(from_raw(raw), np.float32(0.5 / 65535)))


def _hardening_correction(a_parcel: np.ndarray, a_threat: np.ndarray, lut: TransmissionLUT) -> np.ndarray:
    """Beam-hardening term to add to ``a_parcel + a_threat`` (both -ln T, float32 [h, w, 2]).

    ``f(g(a_p) + g(a_t)) - f(g(a_p)) - f(g(a_t))`` with ``f`` the LUT and ``g`` its inverse: the
    interaction of the two material paths. Written as a correction to the plain sum, not as
    ``f(g(a_p) + g(a_t))`` itself, so each image's noise passes through unchanged and air in the
    threat (``g(a_t) = 0``) changes nothing. ``-ln T`` is concave in material thickness and zero at
    zero, so the correction lies in [-min(a_p, a_t), 0]; clipping to that interval keeps noisy
    or opaque pixels (where the inverse is poor) physical.
    """
    b_p, b_t = lut.basis(a_parcel), lut.basis(a_threat)
    joint = lut.attenuation(b_p[..., 0] + b_t[..., 0], b_p[..., 1] + b_t[..., 1])
    term = joint - lut.attenuation(b_p[..., 0], b_p[..., 1]) - lut.attenuation(b_t[..., 0], b_t[..., 1])
    return np.clip(term, -np.minimum(a_parcel, a_threat).clip(min=0), 0)


def project_threat(parcel_raw: np.ndarray, threat_raw: np.ndarray, at: tuple[int, int],
                   lut: TransmissionLUT | None = None) -> np.ndarray:
    """Parcel raw uint16 [H, W, 2] x threat raw uint16 [h, w, 2] placed at (x, y) -> new raw [H, W, 2].

    The threat patch is an empty-belt scan (air = 65535 around the item); parts falling outside
    the parcel image are dropped. ``lut``: the scanner profile's basis table
    (``physics.transmission_lut``) to correct for beam hardening; without it, the plain product.
    """
    _check(parcel_raw, "parcel")
    _check(threat_raw, "threat")
    (pr, pc), (tr, tc) = _window(parcel_raw.shape, threat_raw.shape, at)
    out = parcel_raw.copy()
    if lut is None:
        out[pr, pc] = to_raw(from_raw(parcel_raw[pr, pc]) * from_raw(threat_raw[tr, tc]))
        return out
    a_p, a_t = _attenuation(parcel_raw[pr, pc]), _attenuation(threat_raw[tr, tc])
    projected = to_raw(np.exp(-(a_p + a_t + _hardening_correction(a_p, a_t, lut))))
    # where the threat patch is air the correction is 0; keep those parcel pixels bit for bit
    item = (threat_raw[tr, tc] < 65535).any(axis=2)
    out[pr, pc] = np.where(item[..., None], projected, parcel_raw[pr, pc])
    return out


def project_threat_rgb(parcel_rgb: np.ndarray, threat_rgb: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """Pseudo-colour fallback (see the module caveat): multiply normalised RGB, uint8 [H, W, 3]."""
    (pr, pc), (tr, tc) = _window(parcel_rgb.shape, threat_rgb.shape, at)
    out = parcel_rgb.copy()
    prod = parcel_rgb[pr, pc].astype(np.float32) * threat_rgb[tr, tc].astype(np.float32) / 255.0
    out[pr, pc] = np.clip(prod + 0.5, 0, 255).astype(np.uint8)
    return out


def footprint(raw: np.ndarray, air_threshold: float = 0.97) -> np.ndarray:
    """bool [H, W]: pixels that attenuate (either channel below ``air_threshold`` transmission)."""
    t = from_raw(raw)
    mask = ((t[..., 0] < air_threshold) | (t[..., 1] < air_threshold)).astype(np.uint8)
    # drop isolated noise specks (no attenuating 8-neighbour) but keep one-pixel-thin items
    neighbours = cv2.boxFilter(mask, cv2.CV_16U, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return (mask > 0) & (neighbours >= 2)


def mask_box(mask: np.ndarray, offset: tuple[int, int] = (0, 0)) -> list[float] | None:
    """Tight xyxy (exclusive max) box of a bool mask, shifted by ``offset`` = (x, y)."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if len(rows) == 0:
        return None
    return [float(cols[0] + offset[0]), float(rows[0] + offset[1]), float(cols[-1] + 1 + offset[0]),
            float(rows[-1] + 1 + offset[1])]


def place_mask(patch_mask: np.ndarray, at: tuple[int, int], image_shape: tuple[int, ...]) -> np.ndarray:
    """A patch's bool [h, w] mask placed with its top-left at ``at`` = (x, y) -> bool [H, W] in the
    frame of an image of ``image_shape``, clipped to it."""
    (pr, pc), (tr, tc) = _window(image_shape, patch_mask.shape, at)
    out = np.zeros(image_shape[:2], bool)
    out[pr, pc] = patch_mask[tr, tc]
    return out


def projected_mask(threat_raw: np.ndarray, at: tuple[int, int], parcel_shape: tuple[int, ...],
                   air_threshold: float = 0.97) -> np.ndarray:
    """bool [H, W]: the threat's footprint (``footprint``) after projection at ``at``, in the parcel
    image's frame, clipped to it."""
    return place_mask(footprint(threat_raw, air_threshold), at, parcel_shape)


def projected_box(threat_raw: np.ndarray, at: tuple[int, int], parcel_shape: tuple[int, ...],
                  air_threshold: float = 0.97) -> list[float] | None:
    """Box of the threat's visible footprint after projection at ``at``, clipped to the parcel image."""
    return mask_box(projected_mask(threat_raw, at, parcel_shape, air_threshold))


def parcel_extent(parcel_raw: np.ndarray, air_threshold: float = 0.97) -> tuple[int, int, int, int]:
    """xyxy box of everything that attenuates in a parcel scan (the parcel and its contents)."""
    box = mask_box(footprint(parcel_raw, air_threshold))
    if box is None:
        raise ValueError("parcel scan is empty belt everywhere: nothing to project into")
    return tuple(int(v) for v in box)  # type: ignore[return-value]


def choose_position(rng: np.random.Generator, parcel_raw: np.ndarray, threat_raw: np.ndarray,
                    air_threshold: float = 0.97) -> tuple[int, int]:
    """Top-left (x, y) that puts the threat's footprint inside the parcel's extent (centred if larger)."""
    x0, y0, x1, y1 = parcel_extent(parcel_raw, air_threshold)
    fb = mask_box(footprint(threat_raw, air_threshold))
    if fb is None:
        raise ValueError("threat scan shows no item (empty belt everywhere)")
    fx0, fy0, fx1, fy1 = (int(v) for v in fb)
    fw, fh = fx1 - fx0, fy1 - fy0

    def axis(lo: int, hi: int, size: int, off: int) -> int:
        if size >= hi - lo:
            return (lo + hi - size) // 2 - off
        return int(rng.integers(lo, hi - size + 1)) - off

    return axis(x0, x1, fw, fx0), axis(y0, y1, fh, fy0)


def crop_threat(raw: np.ndarray, air_threshold: float = 0.97, margin: int = 2) -> np.ndarray:
    """An empty-belt scan of a seized item -> patch around the item, air set exactly to 1.

    Pixels outside the (slightly grown) footprint become 65535 so belt noise is not projected.
    """
    _check(raw, "threat")
    mask = footprint(raw, air_threshold)
    box = mask_box(mask)
    if box is None:
        raise ValueError("threat scan shows no item (empty belt everywhere)")
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0 = max(x0 - margin, 0), max(y0 - margin, 0)
    x1, y1 = min(x1 + margin, raw.shape[1]), min(y1 + margin, raw.shape[0])
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)).astype(bool)
    patch = raw[y0:y1, x0:x1].copy()
    patch[~grown[y0:y1, x0:x1]] = 65535
    return patch
