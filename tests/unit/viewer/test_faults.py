"""The viewer under hostile requests and a failing verdict database, over real HTTP and SQLite files.

From the attack of 2026-12-01: 200 wrong logins in 0.9 s all got 401, the right token worked straight
after and the audit log held no ``login_failed`` row; a read-only or deleted database gave bare 500s
(a deleted one was silently recreated empty); the cookie was never ``Secure``; ``Origin: null`` passed
the CSRF check; a 30,000-deep JSON body or a 5,000-digit integer gave 500.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.unit.viewer.results_factory import standard_folder
from tests.unit.viewer.test_http import Client
from wildxray.cli.main import main as wildxray_main
from wildxray.viewer import auth
from wildxray.viewer.app import ViewerApp
from wildxray.viewer.db import VerdictDBError, read_audit_log
from wildxray.viewer.server import serve_in_thread
from wildxray.viewer.throttle import DEFAULT_MAX_FAILURES


@pytest.fixture()
def viewer(tmp_path: Path):
    """``viewer(**app_kwargs) -> (app, port, token)``: a served app on a fresh database."""
    standard_folder(tmp_path / "out")
    servers = []

    def _start(db_name: str = "v.sqlite", read_timeout_s: float = 30.0, **kw):
        app = ViewerApp(tmp_path / "out", tmp_path / db_name, rescan_interval_s=0, **kw)
        token = auth.add_inspector(app.db, "alice")
        server, _ = serve_in_thread(app, read_timeout_s=read_timeout_s)
        servers.append(server)
        return app, server.server_port, token

    yield _start
    for server in servers:
        server.shutdown()
        server.server_close()


def _failed_logins(app) -> list[dict]:
    return [e for e in read_audit_log(app.db) if e["action"] == "login_failed"]


# -- 8: login throttling and audit -------------------------------------------------------------------

def test_wrong_logins_are_throttled_per_client_and_each_is_audited(viewer) -> None:
    app, port, token = viewer()
    c = Client(port)
    statuses = [c.request("POST", "/api/login", {"token": f"wrong-token-{i:04d}"})[0].status for i in range(60)]
    assert statuses[:DEFAULT_MAX_FAILURES] == [401] * DEFAULT_MAX_FAILURES
    assert set(statuses[DEFAULT_MAX_FAILURES:]) == {429}
    resp, body = c.request("POST", "/api/login", {"token": token})  # locked out: even the right token
    assert resp.status == 429 and int(resp.getheader("Retry-After")) > 0 and b"too many failed logins" in body
    failed = _failed_logins(app)
    assert len(failed) == DEFAULT_MAX_FAILURES and {e["detail"]["client"] for e in failed} == {"127.0.0.1"}
    assert [e["action"] for e in read_audit_log(app.db)].count("login_throttled") == 1
    assert auth.list_inspectors(app.db) == ["alice"]


def test_the_throttle_keys_on_the_forwarded_client_behind_a_tls_proxy(viewer) -> None:
    app, port, token = viewer(behind_tls=True)
    attacker, inspector = {"X-Forwarded-For": "10.0.0.5"}, {"X-Forwarded-For": "10.0.0.6"}
    c = Client(port)
    for i in range(DEFAULT_MAX_FAILURES + 2):
        c.request("POST", "/api/login", {"token": f"wrong-token-{i:04d}"}, headers=attacker)
    assert c.request("POST", "/api/login", {"token": token}, headers=attacker)[0].status == 429
    resp, _ = c.request("POST", "/api/login", {"token": token}, headers=inspector)
    assert resp.status == 200 and "; Secure" in resp.getheader("Set-Cookie")
    assert {e["detail"]["client"] for e in _failed_logins(app)} == {"10.0.0.5"}


# -- 9: the verdict database failing -------------------------------------------------------------------

def _make_read_only(path: Path) -> None:
    """A read-only file for this process: mode 0444, or (root ignores modes) the immutable flag."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root on a file system without chattr +i: cannot make a file read-only")


@pytest.fixture()
def read_only():
    made: list[Path] = []

    def _ro(path: Path) -> None:
        _make_read_only(path)
        made.append(path)

    yield _ro
    for path in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(0o644)


