"""The HTTP API under hostile requests, over raw sockets: cross-site pages and DNS rebinding,
cut-off and idle connections, malformed Content-Length.

Found by the attack of 2026-12-01 (127.0.0.1 only): a page in the operator's browser created scans
and reloaded the model of a token-less station; 300 half-sent uploads held their connections with no
timeout and, once closed, left 300 error results and quarantine files; ``Content-Length: ²`` got no
answer and a traceback.
"""

from __future__ import annotations

import json
import socket
import time

import cv2
import numpy as np

from tests.fixtures.contract_model import draw_patch, grey_image


def _png() -> bytes:
    return cv2.imencode(".png", np.ascontiguousarray(draw_patch(grey_image(64, 64), (5, 5, 25, 25))[..., ::-1]))[1].tobytes()


def _address(st) -> tuple[str, int]:
    host, port = st.url.split("//")[1].split(":")
    return host, int(port)


def raw_request(st, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                timeout: float = 20.0) -> tuple[int, bytes]:
    """Send one request exactly as given (no Host added); (status, body), status -1 if none came."""
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "Connection: close", "", ""]
    with socket.create_connection(_address(st), timeout=timeout) as sock:
        sock.sendall("\r\n".join(lines).encode("latin-1") + body)  # as http.server decodes headers
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data.startswith(b"HTTP/"):
        return -1, data
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def _multipart(png: bytes) -> tuple[str, bytes]:
    """What ``fetch(url, {mode: "no-cors", method: "POST", body: formData})`` sends."""
    b = "----WebKitFormBoundaryx7"
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{b}--\r\n".encode()
    return f"multipart/form-data; boundary={b}", body


def test_cross_site_pages_and_rebound_host_names_are_refused(start_station, contract_model):
    st = start_station(contract_model, "--allow-host", "station.lan")
    host, port = _address(st)
    here = f"{host}:{port}"
    png = _png()
    ctype, form = _multipart(png)
    refused = {
        # DNS rebinding: attacker.example resolves to 127.0.0.1, the page is then "same-origin".
        "rebound reload": ("POST", "/v1/model/reload", {"Host": f"attacker.example:{port}",
                                                       "Origin": f"http://attacker.example:{port}",
                                                       "Content-Type": "text/plain", "Content-Length": "0"}, b""),
        "rebound read": ("GET", "/v1/model", {"Host": f"attacker.example:{port}"}, b""),
        "cross-origin form": ("POST", "/v1/scans", {"Host": here, "Origin": "http://attacker.example",
                                                    "Content-Type": ctype, "Content-Length": str(len(form))}, form),
        "null origin": ("POST", "/v1/scans", {"Host": here, "Origin": "null", "Content-Type": "image/png",
                                              "Content-Length": str(len(png))}, png),
        "cross-site fetch": ("POST", "/v1/scans", {"Host": here, "Sec-Fetch-Site": "cross-site",
                                                   "Content-Type": "image/png", "Content-Length": str(len(png))}, png),
        # A form from a browser too old to send Origin: a simple request with no client header.
        "form without origin": ("POST", "/v1/scans", {"Host": here, "Content-Type": ctype,
                                                      "Content-Length": str(len(form))}, form),
        "text/plain reload": ("POST", "/v1/model/reload", {"Host": here, "Content-Type": "text/plain",
                                                           "Content-Length": "0"}, b""),
    }
    for what, (method, path, headers, body) in refused.items():
        status, payload = raw_request(st, method, path, headers, body)
        assert status == 403, (what, status, payload)
        assert json.loads(payload)["message"], what
    assert list(st.out.glob("*.json")) == []
    metrics = st.request("GET", "/metrics")[1].decode()
    assert "wildxray_model_reloads_total{" not in metrics  # no reload happened

    accepted = {
        "same-origin page": {"Host": here, "Origin": f"http://{here}", "Sec-Fetch-Site": "same-origin",
                             "Content-Type": "image/png"},
        "curl, raw body": {"Host": here, "Content-Type": "application/octet-stream"},
        "curl -F with a client header": {"Host": f"localhost:{port}", "Content-Type": ctype, "X-Wildxray-Client": "curl"},
        "a name given with --allow-host": {"Host": f"station.lan:{port}", "Content-Type": "image/png"},
    }
    for what, headers in accepted.items():
        body = form if headers["Content-Type"] == ctype else png
        status, payload = raw_request(st, "POST", "/v1/scans", {**headers, "Content-Length": str(len(body))}, body)
        assert status == 200 and json.loads(payload)["decision"] == "alarm", (what, status, payload)
    assert raw_request(st, "GET", "/healthz", {"Host": f"[::1]:{port}"})[0] == 200
    assert len(list(st.out.glob("*.json"))) == len(accepted)
    assert st.stop() == 0


def test_cut_off_uploads_leave_nothing_and_idle_connections_time_out(start_station, contract_model):
    st = start_station(contract_model, "--http-timeout-s", "1")
    head = (f"POST /v1/scans?filename=cut.png HTTP/1.1\r\nHost: {st.url.split('//')[1]}\r\n"
            "Content-Type: image/png\r\nContent-Length: 1000\r\n\r\n").encode() + b"\x89P"
    slow = [socket.create_connection(_address(st), timeout=15) for _ in range(20)]
    gone = [socket.create_connection(_address(st), timeout=15) for _ in range(20)]
    idle = [socket.create_connection(_address(st), timeout=15) for _ in range(5)]
    for s in slow + gone:
        s.sendall(head)
    for s in gone:  # the client leaves mid-body
        s.close()
    try:
        for s in slow + idle:  # the server must end each of these itself: 408, or just closing
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:200]
    finally:
        for s in slow + idle:
            s.close()
    time.sleep(0.5)
    assert list(st.out.glob("*.json")) == []
    assert list((st.watch / "quarantine").iterdir()) == []
    assert list((st.watch / ".wildxray-work").iterdir()) == []
    status, body, _ = st.request("POST", "/v1/scans?filename=whole.png", _png())
    assert status == 200 and json.loads(body)["source_name"] == "whole.png"
    assert len(list(st.out.glob("*.json"))) == 1
    assert st.stop() == 0


def test_a_content_length_that_is_not_ascii_digits_gets_400(start_station, contract_model):
    st = start_station(contract_model)
    here = st.url.split("//")[1]
    for value in ("²", "¹³", "-5", "1e3", "12 34", "9" * 5000):  # str.isdigit() is True for the first two
        status, payload = raw_request(st, "POST", "/v1/scans", {"Host": here, "Content-Type": "image/png",
                                                                "Content-Length": value})
        assert status == 400 and b"Content-Length" in payload, (value[:10], status, payload)
    status, _ = raw_request(st, "POST", "/v1/scans", {"Host": here, "Content-Type": "image/png"})
    assert status == 411
    assert st.request("GET", "/healthz")[0] == 200
    assert "Traceback" not in st.log.read_text()
    assert list(st.out.glob("*.json")) == []
    assert st.stop() == 0
