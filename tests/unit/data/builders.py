"""Builders of small real files for the data tests: DICOM files, crafted PNG bytes, textured images."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose IHDR declares ``width x height`` RGB pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def write_dicom(
    path: Path,
    pixels: np.ndarray,
    frames: int = 1,
    samples: int = 1,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
) -> Path:
    """Write an uncompressed DICOM with pydicom. ``pixels``: [frames, H, W] when frames > 1,
    [H, W, samples] when samples > 1, else [H, W]."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    h, w = pixels.shape[-2:] if samples == 1 else pixels.shape[:2]
    ds.Rows, ds.Columns = h, w
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples > 1:
        ds.PlanarConfiguration = 0
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = np.ascontiguousarray(pixels).astype(pixels.dtype.newbyteorder("<")).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def solid_image(height: int, width: int, rgb: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """HxWx3 uint8 with a little texture so compression and resizing are exercised."""
    rng = np.random.default_rng(seed)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = rgb
    img[::7, ::5] = rng.integers(0, 256, size=(len(range(0, height, 7)), len(range(0, width, 5)), 3))
    return img