def test_a_read_only_database_is_refused_at_start_with_a_clear_message(tmp_path: Path, read_only, capsys) -> None:
    standard_folder(tmp_path / "out")
    db = tmp_path / "v.sqlite"
    assert wildxray_main(["viewer", "--db", str(db), "--add-inspector", "alice"]) == 0
    read_only(db)
    with pytest.raises(VerdictDBError, match="is read-only"):
        ViewerApp(tmp_path / "out", db)
    capsys.readouterr()
    assert wildxray_main(["viewer", "--results", str(tmp_path / "out"), "--db", str(db), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"verdict database {db} is read-only" in err and "Traceback" not in err


def test_a_database_turning_read_only_while_serving_answers_503_and_reads_go_on(viewer, tmp_path, read_only) -> None:
    app, port, token = viewer()
    c = Client(port)
    c.login(token)
    read_only(app.db.path)
    status, body = c.json("POST", "/api/scans/scan-clear/parcel", {"verdict": "clear"}, headers={"X-CSRF-Token": c.csrf})
    assert status == 503 and "is read-only" in body["error"] and str(app.db.path) in body["error"]
    status, body = Client(port).json("POST", "/api/login", {"token": token})
    assert status == 503 and "is read-only" in body["error"]
    assert c.json("GET", "/api/scans")[0] == 200  # the queue is still readable


def test_a_database_deleted_while_serving_is_reported_never_recreated(viewer, tmp_path: Path, capsys) -> None:
    app, port, token = viewer()
    c = Client(port)
    c.login(token)
    app.db.path.unlink()
    for method, path, body in [("GET", "/api/scans", None), ("GET", "/api/me", None),
                               ("POST", "/api/login", {"token": token})]:
        status, answer = Client(port).json(method, path, body) if method == "POST" else c.json(method, path)
        assert status == 503 and "does not exist any more" in answer["error"], (path, status, answer)
    assert not app.db.path.exists(), "an empty database was created under the running viewer"
    # A restart does not quietly start over on an empty database either.
    assert wildxray_main(["viewer", "--results", str(tmp_path / "out"), "--db", str(app.db.path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "--add-inspector" in err and not app.db.path.exists()


def test_a_database_emptied_under_the_viewer_answers_503(viewer) -> None:
    app, port, token = viewer()
    c = Client(port)
    c.login(token)
    app.db.path.write_bytes(b"")  # replaced by a 0-byte file
    status, body = c.json("GET", "/api/scans")
    assert status == 503 and "has lost its tables" in body["error"]


# -- 10: cookie, CSRF origin, hostile bodies ------------------------------------------------------------

def test_cookie_is_secure_over_tls_or_when_the_proxy_says_https(viewer) -> None:
    _, port, token = viewer()
    plain, _ = Client(port).request("POST", "/api/login", {"token": token})
    assert "Secure" not in plain.getheader("Set-Cookie")
    proxied, _ = Client(port).request("POST", "/api/login", {"token": token}, headers={"X-Forwarded-Proto": "https"})
    assert "; Secure" in proxied.getheader("Set-Cookie")
    _, port2, token2 = viewer("v2.sqlite", behind_tls=True)
    assert "; Secure" in Client(port2).request("POST", "/api/login", {"token": token2})[0].getheader("Set-Cookie")


def test_origin_null_fails_the_csrf_check_even_with_the_token(viewer) -> None:
    app, port, token = viewer()
    c = Client(port)
    c.login(token)
    before = len(read_audit_log(app.db, "scan-clear"))
    status, body = c.json("POST", "/api/scans/scan-clear/parcel", {"verdict": "clear"},
                          headers={"X-CSRF-Token": c.csrf, "Origin": "null"})
    assert status == 403 and "cross-origin" in body["error"]
    assert Client(port).request("POST", "/api/login", {"token": token}, headers={"Origin": "null"})[0].status == 403
    assert len(read_audit_log(app.db, "scan-clear")) == before


def test_deeply_nested_json_huge_integers_and_odd_lengths_get_400(viewer) -> None:
    app, port, token = viewer()
    c = Client(port)
    c.login(token)
    csrf = {"X-CSRF-Token": c.csrf, "Content-Type": "application/json"}
    bodies = {"30,000-deep": b'{"verdict": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
              "5,000 digits": b'{"verdict": "clear", "note": ' + b"9" * 5_000 + b"}"}
    for what, raw in bodies.items():
        resp, payload = c.request("POST", "/api/scans/scan-clear/parcel", raw=raw, headers=csrf)
        assert resp.status == 400 and b"JSON" in payload, (what, resp.status, payload)
    assert Client(port).request("POST", "/api/login", raw=b"[" * 30_000,
                                headers={"Content-Type": "application/json"})[0].status == 400
    for length in ("+12", "1_0", "-5"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode())
            assert sock.recv(64).startswith(b"HTTP/1.0 400"), length
    assert c.json("GET", "/api/scans")[0] == 200


def test_a_half_sent_request_is_dropped_after_the_read_timeout(viewer) -> None:
    _, port, _ = viewer(read_timeout_s=1.0)
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        data = b""
        while chunk := sock.recv(4096):  # ends only when the server closes the connection
            data += chunk
    assert b"200 OK" not in data
    assert json.loads(Client(port).request("GET", "/api/me")[1]) == {"authenticated": False}
