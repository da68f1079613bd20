"""The station's HTTP API on the standard library's ``ThreadingHTTPServer`` (described in openapi.json).

Endpoints: ``POST /v1/scans`` (raw image body, or multipart/form-data with a file part) answers with
the result JSON; ``GET /v1/scans/{id}`` and ``/v1/scans/{id}/overlay``; ``GET /v1/model``;
``POST /v1/model/reload``; ``GET /healthz``; ``GET /metrics``; ``GET /openapi.json``.

Security: the station binds to 127.0.0.1 unless told otherwise, and refuses a non-loopback address
without a bearer token (``cli.station``). With a token every endpoint but ``/healthz`` needs
``Authorization: Bearer <token>``. Every request's Host and every write's Origin are checked
(``request_guard``: DNS rebinding, cross-site pages). Uploads over ``max_upload_bytes`` are refused
before reading. Scan ids come from the server and are checked against ``^[A-Za-z0-9_-]{1,80}$`` before
touching a path.

Faults: every connection has a read timeout (``read_timeout_s``, also while idle between requests);
an upload body must arrive within the timeout plus ``MIN_UPLOAD_RATE`` per byte. A body that is cut
off (client gone) or late (408) leaves nothing behind: the scan is only taken on once its body is
whole. ``Idempotency-Key`` makes a retried upload answer with the first upload's result.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wildxray.runtime.result import is_scan_id
from wildxray.station.request_guard import host_refusal, parse_content_length, write_refusal
from wildxray.station.service import IdempotencyConflict, Station

log = logging.getLogger("wildxray.station.http")
OPENAPI_PATH = Path(__file__).with_name("openapi.json")
UPLOAD_WAIT_S = 120.0
DEFAULT_READ_TIMEOUT_S = 30.0
MIN_UPLOAD_RATE = 64_000  # bytes/s: a 64 MB upload may take 17 minutes, a 2-byte trickle may not
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")


class BodyIncomplete(Exception):
    """The request body did not arrive whole: the client left, or was too slow (``timed_out``)."""

    def __init__(self, got: int, expected: int, timed_out: bool) -> None:
        super().__init__(f"{got} of {expected} body bytes {'in time' if timed_out else 'before the client left'}")
        self.timed_out = timed_out


class StationHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver listens with a backlog of 5: sixteen clients posting at once overflowed it and
    # some were reset (seen in CI); the kernel caps this at net.core.somaxconn.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], station: Station, token: str | None,
                 max_upload_bytes: int, allowed_hosts: tuple[str, ...] = (),
                 read_timeout_s: float = DEFAULT_READ_TIMEOUT_S) -> None:
        self.station = station
        self.token = token
        self.max_upload_bytes = int(max_upload_bytes)
        self.allowed_hosts = tuple(allowed_hosts)
        self.read_timeout_s = float(read_timeout_s)
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

    def setup(self) -> None:
        # StreamRequestHandler applies ``timeout`` to the socket: no read (request line, headers,
        # body, or the wait for the next request on a kept-alive connection) blocks longer.
        self.timeout = self.server.read_timeout_s
        super().setup()

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

    def _admitted(self, path: str, write: bool) -> bool:
        """Host check, then (for writes) the cross-site checks, then the token; answers if refused."""
        refusal = host_refusal(self.headers.get("Host"), self.server.allowed_hosts)
        if refusal is None and write:
            refusal = write_refusal({k.lower(): v for k, v in self.headers.items()}, self.server.token is not None)
        if refusal is not None:
            log.warning("%s %s %s refused: %s", self.address_string(), self.command, path, refusal)
            self.close_connection = True
            self._problem(403, refusal)
            return False
        return self._authorised(path)

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
        if not self._admitted(path, write=False):
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
        if not self._admitted(path, write=True):
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
        try:
            n = parse_content_length(self.headers.get("Content-Length") or "0")
        except ValueError:
            n = -1
        if 0 < n <= 1 << 16:
            self._read_body(n)
        elif n:
            self.close_connection = True

    def _read_body(self, n: int) -> bytes:
        """Exactly ``n`` body bytes, or BodyIncomplete: each read waits at most the socket timeout, the
        whole body at most that plus ``n / MIN_UPLOAD_RATE`` seconds."""
        deadline = time.monotonic() + self.server.read_timeout_s + n / MIN_UPLOAD_RATE
        parts, got = [], 0
        while got < n:
            if time.monotonic() > deadline:
                raise BodyIncomplete(got, n, timed_out=True)
            try:
                chunk = self.rfile.read(min(n - got, 1 << 16))
            except TimeoutError:
                raise BodyIncomplete(got, n, timed_out=True) from None
            except OSError:  # reset by the peer
                chunk = b""
            if not chunk:
                raise BodyIncomplete(got, n, timed_out=False)
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def _post_scan(self, query: str) -> None:
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            self._problem(411, "Content-Length is required")
            return
        try:
            n = parse_content_length(length)
        except ValueError as exc:
            self.close_connection = True
            self._problem(400, str(exc))
            return
        if n > self.server.max_upload_bytes:
            self.close_connection = True  # do not read the body: drop the connection after answering
            self._problem(413, f"upload of {n} bytes exceeds the limit of {self.server.max_upload_bytes} bytes")
            return
        key = self.headers.get("Idempotency-Key")
        if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
            self.close_connection = True
            self._problem(400, "Idempotency-Key must be 1-200 printable ASCII characters without spaces")
            return
        try:
            body = self._read_body(n)
        except BodyIncomplete as exc:
            # Nothing was written or journalled: a cut-off upload leaves no result and no file.
            self.close_connection = True
            log.warning("%s: upload dropped, %s", self.address_string(), exc)
            if exc.timed_out:
                self._problem(408, f"upload body not received in time: {exc}")
            return
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
            job, replayed = st.submit_upload(body, filename, idempotency_key=key)
        except IdempotencyConflict as exc:
            self._problem(409, str(exc))
            return
        except RuntimeError as exc:
            self._problem(503, str(exc))
            return
        if not job.done.wait(UPLOAD_WAIT_S) or job.outcome is None:
            self._problem(503, f"scan {job.record.scan_id} was not finished (station stopping or overloaded); "
                               "it is journalled and will be processed")
            return
        result = job.outcome.result
        status = 422 if result["decision"] == "error" else 200
        headers = {"Location": f"/v1/scans/{result['scan_id']}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        self._json(status, result, headers)
