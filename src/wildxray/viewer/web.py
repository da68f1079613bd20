"""Minimal request/response records over WSGI (PEP 3333), with the viewer's security headers.

The viewer is a WSGI application so that the standard library serves it, with no web framework:
``wildxray viewer`` on its own, and ``wildxray station --viewer HOST:PORT`` as a second server of the
station's process, on its own address beside the station's HTTP API (not mounted in it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Callable, Iterable
from urllib.parse import parse_qs

MAX_BODY_BYTES = 64 * 1024
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")  # int() also takes "+1", "1_000", " 12" and "١٢"

# No inline script or style, nothing from another origin, no framing: injected markup could not
# run even if a label ever reached innerHTML (it does not: the page renders data with textContent).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]


class HTTPError(Exception):
    """Ends a request with ``status`` and a JSON body ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    """One parsed request. ``path`` is relative to where the app is mounted (PATH_INFO)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    body: bytes
    script_name: str = ""
    secure: bool = False
    remote_addr: str = ""

    @classmethod
    def from_environ(cls, environ: dict) -> "Request":
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        raw_length = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not _CONTENT_LENGTH.fullmatch(raw_length):
            raise HTTPError(400, "bad Content-Length: must be a decimal byte count")
        length = int(raw_length)
        if length > MAX_BODY_BYTES:
            raise HTTPError(413, f"request body over {MAX_BODY_BYTES} bytes")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        cookies: dict[str, str] = {}
        try:
            jar = SimpleCookie(headers.get("cookie", ""))
            cookies = {k: m.value for k, m in jar.items()}
        except CookieError:
            pass  # a malformed cookie header is treated as no cookie
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=False).items()}
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "") or "/",
            query=query,
            headers=headers,
            cookies=cookies,
            body=body,
            script_name=environ.get("SCRIPT_NAME", "").rstrip("/"),
            # Believing X-Forwarded-Proto is safe here: it can only make a cookie *more* restricted.
            secure=environ.get("wsgi.url_scheme") == "https"
            or headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower() == "https",
            remote_addr=str(environ.get("REMOTE_ADDR", "")),
        )

    def json(self) -> dict:
        """The body as a JSON object; 415 unless sent as application/json (a cross-site form cannot)."""
        if self.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise HTTPError(415, "send the body as application/json")
        try:
            data = json.loads(self.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPError(400, f"body is not valid JSON: {exc}") from None
        except RecursionError:  # e.g. 30,000 nested arrays: the parser's recursion limit, not a server fault
            raise HTTPError(400, "body is not usable JSON: nested too deeply") from None
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits (Python's int limit)
            raise HTTPError(400, f"body is not usable JSON: {exc}") from None
        if not isinstance(data, dict):
            raise HTTPError(400, "body must be a JSON object")
        return data


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, data: object, status: int = 200) -> "Response":
        return cls(status, json.dumps(data).encode("utf-8"), "application/json", [("Cache-Control", "no-store")])

    def wsgi(self, start_response: Callable) -> Iterable[bytes]:
        phrase = HTTPStatus(self.status).phrase
        headers = [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))]
        start_response(f"{self.status} {phrase}", headers + SECURITY_HEADERS + self.headers)
        return [self.body]
