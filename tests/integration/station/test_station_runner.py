"""run_station and predict_folder in-process: the library calls behind 'wildxray station' and 'predict'."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.fixtures.contract_model import draw_patch, grey_image, make_contract_model
from tests.integration.station.conftest import drop, results
from wildxray.core.image_io import write_image
from wildxray.runtime.predict_folder import collect_inputs, predict_folder
from wildxray.runtime.session import OnnxDetector
from wildxray.station.runner import ServeOptions, StationStartError, run_station
from wildxray.station.service import StationConfig


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_run_station_serves_until_its_stop_event(contract_model: Path, tmp_path: Path, capsys) -> None:
    cfg = StationConfig(model=contract_model, watch=tmp_path / "in", out=tmp_path / "out")
    cfg.watch.mkdir()
    stop = threading.Event()
    thread = threading.Thread(target=run_station, args=(cfg, ServeOptions(http=("127.0.0.1", 0)), stop))
    thread.start()
    try:
        drop(cfg.watch, "red.png", draw_patch(grey_image(80, 120), (20, 10, 60, 40)))
        _wait_for(lambda: list(cfg.out.glob("*.json")))
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert [r["decision"] for r in results(cfg.out)] == ["alarm"]
    out = capsys.readouterr().out
    assert "wildxray station: ready; model" in out and "http http://127.0.0.1:" in out
    assert out.rstrip().endswith("wildxray station: stopped")


def test_run_station_refuses_to_start_with_the_cause(contract_model: Path, tmp_path: Path) -> None:
    cfg = StationConfig(model=contract_model, watch=tmp_path / "in", out=tmp_path / "out")
    with pytest.raises(StationStartError, match="refusing to listen on 0.0.0.0 without a bearer token"):
        run_station(cfg, ServeOptions(http=("0.0.0.0", 0)), threading.Event())
    nocard = make_contract_model(tmp_path / "nocard.onnx", card={})
    with pytest.raises(StationStartError, match="refusing to start: .*nocard.onnx"):
        run_station(StationConfig(model=nocard, watch=cfg.watch, out=cfg.out), ServeOptions(http=None),
                    threading.Event())
    with pytest.raises(StationStartError, match="cannot serve the viewer on 127.0.0.1:0"):  # no verdicts database
        run_station(cfg, ServeOptions(http=None, viewer=("127.0.0.1", 0)), threading.Event())


def test_predict_folder_writes_a_result_per_file_and_counts_decisions(contract_model: Path, tmp_path: Path) -> None:
    write_image(tmp_path / "scans" / "red.png", draw_patch(grey_image(60, 90), (10, 10, 40, 30)))
    write_image(tmp_path / "scans" / "grey.png", grey_image(40, 40))
    (tmp_path / "scans" / ".hidden.png").write_bytes(b"")
    files, problems = collect_inputs([tmp_path / "scans", tmp_path / "missing.png"])
    assert [f.name for f in files] == ["grey.png", "red.png"]
    assert problems == [f"{tmp_path / 'missing.png'}: no such file or folder"]
    summary = predict_folder(OnnxDetector(contract_model, threads=1), files, tmp_path / "out", progress=False)
    assert (summary.decisions["alarm"], summary.decisions["clear"], summary.n_scans) == (1, 1, 2)
    assert summary.line().startswith(f"2 scans -> {tmp_path / 'out'}: 1 alarm, 1 clear, 0 error (model ")
    assert len(list((tmp_path / "out").glob("*.json"))) == 2
