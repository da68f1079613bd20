"""Which HTTP requests the station refuses before doing anything, and why (pure functions of headers).

A station on 127.0.0.1 without a token is reachable by every web page its operator opens: a page can
send "simple" cross-origin requests (form encodings or text/plain, no custom headers) without asking
first, and a DNS name rebound to 127.0.0.1 makes the page same-origin with the station. The checks:

- **Host** must be an IP literal, ``localhost`` (or ``*.localhost``), or a name the operator listed
  with ``--allow-host``: a rebound attacker name never is (DNS rebinding).
- **Writes** (POST) are refused when ``Origin`` names another origin or is ``null``, or when
  ``Sec-Fetch-Site`` says ``cross-site``/``same-site``: browsers send these, other clients do not.
- Without a token, a write whose body a cross-site form could have produced (``text/plain``,
  ``application/x-www-form-urlencoded``, ``multipart/form-data``) must carry one header a page cannot
  add without the station's consent: ``X-Filename``, ``Idempotency-Key`` or ``X-Wildxray-Client``.
  Covers browsers too old to send ``Origin``. Raw uploads (``image/png``, ``application/octet-stream``)
  are not simple requests and need nothing.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Collection, Mapping
from urllib.parse import urlsplit

#: Content types a browser sends cross-origin without a CORS preflight.
SIMPLE_CONTENT_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
#: Headers that make a request non-simple; a client sending one proves it is not a cross-site form.
CLIENT_HEADERS = ("x-filename", "idempotency-key", "x-wildxray-client", "authorization")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")


def parse_content_length(value: str) -> int:
    """The byte count of a ``Content-Length`` header; ValueError unless it is plain ASCII digits
    (``str.isdigit`` accepts ``²``, and ``int`` then raised inside the handler with no answer sent)."""
    text = value.strip()
    if not _CONTENT_LENGTH.fullmatch(text):
        raise ValueError(f"Content-Length must be a decimal byte count, got {value[:40]!r}")
    return int(text)


def split_host(host: str) -> tuple[str, str]:
    """``"name:8080"`` / ``"[::1]:8080"`` / ``"name"`` -> (lower-case host name, port or "")."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.lstrip(":")
    name, _, port = host.partition(":") if host.count(":") == 1 else (host, "", "")
    return name, port


def host_refusal(host_header: str | None, allowed_names: Collection[str] = ()) -> str | None:
    """Why a request's ``Host`` is refused (DNS rebinding), or None."""
    if host_header is None:  # HTTP/1.0 without Host: no browser sends that
        return None
    name, _ = split_host(host_header)
    if name == "localhost" or name.endswith(".localhost") or name in {n.lower() for n in allowed_names}:
        return None
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    return (f"Host {host_header[:100]!r} is not this station's address (use an IP address or localhost, "
            "or start the station with --allow-host NAME)")


def write_refusal(headers: Mapping[str, str], token_required: bool) -> str | None:
    """Why a POST is refused as a possible cross-site request, or None. ``headers``: lower-case names."""
    origin = headers.get("origin")
    if origin is not None:
        if origin.strip().lower() == "null":
            return "cross-origin write refused (Origin: null)"
        if urlsplit(origin.strip()).netloc.lower() != (headers.get("host") or "").strip().lower():
            return f"cross-origin write refused (Origin {origin[:100]!r})"
    site = (headers.get("sec-fetch-site") or "").strip().lower()
    if site and site not in ("same-origin", "none"):
        return f"cross-site write refused (Sec-Fetch-Site: {site})"
    media = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if not token_required and media in SIMPLE_CONTENT_TYPES and not any(h in headers for h in CLIENT_HEADERS):
        return (f"a {media} write to a station without a token is what a cross-site web form sends: send "
                "the image as its own type (Content-Type: image/png or application/octet-stream), or add an "
                "X-Filename, Idempotency-Key or X-Wildxray-Client header")
    return None
