"""Recognise an image file and read its dimensions from the header, without decoding pixels.

This is the decompression-bomb guard of ``wildxray.core.image_io.read_image``: a 200-byte PNG can declare
40000 x 40000 pixels, so the size is checked here before any decoder allocates memory. Also used
to learn image sizes cheaply (YOLO import).

numpy-free parsers for PNG (IHDR) and JPEG (SOF); tifffile reads TIFF tags without the strips;
pydicom reads DICOM with ``stop_before_pixels``. Torch-free.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from wildxray.core.errors import ImageReadError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
_DICOM_SUFFIXES = (".dcm", ".dicom", ".dcs", ".dicos")
# Recognised but not decoded: refusing them by name is clearer than "not an image".
_OTHER_MAGICS = {b"GIF8": "GIF", b"BM": "BMP", b"RIFF": "RIFF/WebP"}
# SOF markers carry the frame size; C4 (DHT), C8 (JPG extension) and CC (DAC) share the range.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # colour type -> channels after palette expansion


@dataclass(frozen=True)
class ImageHeader:
    """What the header of an image file declares.

    format: ``png`` | ``jpeg`` | ``tiff`` | ``dicom``.
    height, width: pixels of one plane. channels: samples per pixel, or planes (pages / frames) for a
    planar file. bits: bits per sample (8 or 16 for what ``read_image`` decodes).
    """

    format: str
    height: int
    width: int
    channels: int
    bits: int

    @property
    def pixels(self) -> int:
        return self.height * self.width


def sniff_format(path: Path, head: bytes) -> str:
    """The container format from the first bytes (and, for preamble-less DICOM, the suffix)."""
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(_JPEG_SOI):
        return "jpeg"
    if head[:4] in _TIFF_MAGICS:
        return "tiff"
    if head[128:132] == b"DICM" or path.suffix.lower() in _DICOM_SUFFIXES:
        return "dicom"
    for magic, name in _OTHER_MAGICS.items():
        if head.startswith(magic):
            raise ImageReadError(path, "unsupported_format", f"{name} files are not supported (PNG, JPEG, TIFF, DICOM)")
    raise ImageReadError(path, "not_an_image", "not a PNG, JPEG, TIFF or DICOM file (unrecognised first bytes)")


def png_header(path: Path, data: bytes) -> ImageHeader:
    """Parse IHDR and walk the chunk list (lengths only) so a cut-off file is caught before decoding."""
    if len(data) < 33:
        raise ImageReadError(path, "truncated", f"PNG ends after {len(data)} bytes, inside the IHDR chunk")
    length, ctype = struct.unpack(">I4s", data[8:16])
    if ctype != b"IHDR" or length != 13:
        raise ImageReadError(path, "corrupt", "PNG does not start with a 13-byte IHDR chunk")
    ihdr = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(b"IHDR" + ihdr) != crc:
        raise ImageReadError(path, "corrupt", "PNG IHDR checksum mismatch")
    width, height, bits, colour_type = struct.unpack(">IIBB", ihdr[:10])
    if colour_type not in _PNG_CHANNELS:
        raise ImageReadError(path, "corrupt", f"PNG colour type {colour_type} is invalid")
    if width == 0 or height == 0:
        raise ImageReadError(path, "corrupt", f"PNG declares a {width}x{height} image")
    header = ImageHeader("png", height, width, _PNG_CHANNELS[colour_type], bits)
    _walk_png_chunks(path, data)
    return header


def _walk_png_chunks(path: Path, data: bytes) -> None:
    pos, saw_idat = 8, False
    while True:
        if pos + 8 > len(data):
            raise ImageReadError(path, "truncated", f"PNG ends at byte {len(data)} before the IEND chunk")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise ImageReadError(
                path, "truncated", f"PNG chunk {ctype!r} at byte {pos} needs {end} bytes, file has {len(data)}"
            )
        saw_idat |= ctype == b"IDAT"
        if ctype == b"IEND":
            break
        pos = end
    if not saw_idat:
        raise ImageReadError(path, "truncated", "PNG has no IDAT (pixel data) chunk")


def jpeg_header(path: Path, data: bytes) -> ImageHeader:
    """Walk JPEG markers to the SOF segment (frame size) and check an EOI follows the scan data."""
    pos, header, sos = 2, None, None
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ImageReadError(path, "corrupt", f"JPEG marker expected at byte {pos}")
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= len(data):
            break
        marker = data[pos]
        pos += 1
        if marker == 0xD8 or marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            continue
        if marker == 0xD9:
            break
        if pos + 2 > len(data):
            break
        (seg_len,) = struct.unpack(">H", data[pos : pos + 2])
        if marker in _JPEG_SOF:
            if pos + 8 > len(data):
                break
            bits, height, width, ncomp = struct.unpack(">BHHB", data[pos + 2 : pos + 8])
            header = ImageHeader("jpeg", height, width, ncomp, bits)
        if marker == 0xDA:
            sos = pos
            break
        pos += seg_len
    if header is None:
        raise ImageReadError(path, "truncated" if sos is None else "corrupt", "JPEG has no frame header (SOF)")
    if sos is None:
        raise ImageReadError(path, "truncated", "JPEG ends before its scan data (SOS)")
    # Inside entropy-coded data 0xFF is byte-stuffed, so FFD9 after SOS can only be the EOI marker.
    if data.rfind(b"\xff\xd9") < sos:
        raise ImageReadError(path, "truncated", "JPEG scan data has no end-of-image marker (file cut short)")
    if header.height == 0 or header.width == 0:
        raise ImageReadError(path, "unsupported_format", "JPEG with the height defined later (DNL) is not supported")
    if header.bits != 8:
        raise ImageReadError(path, "unsupported_format", f"{header.bits}-bit JPEG is not supported (8-bit only)")
    return header


def tiff_header(path: Path) -> ImageHeader:
    """Read the first series' shape from TIFF tags and check every strip/tile lies inside the file."""
    import tifffile  # start-up: tifffile loads when a TIFF is read, not with the station

    size = path.stat().st_size
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            shape, axes, dtype = tuple(series.shape), series.axes, series.dtype
            for page in tif.pages:
                for offset, count in zip(page.dataoffsets, page.databytecounts):
                    if offset + count > size:
                        raise ImageReadError(
                            path, "truncated", f"TIFF data at byte {offset} (+{count}) lies beyond the end ({size})"
                        )
            _check_pages_in_series(path, list(tif.pages), len(series.pages))
    except ImageReadError:
        raise
    except Exception as exc:  # tifffile raises several types for broken tag structures
        raise ImageReadError(path, "corrupt", f"TIFF structure unreadable: {exc}") from exc
    # Drop singleton axes (e.g. a leading page axis of length 1) but never Y or X.
    kept = [(n, a) for n, a in zip(shape, axes) if n != 1 or a in "YX"]
    if [a for _, a in kept if a in "YX"] != ["Y", "X"]:
        raise ImageReadError(path, "unsupported_format", f"TIFF series with axes {axes!r} is not a 2-D image")
    dims = dict((a, n) for n, a in kept if a in "YX")
    extra = [n for n, a in kept if a not in "YX"]
    if len(extra) > 1:
        raise ImageReadError(path, "wrong_channels", f"TIFF series of shape {shape} (axes {axes}) has too many axes")
    return ImageHeader("tiff", dims["Y"], dims["X"], extra[0] if extra else 1, dtype.itemsize * 8)


