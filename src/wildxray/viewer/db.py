"""The viewer's SQLite database: inspectors, sessions, verdicts and the append-only audit log.

One file holds everything an inspection produced, so that ``wildxray feedback export`` needs only
this file and the results folder. Verdict tables and the audit log are history: triggers abort any
UPDATE or DELETE on them, so "latest verdict per item wins" is a query, never an overwrite.
Times are UTC ISO 8601 strings with milliseconds (``2025-01-31T12:00:00.123+00:00``).

Faults: the file is created only by the constructor (and only with ``create=True``); every later
connection opens it read-write *without* creating it, so a database deleted or moved under a running
viewer is reported (``VerdictDBError``, HTTP 503) instead of silently replaced by an empty one with no
inspectors. A read-only file is refused at start, and a write that fails later says so.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inspectors (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256    TEXT PRIMARY KEY,
    inspector_id INTEGER NOT NULL REFERENCES inspectors(id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
-- One row per verdict on one box. item is 'det:<index into the result's detections>' or
-- 'add:<id of the row that added it>'. The det_* columns snapshot the detection as the inspector
-- saw it, so an export never depends on a results file that was rewritten later.
CREATE TABLE IF NOT EXISTS box_verdicts (
    id           INTEGER PRIMARY KEY,
    scan_id      TEXT NOT NULL,
    item         TEXT NOT NULL,
    verdict      TEXT NOT NULL CHECK (verdict IN ('confirm', 'reject', 'relabel', 'added')),
    label        TEXT,
    box          TEXT,
    det_label    TEXT,
    det_score    REAL,
    det_box      TEXT,
    inspector    TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS box_verdicts_scan ON box_verdicts(scan_id, item, id);
CREATE TABLE IF NOT EXISTS parcel_verdicts (
    id         INTEGER PRIMARY KEY,
    scan_id    TEXT NOT NULL,
    verdict    TEXT NOT NULL CHECK (verdict IN ('contraband', 'clear')),
    note       TEXT NOT NULL DEFAULT '',
    inspector  TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS parcel_verdicts_scan ON parcel_verdicts(scan_id, id);
CREATE TABLE IF NOT EXISTS audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    scan_id    TEXT,
    detail     TEXT NOT NULL
);
"""

_APPEND_ONLY = ("audit_log", "box_verdicts", "parcel_verdicts")


def _trigger_sql(table: str) -> str:
    return "".join(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;\n"
        for op in ("UPDATE", "DELETE")
    )


class VerdictDBError(ValueError):
    """The verdict database cannot be used (missing, read-only, not a database, lost its tables);
    the message names the file and what to do."""


def _explain(path: Path, exc: sqlite3.Error) -> VerdictDBError:
    text = str(exc)
    if not path.exists():
        why = ("does not exist any more (deleted or moved while in use); restore it from a backup and "
               "restart - a new empty database would have no inspectors and no verdicts")
    elif "readonly" in text or "read-only" in text:
        why = "is read-only: verdicts, logins and the audit log cannot be saved; make it (and its folder) writable"
    elif "no such table" in text:
        why = f"has lost its tables ({text}): it was replaced, perhaps by an empty file; restore it from a backup"
    elif "not a database" in text or "malformed" in text:
        why = f"is not a readable SQLite database ({text}); restore it from a backup"
    else:
        why = f"cannot be used: {text}"
    return VerdictDBError(f"verdict database {path} {why}")


def utc_now() -> str:
    """Current UTC time as ISO 8601 with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class VerdictDB:
    """Handle on one verdict database file. Thread-safe: each operation opens its own connection."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        """Open (``create``: or create) the database and check it is writable. VerdictDBError if not."""
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise ValueError(f"{self.path}: is a directory, expected an SQLite file")
        if not self.path.exists():
            if not create:
                raise VerdictDBError(f"verdict database {self.path} does not exist")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect(mode="rwc") as con:
            con.executescript(_SCHEMA + "".join(_trigger_sql(t) for t in _APPEND_ONLY))
            row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise ValueError(f"{self.path}: verdict database schema {row[0]}, this wildxray reads {SCHEMA_VERSION}")
            # A real write, so a read-only file fails here and not at the first inspector's login.
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def connect(self, mode: str = "rw") -> Iterator[sqlite3.Connection]:
        """A connection in a transaction: committed on success, rolled back on error, then closed.

        ``mode="rw"`` never creates the file. SQLite's operational failures (missing or read-only
        file, lost tables) come out as VerdictDBError naming the file; constraint errors pass through.
        """
        uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode={mode}"
        try:
            con = sqlite3.connect(uri, uri=True, timeout=10.0)
        except sqlite3.Error as exc:
            raise _explain(self.path, exc) from exc
        con.row_factory = sqlite3.Row
        try:
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA busy_timeout = 10000")
            with con:
                yield con
        except sqlite3.DatabaseError as exc:
            if type(exc) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
                raise  # a constraint or a programming error: the caller's business, not the file's
            raise _explain(self.path, exc) from exc
        finally:
            con.close()

    def get_meta(self, key: str) -> str | None:
        with self.connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.connect() as con:
            con.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))


def audit(con: sqlite3.Connection, actor: str, action: str, scan_id: str | None, detail: dict) -> None:
    """Append one audit record inside the caller's transaction (so it commits with the change)."""
    con.execute(
        "INSERT INTO audit_log (at, actor, action, scan_id, detail) VALUES (?, ?, ?, ?, ?)",
        (utc_now(), actor, action, scan_id, json.dumps(detail, sort_keys=True)),
    )


def read_audit_log(db: VerdictDB, scan_id: str | None = None) -> list[dict]:
    """The audit log, oldest first, optionally for one scan; ``detail`` is decoded."""
    sql = "SELECT id, at, actor, action, scan_id, detail FROM audit_log"
    args: tuple = ()
    if scan_id is not None:
        sql += " WHERE scan_id=?"
        args = (scan_id,)
    with db.connect() as con:
        rows = con.execute(sql + " ORDER BY id", args).fetchall()
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]
