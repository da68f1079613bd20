"""Tiny and absurdly elongated images: an error result or a bounded prediction, never gigabytes.

Before these limits a 1 x 60 px PNG took 1.6 GB RSS (one tile per pixel, all tiles in one batch) and a
58 KB 1 x 60,000,000 px PNG passed the 64 MP guard. The memory check runs the real runtime in a
subprocess whose address space is capped with ``prlimit --as``: over the cap an allocation fails.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.fixtures.contract_model import make_contract_model
from wildxray.runtime.scan import DEFAULT_MAX_ASPECT, process_file
from wildxray.runtime.session import OnnxDetector

# The runtime with the model below peaks at ~0.65 GB of address space on a 100 x 100 scan and at
# ~1.2 GB on the most elongated scan it accepts (16 tiles); unbounded, that scan needed 2.8 GB and a
# 1 x 60 px one 3.4 GB.
ADDRESS_SPACE_CAP = 2_000_000_000


def tall_thin_png(path: Path, height: int, width: int = 1) -> Path:
    """A real grey PNG of ``height x width`` zeros, compressed as it is written (a 1 x 60 M px one is ~60 KB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + width)
    block = row * max(1, (1 << 20) // len(row))
    parts, left = [], height
    while left:
        n = min(left, len(block) // len(row))
        parts.append(comp.compress(block[: n * len(row)]))
        left -= n
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
    return path


def test_a_one_pixel_wide_sixty_million_pixel_png_is_refused_from_its_header(tmp_path: Path) -> None:
    png = tall_thin_png(tmp_path / "needle.png", 60_000_000)
    assert png.stat().st_size < 200_000  # it passes the 64 MP pixel guard and any upload limit
    det = OnnxDetector(make_contract_model(tmp_path / "m.onnx"), threads=1)
    out = process_file(det, png, tmp_path / "out", "scan-needle")
    assert out.decision == "error" and out.error_code == "aspect_ratio"
    assert out.result["error"]["message"].startswith("needle.png: image of 1x60000000 pixels")
    assert json.loads(out.json_path.read_text())["error"]["code"] == "aspect_ratio"


_CHILD = """
import json, sys
from pathlib import Path
from wildxray.runtime.scan import process_file
from wildxray.runtime.session import OnnxDetector
det = OnnxDetector(sys.argv[1], threads=1)
for image in sys.argv[3:]:
    o = process_file(det, image, sys.argv[2], Path(image).stem)
    print(json.dumps({"name": Path(image).name, "decision": o.decision, "code": o.error_code}), flush=True)
"""


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs util-linux prlimit")
def test_memory_stays_under_a_cap_for_tiny_and_elongated_images(tmp_path: Path) -> None:
    # 416 px input with a 16-channel convolution: ~11 MB of activations per image in a batch.
    model = make_contract_model(tmp_path / "m416.onnx", input_size=416, work_convs=1, work_size=416)
    images = []
    for h, w in [(1, 60), (1, 300), (300, 1), (40, 1280), (100, 100)]:
        path = tmp_path / f"grey_{h}x{w}.png"
        cv2.imwrite(str(path), np.full((h, w), 90, np.uint8))
        images.append(str(path))
    images.append(str(tall_thin_png(tmp_path / "needle.png", 60_000_000)))
    proc = subprocess.run(["prlimit", f"--as={ADDRESS_SPACE_CAP}", sys.executable, "-c", _CHILD, str(model),
                           str(tmp_path / "out"), *images], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = {r["name"]: (r["decision"], r["code"]) for r in map(json.loads, proc.stdout.splitlines())}
    assert 1280 / 40 <= DEFAULT_MAX_ASPECT < 60
    assert got == {
        "grey_1x60.png": ("error", "aspect_ratio"),
        "grey_1x300.png": ("error", "aspect_ratio"),
        "grey_300x1.png": ("error", "aspect_ratio"),
        "grey_40x1280.png": ("clear", None),   # the most elongated accepted: 16 tiles, under the cap
        "grey_100x100.png": ("clear", None),
        "needle.png": ("error", "aspect_ratio"),
    }, proc.stderr[-3000:]