def _check_pages_in_series(path: Path, pages: list, in_series: int) -> None:
    """Refuse a TIFF whose full-resolution pages are not all part of its first series.

    ``read_image`` decodes the first series only; tifffile leaves out of it a page of another size
    (or a page written as a series of its own), which used to be dropped silently: a [high, low] scan
    with a mis-sized low page read as a grey view of its high page. Reduced-resolution pages
    (NewSubfileType bit 0: previews, thumbnails) are not images of the scan and are ignored.
    """
    full = [p for p in pages if not int(getattr(p, "subfiletype", 0) or 0) & 1]
    if len(full) <= in_series:
        return
    sizes = [f"{p.imagewidth}x{p.imagelength}" for p in full]
    if len(set(sizes)) > 1:
        listed = ", ".join(f"page {i + 1} is {s}" for i, s in enumerate(sizes))
        raise ImageReadError(path, "wrong_channels", f"TIFF pages of different sizes ({listed}): a dual-energy scan "
                             "needs its [high, low] pages at one size")
    raise ImageReadError(path, "wrong_channels", f"TIFF has {len(full)} pages of {sizes[0]} stored as separate "
                         f"images, only {in_series} in the first: write [high, low] as one 2-page image")


def dicom_header(path: Path):
    """Read a DICOM/DICOS data set up to (not including) the pixel data. Returns (header, dataset)."""
    import pydicom  # start-up: pydicom (~1 s) loads when a DICOM is read, not with the station

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        rows, cols = int(ds.Rows), int(ds.Columns)
        samples = int(getattr(ds, "SamplesPerPixel", 1))
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        bits = int(ds.BitsAllocated)
    except AttributeError as exc:
        raise ImageReadError(path, "not_an_image", f"DICOM data set without image attributes ({exc})") from exc
    except Exception as exc:
        raise ImageReadError(path, "corrupt", f"DICOM header unreadable: {exc}") from exc
    if rows <= 0 or cols <= 0:
        raise ImageReadError(path, "corrupt", f"DICOM declares a {rows}x{cols} image")
    if frames > 1 and samples > 1:
        raise ImageReadError(path, "wrong_channels", f"DICOM with {frames} frames of {samples} samples each")
    if frames > 2:  # refused before its pixel data is read: a CT volume can be gigabytes
        raise ImageReadError(
            path, "wrong_channels", f"DICOM with {frames} frames: a 2-D scan has 1, a dual-energy scan 2 (3-D volumes "
            "are not supported)"
        )
    return ImageHeader("dicom", rows, cols, max(frames, samples), bits), ds


