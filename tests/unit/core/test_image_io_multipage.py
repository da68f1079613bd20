"""Multi-page TIFFs: every full-resolution page is part of the scan, or the file is refused.

A scanner writing [high, low] as two pages with ``libtiff`` gives tifffile one series only when the
pages share a size; a second page of another size used to be dropped without a word, and the scan was
read as a grey view of its first page.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from wildxray.core.image_io import ImageReadError, read_image, read_image_header


def _pages(path: Path, shapes: list[tuple[int, int]], **kw) -> Path:
    """One page per shape, written page by page without tifffile's shape metadata (as libtiff does)."""
    with tifffile.TiffWriter(path) as tif:
        for i, shape in enumerate(shapes):
            tif.write(np.full(shape, 30000 - 10000 * i, np.uint16), photometric="minisblack", metadata=None, **kw)
    return path


def test_two_pages_of_different_sizes_are_refused_naming_both_sizes(tmp_path: Path) -> None:
    path = _pages(tmp_path / "mismatch.tiff", [(60, 90), (30, 45)])
    for reader in (read_image, read_image_header):
        with pytest.raises(ImageReadError) as exc:
            reader(path)
        assert exc.value.code == "wrong_channels" and exc.value.path == path
        assert "90x60" in exc.value.message and "45x30" in exc.value.message, exc.value.message


def test_pages_stored_as_separate_series_are_refused(tmp_path: Path) -> None:
    # tifffile's own writer, one write per page: two series of one page each, same size.
    path = tmp_path / "series.tiff"
    with tifffile.TiffWriter(path) as tif:
        tif.write(np.full((20, 30), 40000, np.uint16), photometric="minisblack")
        tif.write(np.full((20, 30), 20000, np.uint16), photometric="minisblack")
    with pytest.raises(ImageReadError) as exc:
        read_image(path)
    assert exc.value.code == "wrong_channels" and "2 pages" in exc.value.message


def test_same_size_pages_and_reduced_resolution_previews_still_read(tmp_path: Path) -> None:
    raw = read_image(_pages(tmp_path / "dual.tiff", [(60, 90), (60, 90)]))
    assert raw.shape == (60, 90, 2) and raw.dtype == np.uint16
    np.testing.assert_array_equal(raw[0, 0], [30000, 20000])
    # A thumbnail page (NewSubfileType = reduced resolution) is a preview, not a second image.
    thumb = tmp_path / "thumb.tiff"
    with tifffile.TiffWriter(thumb) as tif:
        tif.write(np.full((60, 90, 3), 200, np.uint8), photometric="rgb")
        tif.write(np.full((30, 45, 3), 10, np.uint8), photometric="rgb", subfiletype=1)
    rgb = read_image(thumb)
    assert rgb.shape == (60, 90, 3) and int(rgb.min()) == 200
