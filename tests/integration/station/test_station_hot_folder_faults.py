"""Hot-folder faults: a file the station cannot handle as usual never blocks the others, and a
watcher that cannot see its folder shows in ``/healthz`` and ``/metrics``."""

from __future__ import annotations

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
