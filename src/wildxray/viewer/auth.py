"""Inspectors, their tokens and login sessions.

An inspector is created once (``wildxray viewer --add-inspector NAME``), which prints a random
token; only its SHA-256 is stored (the token has 256 bits of entropy, so a fast hash is enough).
Logging in exchanges the token for a session: the browser keeps the session id in an HttpOnly,
SameSite=Strict cookie, and the page keeps a per-session CSRF token that every write must send in
the ``X-CSRF-Token`` header. Session ids are also stored hashed, so a copied database opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from wildxray.viewer.db import VerdictDB, audit, utc_now

SESSION_HOURS = 12
_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


class AuthError(Exception):
    """A login or session problem; the message is safe to show the user."""


@dataclass(frozen=True)
class Session:
    """A logged-in inspector. ``csrf_token`` must come back in ``X-CSRF-Token`` on every write."""

    inspector: str
    csrf_token: str
    expires_at: str


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_inspector(db: VerdictDB, name: str, replace_token: bool = False) -> str:
    """Create inspector ``name`` (or issue them a new token) and return the token, shown once."""
    name = name.strip()
    if not _NAME_RE.match(name):
        raise AuthError(f"inspector name {name!r}: must be 1-64 printable characters")
    token = secrets.token_urlsafe(32)
    with db.connect() as con:
        row = con.execute("SELECT id FROM inspectors WHERE name=?", (name,)).fetchone()
        if row is not None and not replace_token:
            raise AuthError(f"inspector {name!r} exists already; pass --replace-token to issue a new token")
        if row is None:
            con.execute(
                "INSERT INTO inspectors (name, token_sha256, created_at) VALUES (?, ?, ?)",
                (name, _sha256(token), utc_now()),
            )
            audit(con, "admin", "inspector_added", None, {"inspector": name})
        else:
            con.execute("UPDATE inspectors SET token_sha256=? WHERE id=?", (_sha256(token), row["id"]))
            con.execute("DELETE FROM sessions WHERE inspector_id=?", (row["id"],))
            audit(con, "admin", "inspector_token_replaced", None, {"inspector": name})
    return token


def list_inspectors(db: VerdictDB) -> list[str]:
    with db.connect() as con:
        return [r["name"] for r in con.execute("SELECT name FROM inspectors ORDER BY name")]


def login(db: VerdictDB, token: str, client: str | None = None) -> tuple[str, Session]:
    """Exchange an inspector token for ``(session_id, Session)``. Raises AuthError on a bad token,
    after committing a ``login_failed`` audit row (``client``: the caller's address, recorded)."""
    if not isinstance(token, str) or not 10 <= len(token) <= 200:
        record_login_failure(db, client, "malformed token")
        raise AuthError("invalid token")
    now = datetime.now(timezone.utc)
    with db.connect() as con:
        row = con.execute("SELECT id, name FROM inspectors WHERE token_sha256=?", (_sha256(token),)).fetchone()
        if row is not None:
            session_id = secrets.token_urlsafe(32)
            session = Session(row["name"], secrets.token_urlsafe(32), (now + timedelta(hours=SESSION_HOURS)).isoformat())
            con.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
            con.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (_sha256(session_id), row["id"], session.csrf_token, now.isoformat(), session.expires_at),
            )
            audit(con, row["name"], "login", None, {"client": client} if client else {})
    if row is None:
        # Its own transaction: raising inside the one above rolled the audit row back with it.
        record_login_failure(db, client, "unknown token")
        raise AuthError("invalid token")
    return session_id, session


def record_login_failure(db: VerdictDB, client: str | None, reason: str, action: str = "login_failed") -> None:
    """Append a ``login_failed`` (or ``login_throttled``) audit row, committed at once."""
    with db.connect() as con:
        audit(con, "anonymous", action, None, {"client": client, "reason": reason})


def session_for(db: VerdictDB, session_id: str | None) -> Session | None:
    """The live session for a cookie value, or None (unknown, expired, or no cookie)."""
    if not session_id or len(session_id) > 200:
        return None
    with db.connect() as con:
        row = con.execute(
            "SELECT i.name, s.csrf_token, s.expires_at FROM sessions s JOIN inspectors i ON i.id = s.inspector_id "
            "WHERE s.id_sha256=?",
            (_sha256(session_id),),
        ).fetchone()
    if row is None or row["expires_at"] < datetime.now(timezone.utc).isoformat():
        return None
    return Session(row["name"], row["csrf_token"], row["expires_at"])


def csrf_ok(session: Session, header_value: str | None) -> bool:
    """Constant-time check of the ``X-CSRF-Token`` header against the session's token."""
    return bool(header_value) and hmac.compare_digest(session.csrf_token.encode(), str(header_value).encode())


def logout(db: VerdictDB, session_id: str) -> None:
    with db.connect() as con:
        row = con.execute(
            "SELECT i.name FROM sessions s JOIN inspectors i ON i.id = s.inspector_id WHERE s.id_sha256=?",
            (_sha256(session_id),),
        ).fetchone()
        con.execute("DELETE FROM sessions WHERE id_sha256=?", (_sha256(session_id),))
        if row is not None:
            audit(con, row["name"], "logout", None, {})