def read_image_header(path: str | Path, max_header_bytes: int = 1 << 20) -> ImageHeader:
    """The declared size of an image file, without decoding it (and without checking truncation for
    PNG/JPEG beyond the first ``max_header_bytes``). Raises ``ImageReadError`` like ``read_image``."""
    path = Path(path)
    head = check_readable(path, max_header_bytes)
    fmt = sniff_format(path, head)
    if fmt == "png":
        return png_header(path, head) if len(head) < max_header_bytes else _png_ihdr_only(path, head)
    if fmt == "jpeg":
        return _jpeg_sof_only(path, head)
    if fmt == "tiff":
        return tiff_header(path)
    return dicom_header(path)[0]


def check_readable(path: Path, nbytes: int) -> bytes:
    """The first ``nbytes`` of a regular, non-empty file."""
    if not path.is_file():
        raise ImageReadError(path, "missing_file", "no such file")
    if path.stat().st_size == 0:
        raise ImageReadError(path, "empty_file", "the file is empty (0 bytes)")
    with path.open("rb") as f:
        return f.read(nbytes)


def _png_ihdr_only(path: Path, head: bytes) -> ImageHeader:
    # Large file: only the IHDR is in ``head``; the chunk walk happens in read_image.
    try:
        return png_header(path, head)
    except ImageReadError as exc:
        if exc.code != "truncated":
            raise
    width, height, bits, colour_type = struct.unpack(">IIBB", head[16:26])
    return ImageHeader("png", height, width, _PNG_CHANNELS.get(colour_type, 3), bits)


def _jpeg_sof_only(path: Path, head: bytes) -> ImageHeader:
    try:
        return jpeg_header(path, head)
    except ImageReadError as exc:
        if exc.code != "truncated" or "end-of-image" not in exc.message:
            raise
    # The SOF was found; only the EOI lies beyond ``head``. Re-parse without the EOI check.
    return jpeg_header(path, head + b"\xff\xd9")
