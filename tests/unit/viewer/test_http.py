"""The viewer over real HTTP: login, cookies, CSRF, the queue, images and path safety."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from tests.fixtures.sockets import connect_burst, send_and_read_status
from tests.unit.viewer.results_factory import standard_folder
from wildxray.viewer import auth
from wildxray.viewer.app import ViewerApp
from wildxray.viewer.db import read_audit_log
from wildxray.viewer.server import make_viewer_server, serve_in_thread


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie: str | None = None
        self.csrf: str | None = None

    def request(self, method: str, path: str, body: object = None, headers: dict | None = None, raw: bytes | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        return resp, payload

    def json(self, method: str, path: str, body: object = None, **kw):
        resp, payload = self.request(method, path, body, **kw)
        return resp.status, json.loads(payload)

    def login(self, token: str) -> None:
        resp, payload = self.request("POST", "/api/login", {"token": token})
        assert resp.status == 200, payload
        self.cookie = resp.getheader("Set-Cookie").split(";")[0]
        self.csrf = json.loads(payload)["csrf_token"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("viewer")
    standard_folder(root / "out")
    (root / "secret.txt").write_text("top secret")
    app = ViewerApp(root / "out", root / "v.sqlite", rescan_interval_s=0)
    token = auth.add_inspector(app.db, "alice")
    server, _ = serve_in_thread(app)
    yield app, server.server_port, token, root
    server.shutdown()
    server.server_close()


def test_without_login_everything_but_the_page_is_refused(served) -> None:
    _, port, _, _ = served
    c = Client(port)
    assert c.request("GET", "/")[0].status == 200
    assert c.json("GET", "/api/me") == (200, {"authenticated": False})
    for method, path in [("GET", "/api/scans"), ("GET", "/api/scans/scan-known"),
                         ("GET", "/api/scans/scan-known/view/image"), ("POST", "/api/scans/scan-known/parcel")]:
        status, body = c.json(method, path, {"verdict": "clear"} if method == "POST" else None)
        assert (status, body["error"]) == (401, "log in first"), path
    assert c.request("POST", "/api/login", {"token": "wrong-token-wrong"})[0].status == 401


def test_login_cookie_is_httponly_and_strict(served) -> None:
    _, port, token, _ = served
    resp, _ = Client(port).request("POST", "/api/login", {"token": token})
    cookie = resp.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "default-src 'none'" in resp.getheader("Content-Security-Policy")
    # A cross-site HTML form can only send form encodings: refused.
    form = Client(port).request("POST", "/api/login", raw=f"token={token}".encode(),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form[0].status == 415


def test_writes_need_the_csrf_token(served) -> None:
    app, port, token, _ = served
    c = Client(port)
    c.login(token)
    before = len(read_audit_log(app.db, "scan-clear"))
    status, body = c.json("POST", "/api/scans/scan-clear/parcel", {"verdict": "clear"})
    assert status == 403 and "X-CSRF-Token" in body["error"]
    status, _ = c.json("POST", "/api/scans/scan-clear/parcel", {"verdict": "clear"}, headers={"X-CSRF-Token": "guess"})
    assert status == 403
    status, _ = c.json("POST", "/api/scans/scan-clear/parcel", {"verdict": "clear"},
                       headers={"X-CSRF-Token": c.csrf, "Origin": "http://evil.example"})
    assert status == 403
    assert len(read_audit_log(app.db, "scan-clear")) == before
    status, body = c.json("POST", "/api/scans/scan-clear/parcel", {"verdict": "clear"}, headers={"X-CSRF-Token": c.csrf})
    assert status == 200 and body["parcel"]["verdict"] == "clear" and body["parcel"]["inspector"] == "alice"
    status, body = c.json("POST", "/api/scans/scan-known/boxes", {"item": "det:0", "verdict": "relabel", "label": "nope"},
                          headers={"X-CSRF-Token": c.csrf})
    assert status == 400 and "label: 'nope'" in body["error"]


def test_queue_counts_and_filters(served) -> None:
    _, port, token, _ = served
    c = Client(port)
    c.login(token)
    status, data = c.json("GET", "/api/scans")
    assert status == 200
    assert [s["scan_id"] for s in data["scans"]][:4] == ["scan-dual", "scan-evil", "scan-known", "scan-old-alarm"]
    assert data["counts"]["total"] == 6 and data["counts"]["alarm"] == 4 and data["counts"]["error"] == 1
    assert [s["scan_id"] for s in c.json("GET", "/api/scans?decision=clear")[1]["scans"]] == ["scan-clear"]
    assert [s["scan_id"] for s in c.json("GET", "/api/scans?class=horn")[1]["scans"]] == ["scan-old-alarm"]
    assert c.json("GET", "/api/scans?state=bogus")[0] == 400


def test_images_only_from_the_index(served) -> None:
    _, port, token, root = served
    c = Client(port)
    c.login(token)
    resp, body = c.request("GET", "/api/scans/scan-dual/view/high")
    assert resp.status == 200 and resp.getheader("Content-Type") == "image/png"
    assert body == (root / "out" / "scan-dual.high.png").read_bytes()
    for path in ["/api/scans/scan-known/view/high", "/api/scans/scan-known/view/..%2F..%2Fsecret.txt",
                 "/api/scans/..%2Fsecret/view/image", "/api/scans/scan-known/view/../../secret.txt",
                 "/static/..%2F..%2F..%2Fsecret.txt", "/static/app.py", "/secret.txt", "/../secret.txt"]:
        resp, body = c.request("GET", path)
        assert resp.status == 404, path
        assert b"top secret" not in body


def test_a_burst_of_connections_is_queued_not_refused(served) -> None:
    """A browser opening a page with many images connects in bursts: the listen queue must hold them.

    The server is bound but not yet accepting (as when every thread is busy); the stdlib default
    backlog of 5 completed only 6 of these handshakes, and an overflowing queue resets connections.
    """
    app = served[0]
    server = make_viewer_server(app, port=0)
    socks, connected = connect_burst(server.server_address, 48)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert connected == 48
        assert [send_and_read_status(s, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                for s in socks] == [200] * 48
    finally:
        for s in socks:
            s.close()
        server.shutdown()
        server.server_close()
