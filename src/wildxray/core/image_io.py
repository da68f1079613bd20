"""Image I/O: every image file wildxray touches enters through ``read_image``.

Torch-free (numpy, OpenCV, tifffile, pydicom only): the scanner station imports this module.

What ``read_image`` returns:
- HxWx3 uint8 RGB for 8-bit images (PNG, JPEG, TIFF, DICOM). Grey is repeated to 3 channels,
  alpha is dropped, a 16-bit PNG is scaled to 8 bits.
- HxWx2 uint16 ``[high, low]`` transmission for a dual-energy raw scan: a 16-bit TIFF with two
  channels (HxWx2 interleaved or 2xHxW planar/two pages), or a 16-bit DICOM/DICOS with two frames
  or two samples per pixel.
- A single-channel 16-bit TIFF or DICOM is a grey view: scaled to uint8 (full range for TIFF,
  ``BitsStored`` for DICOM, MONOCHROME1/MINISWHITE inverted) and repeated to 3 channels.

Failures raise ``ImageReadError(path, code, message)``; codes are listed in
``wildxray.core.errors.IMAGE_ERROR_CODES``. The pixel count declared in the header is checked
against ``max_pixels`` before anything is decoded.

OpenCV's BGR order never leaves this module.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np

from wildxray.core.atomic_write import atomic_write_bytes
from wildxray.core.colour import encode_dual_energy
from wildxray.core.errors import ImageReadError
from wildxray.core.image_header import (
    ImageHeader,
    check_readable,
    dicom_header,
    jpeg_header,
    png_header,
    read_image_header,
    sniff_format,
    tiff_header,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ImageHeader",
    "ImageReadError",
    "read_image",
    "read_image_header",
    "to_model_image",
    "write_dual_energy_tiff",
    "write_image",
]

DEFAULT_MAX_PIXELS = 50_000_000
_MAX_FILE_BYTES = 2 << 30  # no supported scan is anywhere near 2 GiB on disk


def read_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file: HxWx3 uint8 RGB, or HxWx2 uint16 ``[high, low]`` dual-energy raw.

    Raises ``ImageReadError`` for a missing, empty, non-image, truncated, corrupt, wrong-channel,
    unsupported or oversized (more than ``max_pixels`` declared in the header) file.
    """
    path = Path(path)
    head = check_readable(path, 1024)
    fmt = sniff_format(path, head)
    if fmt in ("png", "jpeg"):
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise ImageReadError(path, "too_large", f"file of {path.stat().st_size} bytes")
        data = path.read_bytes()
        header = png_header(path, data) if fmt == "png" else jpeg_header(path, data)
        _check_pixels(path, header, max_pixels)
        return _decode_png_jpeg(path, data, header)
    if fmt == "tiff":
        header = tiff_header(path)
        _check_pixels(path, header, max_pixels)
        return _decode_tiff(path, header)
    header, _ = dicom_header(path)
    _check_pixels(path, header, max_pixels)
    return _decode_dicom(path, header)


def _check_pixels(path: Path, header: ImageHeader, max_pixels: int) -> None:
    if header.pixels > max_pixels:
        raise ImageReadError(
            path,
            "too_large",
            f"{header.format.upper()} header declares {header.width}x{header.height} = {header.pixels} pixels, "
            f"more than the limit of {max_pixels}",
        )


def _decode_png_jpeg(path: Path, data: bytes, header: ImageHeader) -> np.ndarray:
    buf = np.frombuffer(data, np.uint8)
    if header.format == "jpeg":
        # IMREAD_COLOR applies the EXIF orientation (as annotation tools show photos) and turns
        # grey or CMYK JPEGs into 3 channels.
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    else:
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)  # keep 16-bit and alpha to convert them ourselves
    if img is None:
        raise ImageReadError(path, "corrupt", f"{header.format.upper()} pixel data does not decode")
    if img.dtype == np.uint16:
        img = _scale_to_uint8(img, 16)
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    code = {3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}.get(img.shape[2])
    if code is None:
        raise ImageReadError(path, "wrong_channels", f"decoded to {img.shape[2]} channels")
    return cv2.cvtColor(img, code)


