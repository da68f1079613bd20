"""Hot folder end to end: every input format, bad inputs, temporary names, journal and archive."""

from __future__ import annotations

import sqlite3
import struct
import time
import zlib

import cv2
import jsonschema
import numpy as np
import tifffile

from tests.fixtures.contract_model import BLUE, draw_patch, grey_image
from tests.integration.station.conftest import drop, results
from wildxray.runtime.result import result_schema


def _png_bomb() -> bytes:
    """A valid-looking PNG whose header claims 40000 x 40000 RGB pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + 3 * 40000) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _rgb_dicom(path, rgb: np.ndarray) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.501.1"  # DICOS CT image storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.ascontiguousarray(rgb).tobytes()
    ds.save_as(str(path), enforce_file_format=True)


def test_every_input_format_gets_one_correct_result_and_is_archived(start_station, contract_model, tmp_path):
    st = start_station(contract_model)
    drop(st.watch, "red.png", draw_patch(grey_image(120, 200), (20, 30, 80, 90)))
    drop(st.watch, "blue.jpg", draw_patch(grey_image(100, 100), (10, 10, 60, 50), BLUE))
    drop(st.watch, "clean.png", grey_image(90, 70))
    drop(st.watch, "belt.png", draw_patch(grey_image(2400, 300), (120, 1200, 160, 1240)))  # tiled
    raw = np.random.default_rng(0).integers(30000, 60000, (60, 90, 2), dtype=np.uint16)
    tifffile.imwrite(st.watch / "dual.tiff.part", raw, photometric="minisblack", planarconfig="contig")
    (st.watch / "dual.tiff.part").rename(st.watch / "dual.tiff")
    _rgb_dicom(tmp_path / "x.dcm", draw_patch(grey_image(64, 96), (40, 10, 70, 40)))
    (tmp_path / "x.dcm").rename(st.watch / "scan.dcm")
    # Names a station must never take:
    (st.watch / "writing.png.part").write_bytes(b"half")
    (st.watch / ".hidden.png").write_bytes(b"x")
    (st.watch / "backup.png~").write_bytes(b"x")
    res = {r["source_name"]: r for r in st.wait_results(6)}
    time.sleep(0.5)  # give the station a chance to (wrongly) take the temporary names
    assert set(res) == {"red.png", "blue.jpg", "clean.png", "belt.png", "dual.tiff", "scan.dcm"}
    assert len(results(st.out)) == 6
    for r in res.values():
        jsonschema.validate(r, result_schema())
        assert r["source_path"] == str(st.watch / r["source_name"])
    assert res["red.png"]["decision"] == "alarm"
    np.testing.assert_allclose(res["red.png"]["detections"][0]["box"], [20, 30, 80, 90], atol=4.5)
    assert res["blue.jpg"]["alarm_classes"] == ["horn"]
    assert res["clean.png"]["decision"] == "clear" and res["clean.png"]["detections"] == []
    np.testing.assert_allclose(res["belt.png"]["detections"][0]["box"], [120, 1200, 160, 1240], atol=5.5)
    assert res["dual.tiff"]["modality"] == "xray_dual" and (st.out / res["dual.tiff"]["artifacts"]["low"]).exists()
    np.testing.assert_allclose(res["scan.dcm"]["detections"][0]["box"], [40, 10, 70, 40], atol=2.5)
    assert sorted(p.name for p in st.watch.iterdir() if p.is_file()) == [".hidden.png", "backup.png~",
                                                                        "writing.png.part"]
    archived = sorted(p.name.split("__", 1)[1] for p in (st.watch / "archive").iterdir())
    assert archived == sorted(res)
    assert st.stop() == 0
    db = sqlite3.connect(st.out / ".station" / "journal.sqlite")
    rows = db.execute("SELECT source_name, state, decision, model_sha256 FROM scans").fetchall()
    assert sorted(r[0] for r in rows) == sorted(res)
    assert {r[1] for r in rows} == {"done"} and {r[3] for r in rows} == {res["red.png"]["model"]["sha256"]}


def test_bad_inputs_get_error_results_are_quarantined_and_the_service_goes_on(start_station, contract_model):
    st = start_station(contract_model, "--max-pixels", "4000000", "--incomplete-wait-ms", "1000")
    ok, png = cv2.imencode(".png", grey_image(80, 80))
    png = png.tobytes()
    corrupt = bytearray(png)
    corrupt[60:90] = b"\xff" * 30
    five = st.watch / "five.tiff"
    bad = {
        "truncated.png": png[: len(png) // 2],
        "corrupt.png": bytes(corrupt),
        "empty.png": b"",
        "notes.txt": b"hello, I am not an image",
        "bomb.png": _png_bomb(),
        "sliver.png": cv2.imencode(".png", np.full((1, 300), 90, np.uint8))[1].tobytes(),  # one tile per pixel
    }
    for name, data in bad.items():
        drop(st.watch, name, data=data)
    tifffile.imwrite(st.watch / "five.part", np.zeros((20, 20, 5), np.uint16), photometric="minisblack",
                     planarconfig="contig")
    (st.watch / "five.part").rename(five)
    res = {r["source_name"]: r for r in st.wait_results(7, timeout=30)}
    codes = {k: v["error"]["code"] for k, v in res.items()}
    assert codes == {"truncated.png": "truncated", "corrupt.png": "corrupt", "empty.png": "empty_file",
                     "notes.txt": "not_an_image", "bomb.png": "too_large", "five.tiff": "wrong_channels",
                     "sliver.png": "aspect_ratio"}
    for r in res.values():
        jsonschema.validate(r, result_schema())
        assert r["decision"] == "error" and r["source_name"] in r["error"]["message"]
    assert "40000x40000" in res["bomb.png"]["error"]["message"]
    assert "300x1 pixels" in res["sliver.png"]["error"]["message"]
    quarantined = sorted(p.name.split("__", 1)[1] for p in (st.watch / "quarantine").iterdir())
    assert quarantined == sorted(res)
    # ... and the next scan goes on.
    drop(st.watch, "after.png", draw_patch(grey_image(64, 64), (5, 5, 25, 25)))
    after = [r for r in st.wait_results(8) if r["source_name"] == "after.png"]
    assert after and after[0]["decision"] == "alarm"
    status, body, _ = st.request("GET", "/metrics")
    assert status == 200 and b'wildxray_errors_total{code="too_large"} 1' in body
    assert st.stop() == 0
