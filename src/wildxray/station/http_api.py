"""The station's HTTP API on the standard library's ``ThreadingHTTPServer`` (described in openapi.json).

Endpoints: ``POST /v1/scans`` (raw image body, or multipart/form-data with a file part) answers with
the result JSON; ``GET /v1/scans/{id}`` and ``/v1/scans/{id}/overlay``; ``GET /v1/model``;
``POST /v1/model/reload``; ``GET /healthz``; ``GET /metrics``; ``GET /openapi.json``.

Security: the station binds to 127.0.0.1 unless told otherwise, and refuses a non-loopback address
without a bearer token (``cli.station``). With a token every endpoint but ``/healthz`` needs
``Authorization: Bearer <token>``. Uploads over ``max_upload_bytes`` are refused before reading. Scan
ids come from the server and are checked against ``^[A-Za-z0-9_-]{1,80}$`` before touching a path.
"""

from __future__ import annotations

import hmac
import json
import logging
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wildxray.runtime.result import is_scan_id
from wildxray.station.service import Station

log = logging.getLogger("wildxray.station.http")
OPENAPI_PATH = Path(__file__).with_name("openapi.json")
UPLOAD_WAIT_S = 120.0


class StationHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver listens with a backlog of 5: sixteen clients posting at once overflowed it and
    # some were reset (seen in CI); the kernel caps this at net.core.somaxconn.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], station: Station, token: str | None,
                 max_upload_bytes: int) -> None:
        self.station = station
        self.token = token
        self.max_upload_bytes = int(max_upload_bytes)
        super().__init__(address, StationHandler)


def _multipart_file(content_type: str, body: bytes) -> tuple[bytes, str] | None:
    """The first file part of a multipart/form-data body: (bytes, client file name)."""
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        return None
    for part in msg.iter_parts():
        name = part.get_filename()
        if name is not None or part.get_param("name", header="content-disposition") in ("file", "image"):
            payload = part.get_payload(decode=True)
            return (payload or b""), (name or "upload")
    return None


class StationHandler(BaseHTTPRequestHandler):
    server: StationHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "wildxray-station"

    def log_message(self, fmt: str, *args: Any) -> None:  # route access logs through logging
        log.debug("%s %s", self.address_string(), fmt % args)

    # -- helpers -------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        self._send(status, (json.dumps(obj, indent=2) + "\n").encode(), "application/json", extra)

    def _problem(self, status: int, message: str, extra: dict[str, str] | None = None) -> None:
        self._json(status, {"error": HTTPStatus(status).phrase, "message": message}, extra)

    def _authorised(self, path: str) -> bool:
        token = self.server.token
        if token is None or path == "/healthz":
            return True
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
        self.close_connection = True
        self._problem(401, "a bearer token is required", {"WWW-Authenticate": 'Bearer realm="wildxray-station"'})
        return False

    # -- routing -------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        if not self._authorised(path):
            return
        st = self.server.station
        if path == "/healthz":
            det = st.current_detector()
            watcher = st.watch_health.snapshot()
            status = "stopping" if st.stopping else "watcher_stuck" if watcher["stuck"] else "ok"
            # 503 when the hot folder is not being watched: a probe restarts or alerts, as it should.
            self._json(503 if status == "watcher_stuck" else 200,
                       {"status": status, "model": det.info, "queue_depth": st.queue_depth(), "watcher": watcher})
        elif path == "/metrics":
            det = st.current_detector()
            body = st.metrics.render(st.queue_depth(), det.name, det.sha256).encode()
            self._send(200, body, "text/plain; version=0.0.4; charset=utf-8")
        elif path == "/openapi.json":
            self._send(200, OPENAPI_PATH.read_bytes(), "application/json")
        elif path == "/v1/model":
            det = st.current_detector()
            self._json(200, {**det.info, "path": str(det.path), "card": det.card})
        elif path.startswith("/v1/scans/"):
            self._get_scan(path[len("/v1/scans/"):])
        else:
            self._problem(404, f"no such endpoint: {url.path}")

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def _get_scan(self, rest: str) -> None:
        scan_id, _, what = rest.partition("/")
        if not is_scan_id(scan_id):  # nothing a client sends reaches a path unless it is a scan id
            self._problem(404, "no such scan")
            return
        out = self.server.station.cfg.out
        files = {"": (f"{scan_id}.json", "application/json"), "overlay": (f"{scan_id}.png", "image/png"),
                 "image": (f"{scan_id}.image.jpg", "image/jpeg")}
        if what not in files:
            self._problem(404, f"no such scan resource: {what}")
            return
        name, ctype = files[what]
        try:
            body = (out / name).read_bytes()
        except FileNotFoundError:
            self._problem(404, f"no result for scan {scan_id}")
            return
        self._send(200, body, ctype)

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        if not self._authorised(path):
            return
        if path == "/v1/scans":
            self._post_scan(url.query)
        elif path == "/v1/model/reload":
            self._drain_body()
            try:
                info = self.server.station.reload_model()
            except Exception as exc:  # noqa: BLE001 - the old model keeps serving; say why
                self._problem(409, f"model not swapped, the old one keeps serving: {exc}")
                return
            self._json(200, {"status": "reloaded", "model": info})
        else:
            self._problem(404, f"no such endpoint: {url.path}")

    def _drain_body(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if 0 < n <= 1 << 16:
            self.rfile.read(n)
        elif n:
            self.close_connection = True

    def _post_scan(self, query: str) -> None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._problem(411, "Content-Length is required")
            return
        n = int(length)
        if n > self.server.max_upload_bytes:
            self.close_connection = True  # do not read the body: drop the connection after answering
            self._problem(413, f"upload of {n} bytes exceeds the limit of {self.server.max_upload_bytes} bytes")
            return
        body = self.rfile.read(n)
        ctype = self.headers.get("Content-Type", "application/octet-stream")
        filename = (parse_qs(query).get("filename") or [self.headers.get("X-Filename", "upload")])[0]
        if ctype.lower().startswith("multipart/form-data"):
            part = _multipart_file(ctype, body)
            if part is None:
                self._problem(400, "multipart upload without a file part")
                return
            body, filename = part
        st = self.server.station
        try:
            job = st.submit_upload(body, filename)
        except RuntimeError as exc:
            self._problem(503, str(exc))
            return
        if not job.done.wait(UPLOAD_WAIT_S) or job.outcome is None:
            self._problem(503, f"scan {job.record.scan_id} was not finished (station stopping or overloaded); "
                               "it is journalled and will be processed")
            return
        result = job.outcome.result
        status = 422 if result["decision"] == "error" else 200
        self._json(status, result, {"Location": f"/v1/scans/{result['scan_id']}"})