def _decode_tiff(path: Path, header: ImageHeader) -> np.ndarray:
    import tifffile  # start-up: tifffile loads when a TIFF is read, not with the station

    try:
        with tifffile.TiffFile(path) as tif:
            photometric = int(tif.pages[0].photometric)
            series = tif.series[0]
            axes = series.axes
            arr = series.asarray()
    except Exception as exc:
        if "imagecodecs" in str(exc):  # LZW/JPEG/... strips: OpenCV's libtiff decodes the common ones
            return _decode_tiff_with_opencv(path, header, exc)
        raise ImageReadError(path, "corrupt", f"TIFF pixel data does not decode: {exc}") from exc
    # Same axis bookkeeping as tiff_header: drop singleton non-image axes, channels go last.
    drop = tuple(i for i, (n, a) in enumerate(zip(arr.shape, axes)) if n == 1 and a not in "YX")
    arr = np.squeeze(arr, axis=drop)
    axes = "".join(a for i, a in enumerate(axes) if i not in drop)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    elif not axes.endswith("S"):  # planar samples or pages first: [C, H, W] -> [H, W, C]
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim != 3 or arr.shape[:2] != (header.height, header.width):
        raise ImageReadError(path, "wrong_channels", f"TIFF series of shape {arr.shape} (axes {axes}) is not HxWxC")
    if photometric == 3:  # PALETTE
        raise ImageReadError(path, "unsupported_format", "palette (indexed-colour) TIFF is not supported")
    if photometric == 0:  # MINISWHITE: 0 means white
        arr = np.iinfo(arr.dtype).max - arr if arr.dtype.kind == "u" else arr
    return _channels_to_output(path, arr, "TIFF", bits_stored=arr.dtype.itemsize * 8)


def _decode_tiff_with_opencv(path: Path, header: ImageHeader, cause: Exception) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ImageReadError(path, "unsupported_format", f"TIFF compression not decodable here: {cause}") from cause
    if img.ndim == 2:
        img = img[:, :, None]
    elif img.shape[2] in (3, 4):  # OpenCV hands colour back as BGR(A)
        img = img[:, :, [2, 1, 0, 3][: img.shape[2]]]
    return _channels_to_output(path, img, "TIFF", bits_stored=img.dtype.itemsize * 8)


