"""wildxray.core.image_io on real files: formats, channel order, dual energy, DICOM, and every error code."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

from tests.unit.data.builders import png_claiming, solid_image, write_dicom
from wildxray.core import image_io as wio
from wildxray.core.image_io import (
    ImageReadError,
    read_image,
    read_image_header,
    to_model_image,
    write_dual_energy_tiff,
    write_image,
)


def _distinct_colours() -> np.ndarray:
    """4x6 RGB image: red, green and blue columns, so a BGR/RGB swap cannot go unnoticed."""
    img = np.zeros((4, 6, 3), np.uint8)
    img[:, 0:2] = (255, 0, 0)
    img[:, 2:4] = (0, 255, 0)
    img[:, 4:6] = (0, 0, 255)
    return img


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff"])
def test_lossless_formats_round_trip_exactly(tmp_path: Path, suffix: str) -> None:
    rgb = solid_image(17, 23, (200, 100, 30))
    write_image(tmp_path / f"a{suffix}", rgb)
    back = read_image(tmp_path / f"a{suffix}")
    assert back.dtype == np.uint8 and back.shape == (17, 23, 3)
    np.testing.assert_array_equal(back, rgb)


def test_channel_order_is_rgb_for_files_written_by_opencv(tmp_path: Path) -> None:
    rgb = _distinct_colours()
    cv2.imwrite(str(tmp_path / "a.png"), rgb[:, :, ::-1])  # OpenCV writes BGR
    cv2.imwrite(str(tmp_path / "a.jpg"), rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])
    cv2.imwrite(str(tmp_path / "lzw.tif"), rgb[:, :, ::-1])  # LZW: decoded by the OpenCV fallback
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "lzw.tif"), rgb)
    jpg = read_image(tmp_path / "a.jpg").astype(int)
    assert jpg[0, 0, 0] > 200 and jpg[0, 0, 2] < 60  # red stays in channel 0
    assert jpg[0, 5, 2] > 200 and jpg[0, 5, 0] < 60


def test_grey_rgba_and_16bit_png_become_rgb_uint8(tmp_path: Path) -> None:
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    out = read_image(tmp_path / "grey.png")
    assert out.shape == (3, 4, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], grey)

    rgba = np.dstack([_distinct_colours(), np.full((4, 6), 7, np.uint8)])
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba[:, :, [2, 1, 0, 3]])
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), _distinct_colours())

    wide = np.array([[0, 257, 65535]], np.uint16)
    cv2.imwrite(str(tmp_path / "g16.png"), wide)
    np.testing.assert_array_equal(read_image(tmp_path / "g16.png")[0, :, 0], [0, 1, 255])


def test_dual_energy_tiff_reads_back_equal_in_every_layout(tmp_path: Path) -> None:
    raw = np.random.default_rng(0).integers(0, 65536, size=(9, 13, 2), dtype=np.uint16)
    write_dual_energy_tiff(tmp_path / "raw.tiff", raw)
    planar = np.ascontiguousarray(raw.transpose(2, 0, 1))
    tifffile.imwrite(tmp_path / "pages.tiff", planar, photometric="minisblack")  # two pages
    tifffile.imwrite(tmp_path / "planar.tiff", planar, photometric="minisblack", planarconfig="separate")
    for name in ("raw.tiff", "pages.tiff", "planar.tiff"):
        back = read_image(tmp_path / name)
        assert back.dtype == np.uint16 and back.shape == (9, 13, 2), name
        np.testing.assert_array_equal(back, raw, err_msg=name)


def test_dicom_dual_energy_grey_and_rgb(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 65536, size=(2, 5, 7), dtype=np.uint16)  # [high, low] as two frames
    np.testing.assert_array_equal(read_image(write_dicom(tmp_path / "f.dcm", frames, frames=2)),
                                  frames.transpose(1, 2, 0))
    interleaved = rng.integers(0, 65536, size=(5, 7, 2), dtype=np.uint16)  # two samples per pixel
    np.testing.assert_array_equal(read_image(write_dicom(tmp_path / "s.dcm", interleaved, samples=2)),
                                  interleaved)

    grey12 = np.array([[0, 2048, 4095]], np.uint16)  # 12 bits stored: 4095 is white
    out = read_image(write_dicom(tmp_path / "g.dcm", grey12, bits_stored=12))
    assert out.dtype == np.uint8 and out.shape == (1, 3, 3)
    np.testing.assert_array_equal(out[0, :, 0], [0, 128, 255])
    inverted = read_image(write_dicom(tmp_path / "m1.dcm", grey12, bits_stored=12, photometric="MONOCHROME1"))
    np.testing.assert_array_equal(inverted[0, :, 0], [255, 127, 0])

    rgb = solid_image(6, 8, (10, 200, 90))
    np.testing.assert_array_equal(read_image(write_dicom(tmp_path / "c.dcm", rgb, samples=3, photometric="RGB")), rgb)


def test_headers_give_sizes_without_decoding(tmp_path: Path) -> None:
    rgb = solid_image(21, 34, (1, 2, 3))
    write_image(tmp_path / "a.png", rgb)
    write_image(tmp_path / "a.jpg", rgb)
    write_dual_energy_tiff(tmp_path / "a.tiff", np.zeros((21, 34, 2), np.uint16))
    write_dicom(tmp_path / "a.dcm", np.zeros((2, 21, 34), np.uint16), frames=2)
    cases = [("a.png", "png", 3), ("a.jpg", "jpeg", 3), ("a.tiff", "tiff", 2), ("a.dcm", "dicom", 2)]
    for name, fmt, channels in cases:
        h = read_image_header(tmp_path / name)
        assert (h.format, h.height, h.width, h.channels) == (fmt, 21, 34, channels), name


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, expected code); every file is real bytes on disk."""
    good_png = tmp_path / "good.png"
    write_image(good_png, solid_image(40, 50, (90, 90, 200)))
    good_jpg = tmp_path / "good.jpg"
    write_image(good_jpg, solid_image(40, 50, (90, 90, 200)))
    good_tif = tmp_path / "good.tiff"
    write_dual_energy_tiff(good_tif, np.full((40, 50, 2), 1000, np.uint16))
    good_dcm = write_dicom(tmp_path / "good.dcm", np.full((2, 40, 50), 7, np.uint16), frames=2)

    files: dict[str, tuple[Path, str]] = {}

    def put(name: str, data: bytes, code: str) -> None:
        (tmp_path / name).write_bytes(data)
        files[name] = (tmp_path / name, code)

    put("zero.png", b"", "empty_file")
    put("text.png", b"this is a shipping manifest, not an image\n", "not_an_image")
    put("cut.png", good_png.read_bytes()[:-40], "truncated")
    put("cut.jpg", good_jpg.read_bytes()[: len(good_jpg.read_bytes()) // 2], "truncated")
    put("cut.tiff", good_tif.read_bytes()[:-50], "truncated")
    put("cut.dcm", good_dcm.read_bytes()[:-100], "truncated")
    put("bomb.png", png_claiming(40000, 40000), "too_large")
    put("anim.gif", b"GIF89a" + b"\x00" * 20, "unsupported_format")
    tifffile.imwrite(tmp_path / "rgba16.tiff", np.zeros((8, 8, 4), np.uint16), photometric="rgb")
    files["rgba16.tiff"] = (tmp_path / "rgba16.tiff", "wrong_channels")
    tifffile.imwrite(tmp_path / "rgb16.tiff", np.zeros((8, 8, 3), np.uint16), photometric="rgb")
    files["rgb16.tiff"] = (tmp_path / "rgb16.tiff", "wrong_channels")
    write_dicom(tmp_path / "volume.dcm", np.zeros((5, 8, 8), np.uint16), frames=5)  # a CT stack, not a scan
    files["volume.dcm"] = (tmp_path / "volume.dcm", "wrong_channels")
    files["missing.png"] = (tmp_path / "missing.png", "missing_file")
    return files


@pytest.mark.parametrize(
    "name",
    ["zero.png", "text.png", "cut.png", "cut.jpg", "cut.tiff", "cut.dcm", "bomb.png", "anim.gif",
     "rgba16.tiff", "rgb16.tiff", "volume.dcm", "missing.png"],
)
def test_bad_file_gives_its_error_code(tmp_path: Path, name: str) -> None:
    path, code = _bad_files(tmp_path)[name]
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    err = info.value
    assert (err.code, err.path) == (code, path), str(err)
    assert err.message and str(path) in str(err)


def test_pixel_limit_applies_to_every_format_before_decoding(tmp_path: Path, monkeypatch) -> None:
    write_image(tmp_path / "a.jpg", solid_image(40, 50, (1, 2, 3)))
    write_dual_energy_tiff(tmp_path / "a.tiff", np.zeros((40, 50, 2), np.uint16))
    write_dicom(tmp_path / "a.dcm", np.zeros((40, 50), np.uint16))
    monkeypatch.setattr(wio.cv2, "imdecode", lambda *a, **k: pytest.fail("decoded an oversized image"))
    for name in ("a.jpg", "a.tiff", "a.dcm"):
        with pytest.raises(ImageReadError) as info:
            read_image(tmp_path / name, max_pixels=40 * 50 - 1)
        assert info.value.code == "too_large", name


def test_png_bomb_is_refused_without_allocating_it(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "bomb.png").write_bytes(png_claiming(40000, 40000))  # 4.8 GB if decoded
    monkeypatch.setattr(wio.cv2, "imdecode", lambda *a, **k: pytest.fail("the bomb reached the decoder"))
    tracemalloc.start()
    try:
        with pytest.raises(ImageReadError) as info:
            read_image(tmp_path / "bomb.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "too_large" and "40000x40000" in info.value.message
    assert peak < 1_000_000


def test_to_model_image_encodes_dual_energy_and_passes_rgb() -> None:
    rgb = solid_image(5, 6, (3, 4, 5))
    same, modality = to_model_image(rgb, rgb_modality="photo")
    assert same is rgb and modality == "photo"
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        to_model_image(np.zeros((5, 6), np.uint8))
    colour = pytest.importorskip("wildxray.core.colour", reason="wildxray.core.colour (another part) not written yet")
    raw = np.random.default_rng(2).integers(1000, 60000, size=(8, 9, 2), dtype=np.uint16)
    encoded, modality = to_model_image(raw)
    assert modality == "xray_dual" and encoded.shape == (8, 9, 3) and encoded.dtype == np.uint8
    np.testing.assert_array_equal(encoded, colour.encode_dual_energy(raw))


def test_writers_reject_wrong_arrays(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HxWx2 uint16"):
        write_dual_energy_tiff(tmp_path / "x.tiff", np.zeros((4, 4, 3), np.uint16))
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 3), np.float32))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_io_module_works_with_torch_and_albumentations_blocked(tmp_path: Path) -> None:
    write_dual_energy_tiff(tmp_path / "raw.tiff", np.full((4, 5, 2), 9, np.uint16))
    code = (
        "import sys\n"
        "for m in ('torch', 'torchvision', 'albumentations'): sys.modules[m] = None\n"
        "from wildxray.core.image_io import read_image\n"
        f"a = read_image({str(tmp_path / 'raw.tiff')!r})\n"
        "assert a.shape == (4, 5, 2), a.shape\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
