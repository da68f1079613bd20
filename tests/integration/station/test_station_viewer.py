"""The station serves the inspector viewer over its own results folder (``--viewer``)."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import numpy as np

from tests.integration.station.conftest import drop


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_station_serves_the_viewer_on_its_results(start_station, contract_model, tmp_path) -> None:
    from wildxray.viewer.auth import add_inspector
    from wildxray.viewer.db import VerdictDB

    db = tmp_path / "verdicts.sqlite"
    token = add_inspector(VerdictDB(db), "alice")
    sp = start_station(contract_model, "--viewer", "127.0.0.1:0", "--viewer-db", str(db))
    deadline = time.time() + 10
    while not (m := re.search(r"inspector viewer on (\S+)", sp.log.read_text())) and time.time() < deadline:
        time.sleep(0.05)
    assert m, sp.log.read_text()
    viewer = m.group(1)

    image = np.full((80, 120, 3), 128, np.uint8)
    image[20:40, 30:60] = (255, 0, 0)  # the contract model boxes bright red
    drop(sp.watch, "parcel.png", image)
    (result,) = sp.wait_results(1)

    status, page = _get(viewer + "/")
    assert status == 200 and b"<html" in page.lower()
    assert _get(viewer + "/api/scans")[0] == 401  # the viewer's own login guards its data

    login = urllib.request.Request(viewer + "/api/login", data=json.dumps({"token": token}).encode(),
                                   headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(login, timeout=10) as resp:
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    req = urllib.request.Request(viewer + "/api/scans", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=10) as resp:
        listed = json.loads(resp.read())
    ids = [s["scan_id"] for s in listed["scans"]]
    assert result["scan_id"] in ids
    assert sp.stop() == 0
