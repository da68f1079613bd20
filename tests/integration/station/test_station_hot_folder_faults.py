"""Hot-folder faults: a file the station cannot handle as usual never blocks the others, and a
watcher that cannot see its folder shows in ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import hashlib
import json
import os
import time

import cv2
import jsonschema

from tests.fixtures.contract_model import draw_patch, grey_image
from tests.integration.station.conftest import drop
from wildxray.runtime.result import result_schema

BAD_NAME = b"bad\xff\xfename.png"  # Latin-1 bytes: not valid UTF-8


def _metric(st, name: str) -> str:
    return "\n".join(line for line in st.request("GET", "/metrics")[1].decode().splitlines() if line.startswith(name))


def test_a_file_name_that_is_not_utf8_is_processed_and_blocks_nothing(start_station, contract_model):
    """Before: every poll died with UnicodeEncodeError in journal.claim and no later file was taken."""
    st = start_station(contract_model)
    ok, png = cv2.imencode(".png", draw_patch(grey_image(64, 64), (5, 5, 25, 25))[..., ::-1])
    tmp = os.path.join(os.fsencode(st.watch), b"odd.part")
    with open(tmp, "wb") as fh:
        fh.write(png.tobytes())
    os.replace(tmp, os.path.join(os.fsencode(st.watch), BAD_NAME))  # the oldest file: listed first
    time.sleep(0.05)
    for i in range(3):
        drop(st.watch, f"after{i}.png", draw_patch(grey_image(64, 64), (5, 5, 25, 25)))
    res = {r["source_name"]: r for r in st.wait_results(4)}
    assert set(res) == {"bad\\xff\\xfename.png", "after0.png", "after1.png", "after2.png"}
    odd = res["bad\\xff\\xfename.png"]
    jsonschema.validate(odd, result_schema())
    assert odd["decision"] == "alarm" and odd["source_path"].endswith("/bad\\xff\\xfename.png")
    assert 'wildxray_hot_folder_problems_total{problem="undecodable_name"} 1' in _metric(
        st, "wildxray_hot_folder_problems_total")
    archived = [p.name for p in (st.watch / "archive").iterdir()]
    assert len(archived) == 4 and any(n.endswith("__xfename.png") for n in archived)
    assert os.listdir(os.fsencode(st.watch)).count(BAD_NAME) == 0
    status, body, _ = st.request("GET", "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert st.stop() == 0


def test_a_hot_folder_that_goes_away_is_reported_and_watched_again_when_back(start_station, contract_model):
    """Before: a missing folder listed as empty and a folder replaced by a file failed every poll,
    and /healthz said ok either way."""
    st = start_station(contract_model)
    assert st.request("GET", "/healthz")[0] == 200
    aside = st.watch.with_name("in-unmounted")
    os.replace(st.watch, aside)
    st.watch.write_text("not a folder")  # as when a share's mount point is left behind as a file
    deadline = time.time() + 30
    while (answer := st.request("GET", "/healthz"))[0] != 503:
        assert time.time() < deadline, f"/healthz never reported the stuck watcher: {answer}\n{st.log.read_text()}"
        time.sleep(0.2)
    health = json.loads(answer[1])
    assert health["status"] == "watcher_stuck" and health["watcher"]["alive"] is True
    assert health["watcher"]["failed_polls_in_a_row"] >= 1 and "NotADirectoryError" in health["watcher"]["last_error"]
    assert 'problem="poll_failed"' in _metric(st, "wildxray_hot_folder_problems_total")
    st.watch.unlink()
    os.replace(aside, st.watch)
    drop(st.watch, "back.png", draw_patch(grey_image(64, 64), (5, 5, 25, 25)))
    (result,) = st.wait_results(1)
    assert result["source_name"] == "back.png" and result["decision"] == "alarm"
    deadline = time.time() + 30
    while st.request("GET", "/healthz")[0] != 200:
        assert time.time() < deadline, st.log.read_text()
        time.sleep(0.2)
    assert st.stop() == 0


def test_a_slow_writer_pausing_mid_file_gets_one_result_for_the_whole_file(start_station, contract_model):
    """A writer that pauses longer than the settle time has its half file claimed; that half reads as
    ``truncated``. Before: a lasting ``truncated`` error, and the finished file (the writer kept
    writing into it) ended in quarantine. Now it is re-read as it grows."""
    st = start_station(contract_model, "--incomplete-wait-ms", "4000")
    ok, png = cv2.imencode(".png", draw_patch(grey_image(200, 200), (40, 50, 120, 140))[..., ::-1])
    data = png.tobytes()
    with open(st.watch / "slow.png", "wb") as fh:  # straight into the hot folder, no .part name
        fh.write(data[: len(data) // 2])
        fh.flush()
        time.sleep(1.5)  # 15 settle times: the station takes the half file
        fh.write(data[len(data) // 2:])
    drop(st.watch, "cut.png", data=data[: len(data) // 2])  # a file that never completes
    res = {r["source_name"]: r for r in st.wait_results(2, timeout=30)}
    time.sleep(0.3)
    assert len(list(st.out.glob("*.json"))) == 2
    slow = res["slow.png"]
    assert slow["decision"] == "alarm" and slow["error"] is None
    assert slow["input_sha256"] == hashlib.sha256(data).hexdigest()
    assert res["cut.png"]["error"]["code"] == "truncated"  # still an error, once it stopped changing
    archived = [p.name.split("__", 1)[1] for p in (st.watch / "archive").iterdir()]
    quarantined = [p.name.split("__", 1)[1] for p in (st.watch / "quarantine").iterdir()]
    assert archived == ["slow.png"] and quarantined == ["cut.png"]
    assert st.stop() == 0
