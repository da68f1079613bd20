"""The station's SQLite journal: every scan it has taken on, and how far it got.

Exactly-once protocol (hot folder and uploads alike):

1. **claim** - a row ``(scan_id, source, work_path, state='claimed')`` is committed *before* the input
   is renamed from the hot folder into the work folder. The scan id is fixed from here on.
2. **result** - ``OUT/<scan_id>.json`` is written atomically; this is the commit point.
3. **finish** - the work file is moved to the archive (or quarantine) and the row becomes
   ``done`` (or ``error``).

After a crash or power cut, :meth:`Journal.unfinished` lists the claimed rows; the station resumes
each from what is on disk: result present -> just finish; work file present -> predict it; still in
the hot folder -> claim's rename is redone. Results are keyed by the claimed scan id, so redoing a
step rewrites the same file instead of adding a second result.

WAL mode with ``synchronous=FULL``: a committed claim survives a power cut.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    scan_id      TEXT PRIMARY KEY,
    origin       TEXT NOT NULL CHECK (origin IN ('folder', 'http')),
    source_name  TEXT NOT NULL,
    source_path  TEXT NOT NULL,
    work_path    TEXT NOT NULL,
    size         INTEGER,
    mtime_ns     INTEGER,
    arrived_unix REAL NOT NULL,
    received_at  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('claimed', 'done', 'error')),
    decision     TEXT,
    error_code   TEXT,
    model_sha256 TEXT,
    final_path   TEXT,
    finished_unix REAL
);
CREATE INDEX IF NOT EXISTS scans_state ON scans (state);
"""
#: Columns added after the first release: ALTERed into an older journal when it is opened.
#: source_fs: the hot-folder path's bytes, when its name is not valid UTF-8 (``source_path`` then
#: holds a readable, escaped form that SQLite can store, and recovery needs the real name).
#: idempotency_key, upload_sha256: an upload's ``Idempotency-Key`` and the sha256 of its body, so a
#: retry (the first reply lost to a crash or a dropped connection) gets the first upload's result.
ADDED_COLUMNS = {"source_fs": "BLOB", "idempotency_key": "TEXT", "upload_sha256": "TEXT"}


@dataclass
class ScanRecord:
    """One journal row. Paths are absolute strings; times are UNIX seconds / ISO-8601 UTC."""

    scan_id: str
    origin: str
    source_name: str
    source_path: str
    work_path: str
    size: int | None
    mtime_ns: int | None
    arrived_unix: float
    received_at: str
    state: str = "claimed"
    decision: str | None = None
    error_code: str | None = None
    model_sha256: str | None = None
    final_path: str | None = None
    finished_unix: float | None = None
    source_fs: bytes | None = None
    idempotency_key: str | None = None
    upload_sha256: str | None = None

    @property
    def source_os_path(self) -> str:
        """The source as the operating system names it (``source_path`` may be an escaped form)."""
        return os.fsdecode(self.source_fs) if self.source_fs is not None else self.source_path


_COLUMNS = tuple(ScanRecord.__dataclass_fields__)


class Journal:
    """Thread-safe access to ``journal.sqlite`` (one connection guarded by a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(scans)")}
        for column, kind in ADDED_COLUMNS.items():
            if column not in have:
                self._db.execute(f"ALTER TABLE scans ADD COLUMN {column} {kind}")
        self._db.execute("CREATE UNIQUE INDEX IF NOT EXISTS scans_idempotency_key ON scans (idempotency_key) "
                         "WHERE idempotency_key IS NOT NULL")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def claim(self, rec: ScanRecord) -> None:
        """Commit a new ``claimed`` row (before the input is moved). Raises on a duplicate scan id."""
        with self._lock:
            self._db.execute(
                f"INSERT INTO scans ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                tuple(getattr(rec, c) for c in _COLUMNS))

    def finish(self, scan_id: str, state: str, decision: str | None, error_code: str | None,
               model_sha256: str | None, final_path: str | None) -> None:
        """Mark a claimed scan ``done`` or ``error`` (after its result JSON is on disk)."""
        if state not in ("done", "error"):
            raise ValueError(f"finish state must be 'done' or 'error', got {state!r}")
        with self._lock:
            cur = self._db.execute(
                "UPDATE scans SET state=?, decision=?, error_code=?, model_sha256=?, final_path=?, finished_unix=? "
                "WHERE scan_id=? AND state='claimed'",
                (state, decision, error_code, model_sha256, final_path, time.time(), scan_id))
            if cur.rowcount != 1:
                raise KeyError(f"journal {self.path}: scan {scan_id} is not a claimed scan")

    def get(self, scan_id: str) -> ScanRecord | None:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM scans WHERE scan_id=?", (scan_id,)).fetchone()
        return None if row is None else ScanRecord(*row)

    def by_idempotency_key(self, key: str) -> ScanRecord | None:
        """The upload journalled under this ``Idempotency-Key``, or None."""
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM scans WHERE idempotency_key=?",
                                   (key,)).fetchone()
        return None if row is None else ScanRecord(*row)

    def unfinished(self) -> list[ScanRecord]:
        """Claimed scans without a final state, oldest first (what a restart must resume)."""
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM scans WHERE state='claimed' "
                                    "ORDER BY arrived_unix, scan_id").fetchall()
        return [ScanRecord(*r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Number of rows per state."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM scans GROUP BY state").fetchall()
        return {s: int(n) for s, n in rows}

    def all(self) -> list[ScanRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM scans ORDER BY arrived_unix").fetchall()
        return [ScanRecord(*r) for r in rows]
