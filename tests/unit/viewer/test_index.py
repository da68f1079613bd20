"""The results-folder index: ordering, checks with clear errors, and no path outside the folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.unit.viewer.results_factory import parcel_image, standard_folder, write_scan
from wildxray.viewer.index import ResultError, ResultsIndex, parse_result


def test_queue_is_alarm_first_then_newest(tmp_path: Path) -> None:
    standard_folder(tmp_path)
    ids = [s.scan_id for s in ResultsIndex(tmp_path).scans()]
    # scan-clear is the newest scan of all, yet comes after every alarm and the error.
    assert ids == ["scan-dual", "scan-evil", "scan-known", "scan-old-alarm", "scan-error", "scan-clear"]


def test_artifacts_resolve_inside_the_folder(tmp_path: Path) -> None:
    standard_folder(tmp_path)
    index = ResultsIndex(tmp_path)
    dual = index.get("scan-dual")
    assert dual is not None
    assert set(dual.artifacts) == {"image", "overlay", "high", "low"}
    assert all(p.parent == tmp_path.resolve() and p.is_file() for p in dual.artifacts.values())
    err = index.get("scan-error")
    assert err is not None and err.artifacts == {} and err.width is None
    assert index.get("../scan-dual") is None and index.get("scan-dual.json") is None


@pytest.mark.parametrize("name", ["../outside.png", "/etc/passwd", "sub/x.png", "..", "x.json"])
def test_artifact_names_that_leave_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    result = write_scan(tmp_path, "s1", parcel_image(), [])
    result["artifacts"]["image"] = name
    (tmp_path / "s1.json").write_text(json.dumps(result))
    with pytest.raises(ResultError, match=r"s1\.json: artifacts\.image"):
        parse_result(tmp_path / "s1.json", tmp_path)


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for inspectors")
    write_scan(out, "s1", parcel_image(), [])
    (out / "s1.image.jpg").unlink()
    os.symlink(secret, out / "s1.image.jpg")
    with pytest.raises(ResultError, match="resolves outside"):
        parse_result(out / "s1.json", out)


def test_bad_files_are_listed_with_file_and_field(tmp_path: Path) -> None:
    result = write_scan(tmp_path, "good", parcel_image(), [("ivory", 0.9, [1.0, 2.0, 30.0, 40.0])])
    bad = dict(result, scan_id="bad", detections=[{"label": "ivory", "category_id": 1, "score": 0.9, "box": [5, 5, 2, 9]}])
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "torn.json").write_text('{"scan_id": "torn", ')
    (tmp_path / "renamed.json").write_text(json.dumps(result))  # id differs from file name
    index = ResultsIndex(tmp_path)
    assert [s.scan_id for s in index.scans()] == ["good"]
    problems = "\n".join(index.problems)
    assert "bad.json: detections[0].box: [5, 5, 2, 9] has non-positive size" in problems
    assert "torn.json: not readable JSON" in problems
    assert "renamed.json: scan_id: 'good' differs from the file name" in problems


def test_rescan_picks_up_new_and_changed_files(tmp_path: Path) -> None:
    index = ResultsIndex(tmp_path, min_interval_s=0)
    assert index.scans() == []
    write_scan(tmp_path, "a", parcel_image(), [])
    assert [s.decision for s in index.scans()] == ["clear"]
    write_scan(tmp_path, "a", parcel_image(), [("horn", 0.9, [1.0, 1.0, 20.0, 20.0])])
    os.utime(tmp_path / "a.json", ns=(1, 10**18))  # make sure the mtime differs on coarse clocks
    assert [s.decision for s in index.scans()] == ["alarm"]