def _decode_dicom(path: Path, header: ImageHeader) -> np.ndarray:
    import pydicom  # start-up: pydicom (~1 s) loads when a DICOM is read, not with the station

    try:
        ds = pydicom.dcmread(path, force=True)
    except Exception as exc:
        raise ImageReadError(path, "truncated", f"DICOM data set unreadable: {exc}") from exc
    if "PixelData" not in ds:
        raise ImageReadError(path, "not_an_image", "DICOM data set without pixel data")
    if int(getattr(ds, "PixelRepresentation", 0)) == 1:
        raise ImageReadError(path, "unsupported_format", "signed DICOM pixel data is not supported")
    meta = getattr(ds, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    if syntax is not None and syntax.is_compressed:
        try:
            arr = ds.pixel_array
        except Exception as exc:
            message = f"compressed DICOM ({syntax.name}) does not decode: {exc}"
            raise ImageReadError(path, "unsupported_format", message) from exc
        arr = np.moveaxis(arr, 0, -1) if header.channels > 1 and arr.shape[0] == header.channels else arr
        arr = arr[:, :, None] if arr.ndim == 2 else arr
    else:
        little = syntax is None or syntax.is_little_endian
        arr = _uncompressed_dicom_pixels(path, ds, header, little)
    photometric = str(getattr(ds, "PhotometricInterpretation", ""))
    bits_stored = int(getattr(ds, "BitsStored", header.bits))
    if photometric == "MONOCHROME1":  # 0 means white
        top = (1 << bits_stored) - 1
        arr = (top - np.minimum(arr, top)).astype(arr.dtype)
    elif photometric.startswith("YBR") and syntax is not None and not syntax.is_compressed and arr.shape[2] == 3:
        from pydicom.pixels import convert_color_space  # start-up: as pydicom above

        arr = convert_color_space(arr, photometric, "RGB")
    return _channels_to_output(path, arr, "DICOM", bits_stored=bits_stored)


def _uncompressed_dicom_pixels(path: Path, ds, header: ImageHeader, little_endian: bool) -> np.ndarray:
    """HxWxC from native PixelData. Done here, not via pydicom, because pydicom refuses 2 samples per
    pixel, which is how some scanners store [high, low]."""
    if header.bits not in (8, 16):
        raise ImageReadError(path, "unsupported_format", f"{header.bits}-bit DICOM samples (expected 8 or 16)")
    dtype = np.dtype(np.uint8) if header.bits == 8 else np.dtype("<u2" if little_endian else ">u2")
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    samples = int(getattr(ds, "SamplesPerPixel", 1))
    h, w = header.height, header.width
    expected = h * w * frames * samples * dtype.itemsize
    data = ds.PixelData
    if len(data) < expected:
        raise ImageReadError(
            path, "truncated", f"DICOM pixel data has {len(data)} bytes, {h}x{w}x{frames * samples} needs {expected}"
        )
    flat = np.frombuffer(data, dtype, count=expected // dtype.itemsize).astype(dtype.newbyteorder("="))
    if frames > 1:  # frames x H x W -> H x W x frames (dual energy: [high, low])
        return np.moveaxis(flat.reshape(frames, h, w), 0, -1)
    if samples > 1 and int(getattr(ds, "PlanarConfiguration", 0)) == 1:
        return np.moveaxis(flat.reshape(samples, h, w), 0, -1)
    return flat.reshape(h, w, samples)


def _channels_to_output(path: Path, arr: np.ndarray, fmt: str, bits_stored: int) -> np.ndarray:
    """HxWxC from a decoder -> HxWx3 uint8 RGB or HxWx2 uint16 dual energy (see the module doc)."""
    c = arr.shape[2]
    if arr.dtype == np.uint8:
        if c in (1, 2):  # grey (+ alpha)
            return np.ascontiguousarray(np.repeat(arr[:, :, :1], 3, axis=2))
        if c in (3, 4):  # RGB (+ alpha)
            return np.ascontiguousarray(arr[:, :, :3])
        raise ImageReadError(path, "wrong_channels", f"8-bit {fmt} with {c} channels (expected 1, 3 or 4)")
    if arr.dtype == np.uint16:
        if c == 2:
            return np.ascontiguousarray(arr)
        if c == 1:
            grey = _scale_to_uint8(arr[:, :, 0], bits_stored)
            return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
        raise ImageReadError(
            path,
            "wrong_channels",
            f"16-bit {fmt} with {c} channels: a dual-energy scan has 2 ([high, low]), a grey view 1",
        )
    raise ImageReadError(path, "unsupported_format", f"{fmt} sample type {arr.dtype} (expected uint8 or uint16)")


def _scale_to_uint8(arr: np.ndarray, bits: int) -> np.ndarray:
    """Linear map of ``0 .. 2**bits - 1`` onto ``0 .. 255`` (rounded), fixed so all scans compare."""
    top = (1 << bits) - 1
    wide = np.minimum(arr.astype(np.uint32), top)
    return ((wide * 255 + top // 2) // top).astype(np.uint8)


def to_model_image(array: np.ndarray, rgb_modality: str = "xray") -> tuple[np.ndarray, str]:
    """The model's input image and its modality, from what ``read_image`` returned.

    HxWx2 uint16 dual-energy raw -> ``wildxray.core.colour.encode_dual_energy`` (HxWx3 uint8 RGB),
    modality ``xray_dual``. HxWx3 uint8 RGB passes through unchanged with modality ``rgb_modality``
    (the pixels cannot tell a pseudo-colour X-ray from a photo; the caller knows).
    """
    if array.ndim == 3 and array.shape[2] == 2 and array.dtype == np.uint16:
        return encode_dual_energy(array), "xray_dual"
    if array.ndim == 3 and array.shape[2] == 3 and array.dtype == np.uint8:
        return array, rgb_modality
    raise ValueError(
        f"to_model_image expects HxWx3 uint8 RGB or HxWx2 uint16 dual energy, got {array.shape} {array.dtype}"
    )


def write_image(path: str | Path, rgb: np.ndarray) -> None:
    """Write an HxWx3 uint8 RGB (or HxW grey) image; the format follows the suffix (.png, .jpg, .tif)."""
    path = Path(path)
    if rgb.dtype != np.uint8 or not (rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] == 3)):
        raise ValueError(f"write_image({path}): expects HxWx3 uint8 RGB or HxW uint8, got {rgb.shape} {rgb.dtype}")
    if path.suffix.lower() in (".tif", ".tiff"):
        # tifffile + zlib, not OpenCV's LZW default, so tifffile reads it back without imagecodecs.
        atomic_write_bytes(path, _tiff_bytes(rgb, photometric="rgb" if rgb.ndim == 3 else "minisblack"))
        return
    pixels = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(path.suffix.lower() or ".png", pixels)
    if not ok:
        raise ValueError(f"write_image({path}): OpenCV cannot encode the suffix {path.suffix!r}")
    atomic_write_bytes(path, encoded.tobytes())


def write_dual_energy_tiff(path: str | Path, raw: np.ndarray) -> None:
    """Write an HxWx2 uint16 ``[high, low]`` dual-energy scan as a zlib-compressed 2-sample TIFF."""
    path = Path(path)
    if raw.dtype != np.uint16 or raw.ndim != 3 or raw.shape[2] != 2:
        raise ValueError(
            f"write_dual_energy_tiff({path}): expects HxWx2 uint16 [high, low], got {raw.shape} {raw.dtype}"
        )
    atomic_write_bytes(path, _tiff_bytes(raw, photometric="minisblack", metadata={"channels": ["high", "low"]}))


def _tiff_bytes(pixels: np.ndarray, photometric: str, metadata: dict | None = None) -> bytes:
    import tifffile  # start-up: tifffile loads when a TIFF is written, not with the station

    buf = io.BytesIO()
    tifffile.imwrite(
        buf,
        np.ascontiguousarray(pixels),
        photometric=photometric,
        planarconfig="contig" if pixels.ndim == 3 else None,
        compression="zlib",
        metadata=metadata if metadata is not None else {},
    )
    return buf.getvalue()
