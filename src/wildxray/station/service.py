"""The station: hot folder + uploads -> workers -> results, journalled for exactly-once processing.

Threads: one watcher polls the hot folder and claims ready files (journal row first, then a rename
into the work folder); ``workers`` threads predict claimed scans, uploads first; the HTTP server
(``http_api``) submits uploads and waits for their result. Each job takes the model in service
*when it starts*, so a model swap never disturbs a scan in flight, and every result names the
sha256 of the model that produced it. See ``journal`` for the crash-recovery protocol.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import os
import queue
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wildxray.runtime.result import error_result, new_scan_id, utc_now_iso, write_result
from wildxray.runtime.scan import DEFAULT_MAX_ASPECT, DEFAULT_MAX_PIXELS, ScanOutcome, process_file
from wildxray.runtime.session import OnnxDetector
from wildxray.station.health import WatcherHealth
from wildxray.station.journal import Journal, ScanRecord
from wildxray.station.metrics import StationMetrics
from wildxray.station.watcher import HotFolder, ReadyFile

log = logging.getLogger("wildxray.station")

PRIORITY_UPLOAD, PRIORITY_FOLDER = 0, 1
MAX_REREADS = 3  # a file still changing after this many predictions is taken as it is
MAX_CLAIM_ATTEMPTS = 3  # polls in a row a hot-folder file may fail to be claimed before it is set aside
#: Read errors a hot-folder file gives while its writer is still writing (every format ends in
#: "truncated" when cut anywhere; zero-byte files already wait ``HotFolder.empty_settle_s``).
INCOMPLETE_CODES = frozenset({"truncated", "empty_file"})
INCOMPLETE_RECHECK_S = 0.2  # how often an incomplete file is looked at again


class StationBusyError(RuntimeError):
    """Another station process holds this state folder."""


class IdempotencyConflict(ValueError):
    """An ``Idempotency-Key`` sent again with a different upload."""


@dataclass
class StationConfig:
    """Everything a station needs; folders are created when missing.

    watch: hot folder; out: results folder; state: journal + lock (default ``OUT/.station``);
    archive/quarantine: where processed / unreadable inputs go (default ``WATCH/archive`` and
    ``WATCH/quarantine``, on the hot folder's file system so moves are atomic renames).
    incomplete_wait_s: how long a truncated hot-folder file must stay unchanged before its error
    stands (0: at once); until then it is re-read whenever it changes.
    """

    model: Path
    watch: Path
    out: Path
    state: Path | None = None
    archive: Path | None = None
    quarantine: Path | None = None
    threads: int | None = 1
    workers: int = 2
    settle_s: float = 0.1
    poll_s: float = 0.02
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_aspect: float = DEFAULT_MAX_ASPECT
    fsync: bool = True
    incomplete_wait_s: float = 5.0

    def __post_init__(self) -> None:
        self.model, self.watch, self.out = Path(self.model), Path(self.watch).resolve(), Path(self.out).resolve()
        self.state = Path(self.state).resolve() if self.state else self.out / ".station"
        self.archive = Path(self.archive).resolve() if self.archive else self.watch / "archive"
        self.quarantine = Path(self.quarantine).resolve() if self.quarantine else self.watch / "quarantine"

    @property
    def work(self) -> Path:
        # Inside the hot folder (a dot-folder the watcher ignores): the claim rename stays atomic.
        return self.watch / ".wildxray-work"


@dataclass
class Job:
    """A claimed scan waiting for, or held by, a worker."""

    record: ScanRecord
    done: threading.Event = field(default_factory=threading.Event)
    outcome: ScanOutcome | None = None
    incomplete_since: float | None = None  # monotonic time its (unwritten) truncated outcome was last seen change
    incomplete_stat: tuple[int, int] | None = None


def printable(os_text: str) -> str:
    """A file name or path as text SQLite and JSON can hold: bytes that are not UTF-8 (which Python
    keeps as lone surrogates) become ``\\xNN`` escapes, e.g. ``bad\\xff\\xfename.png``."""
    return os.fsencode(os_text).decode("utf-8", "backslashreplace")


def safe_name(name: str, limit: int = 100) -> str:
    """A client/file name reduced to ``[A-Za-z0-9._-]`` (no separators, no leading dots)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name.replace("\\", "/")).name).lstrip(".")
    return cleaned[:limit] or "upload"


class Station:
    """One running station. ``start()``, then ``submit_upload``/``reload_model``; ``stop()`` drains."""

    def __init__(self, cfg: StationConfig) -> None:
        self.cfg = cfg
        self.metrics = StationMetrics()
        self._queue: queue.PriorityQueue[tuple[int, int, Job]] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._model_lock = threading.Lock()
        self._lock_fh: Any = None
        self.detector: OnnxDetector | None = None
        self.journal: Journal | None = None
        self.watch_health = WatcherHealth()
        self._claim_failures: dict[Path, int] = {}  # watcher thread only
        self._given_up: set[Path] = set()
        self._deferred: list[tuple[float, Job]] = []  # (monotonic due time, job) of incomplete files
        self._deferred_lock = threading.Lock()
        self._intake_lock = threading.Lock()
        self._live: dict[str, Job] = {}  # keyed uploads not finished yet, by scan id
        self._live_lock = threading.Lock()

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        cfg = self.cfg
        for d in (cfg.watch, cfg.out, cfg.state, cfg.work, cfg.archive, cfg.quarantine):
            d.mkdir(parents=True, exist_ok=True)
        self._lock_fh = open(cfg.state / "station.lock", "a+")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StationBusyError(f"{cfg.state}: another station is running on this results folder") from exc
        self.detector = OnnxDetector(cfg.model, threads=cfg.threads)  # raises on a bad card: refused
        self.journal = Journal(cfg.state / "journal.sqlite")
        self._recover()
        for i in range(max(1, cfg.workers)):
            self._spawn(self._work_loop, f"worker-{i}")
        self.watch_health.attach(self._spawn(self._watch_loop, "watcher"))

    def _spawn(self, target: Any, name: str) -> threading.Thread:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)
        return t

    def stop(self, timeout: float = 60.0) -> None:
        """Stop taking scans; each worker finishes the scan in hand. Queued scans stay claimed on disk
        (they resume at the next start); waiting uploads are released without a result."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        while True:
            try:
                _, _, job = self._queue.get_nowait()
            except queue.Empty:
                break
            job.done.set()
        if self.journal:
            self.journal.close()
        if self._lock_fh:
            self._lock_fh.close()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def queue_depth(self) -> int:
        return self._queue.qsize()

    # -- model swap --------------------------------------------------------------------------
    def reload_model(self, path: str | Path | None = None) -> dict[str, Any]:
        """Load ``path`` (default: the configured model) and swap it in; the old model keeps serving
        if the new one is refused (the exception propagates). Returns the new model's info."""
        try:
            new = OnnxDetector(Path(path) if path else self.cfg.model, threads=self.cfg.threads)
        except Exception:
            self.metrics.observe_reload(False)
            raise
        with self._model_lock:
            self.detector = new  # jobs already running keep the reference they took
        self.metrics.observe_reload(True)
        log.info("model swapped in: %s sha256=%s", new.name, new.sha256)
        return new.info

    def current_detector(self) -> OnnxDetector:
        with self._model_lock:
            assert self.detector is not None
            return self.detector

    # -- intake --------------------------------------------------------------------------------
    def _enqueue(self, job: Job, priority: int) -> None:
        self._queue.put((priority, next(self._seq), job))

    def _claim(self, rec: ScanRecord, source: Path) -> None:
        """Journal first, then move: after a crash the row tells where the input went."""
        assert self.journal is not None
        self.journal.claim(rec)
        os.replace(source, rec.work_path)

    def _watch_loop(self) -> None:
        folder = HotFolder(self.cfg.watch, self.cfg.settle_s)
        while not self._stop.is_set():
            self._requeue_due()
            try:
                ready = folder.ready()
            except OSError as exc:  # the share went away, the folder was replaced or unreadable
                if self.watch_health.failed(exc) == 1:
                    log.error("cannot list the hot folder %s: %s; retrying every second", self.cfg.watch, exc)
                self.metrics.observe_hot_folder("poll_failed")
                self._stop.wait(1.0)
                continue
            self.watch_health.progress()
            for f in ready:
                if self._stop.is_set():
                    break
                if f.path in self._given_up:
                    continue
                try:
                    self._take(f)
                except Exception as exc:  # noqa: BLE001 - one file must never stop the others
                    self._take_failed(f, exc)
                else:
                    self._claim_failures.pop(f.path, None)
                self.watch_health.progress()  # a long backlog is progress, not a stuck watcher
            self._stop.wait(self.cfg.poll_s)

    def _take(self, f: ReadyFile) -> None:
        """Claim one ready hot-folder file and queue it."""
        sid = new_scan_id()
        suffix = "." + safe_name(f.path.suffix[1:], 16) if f.path.suffix else ""
        shown_name, shown_path = printable(f.path.name), printable(str(f.path))
        if shown_path != str(f.path):
            log.warning("%s: the file name is not valid UTF-8; its results name it %r", shown_path, shown_name)
            self.metrics.observe_hot_folder("undecodable_name")
        rec = ScanRecord(scan_id=sid, origin="folder", source_name=shown_name, source_path=shown_path,
                         work_path=str(self.cfg.work / f"{sid}{suffix}"), size=f.size, mtime_ns=f.mtime_ns,
                         arrived_unix=time.time(), received_at=utc_now_iso(),
                         source_fs=os.fsencode(f.path) if shown_path != str(f.path) else None)
        try:
            self._claim(rec, f.path)
        except FileNotFoundError:
            assert self.journal is not None
            self.journal.finish(sid, "error", None, "vanished", None, None)
            if not f.path.exists():  # vanished between listing and claim: nothing to do
                return
            self.cfg.work.mkdir(parents=True, exist_ok=True)  # it was the work folder that was missing
            raise
        self._enqueue(Job(rec), PRIORITY_FOLDER)

    def _take_failed(self, f: ReadyFile, exc: Exception) -> None:
        """Count a file that could not be claimed; after ``MAX_CLAIM_ATTEMPTS`` move it to quarantine
        (or, if even that fails, stop trying it until restart) so it cannot hold up the folder."""
        n = self._claim_failures[f.path] = self._claim_failures.get(f.path, 0) + 1
        shown = printable(str(f.path))
        self.metrics.observe_hot_folder("claim_failed")
        if n < MAX_CLAIM_ATTEMPTS:
            log.warning("%s: cannot take it (attempt %d of %d): %s: %s", shown, n, MAX_CLAIM_ATTEMPTS,
                        type(exc).__name__, exc)
            return
        self._claim_failures.pop(f.path, None)
        self.metrics.observe_hot_folder("unclaimable")
        assert self.cfg.quarantine is not None
        dest = self.cfg.quarantine / f"unclaimed-{new_scan_id()}__{safe_name(printable(f.path.name))}"
        try:
            os.replace(f.path, dest)
        except OSError as move_exc:
            self._given_up.add(f.path)
            log.error("%s: cannot take it (%s: %s) nor move it to quarantine (%s); skipping it until restart",
                      shown, type(exc).__name__, exc, move_exc)
            return
        log.error("%s: cannot take it after %d attempts (%s: %s); moved to %s without a result",
                  shown, MAX_CLAIM_ATTEMPTS, type(exc).__name__, exc, dest)

    def submit_upload(self, data: bytes, filename: str, idempotency_key: str | None = None) -> tuple[Job, bool]:
        """Take an uploaded image: write it to the work folder, journal it, queue it first.

        Returns ``(job, replayed)``. With an ``idempotency_key`` already journalled (a client retrying
        after its reply was lost, even across a restart), nothing new is taken: the job is the first
        upload's, ``replayed`` is True. IdempotencyConflict if that key came with another body.
        """
        if self._stop.is_set():
            raise RuntimeError("station is shutting down")
        sha = hashlib.sha256(data).hexdigest() if idempotency_key is not None else None
        # One key, one scan: a concurrent retry must find the first claim (unkeyed uploads need no lock).
        with self._intake_lock if idempotency_key is not None else contextlib.nullcontext():
            if idempotency_key is not None:
                assert self.journal is not None
                first = self.journal.by_idempotency_key(idempotency_key)
                if first is not None:
                    if first.upload_sha256 != sha:
                        raise IdempotencyConflict(f"Idempotency-Key {idempotency_key!r} was used for scan "
                                                  f"{first.scan_id}, whose upload had other bytes")
                    return self._job_of(first), True
            sid = new_scan_id()
            name = safe_name(filename)
            suffix = Path(name).suffix if len(Path(name).suffix) <= 8 else ""
            work = self.cfg.work / f"{sid}{suffix}"
            tmp = self.cfg.work / f".{sid}.upload"  # written, then journalled, then renamed into place
            with open(tmp, "wb") as fh:
                fh.write(data)
            rec = ScanRecord(scan_id=sid, origin="http", source_name=name, source_path=f"upload:{name}",
                             work_path=str(work), size=len(data), mtime_ns=None, arrived_unix=time.time(),
                             received_at=utc_now_iso(), idempotency_key=idempotency_key, upload_sha256=sha)
            self._claim(rec, tmp)
            job = self._track(Job(rec))
        self._enqueue(job, PRIORITY_UPLOAD)
        return job, False

    def _track(self, job: Job) -> Job:
        """Remember a keyed upload's job until it finishes, for retries that arrive meanwhile."""
        if job.record.idempotency_key is not None:
            with self._live_lock:
                self._live[job.record.scan_id] = job
        return job

    def _job_of(self, rec: ScanRecord) -> Job:
        """The job of an upload journalled earlier: still running (wait on it) or finished (its result)."""
        with self._live_lock:
            job = self._live.get(rec.scan_id)
        if job is not None:
            return job
        done = Job(rec)
        result_path = self.cfg.out / f"{rec.scan_id}.json"
        if result_path.exists():  # finished (the job leaves ``_live`` only after its result is on disk)
            done.outcome = ScanOutcome(json.loads(result_path.read_text()), result_path)
        done.done.set()  # without an outcome: the handler answers 503, the scan is still journalled
        return done

    # -- processing ----------------------------------------------------------------------------
    def _work_loop(self) -> None:
        while not self._stop.is_set():
            try:
                _, _, job = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.metrics.scan_started()
            try:
                self._process(job)
            except Exception:  # never lose the worker; the job stays claimed and resumes on restart
                log.exception("scan %s failed unexpectedly", job.record.scan_id)
            finally:
                self.metrics.scan_ended()
                job.done.set()

    def _process(self, job: Job) -> None:
        rec = job.record
        work = Path(rec.work_path)
        if job.incomplete_since is not None and _stat(work) == job.incomplete_stat:
            # Back from waiting for its writer, unchanged: wait on, or let the error stand.
            if time.monotonic() - job.incomplete_since < self.cfg.incomplete_wait_s:
                self._defer(job)
                return
            assert job.outcome is not None
            log.warning("%s stayed incomplete for %gs; its error stands", rec.source_name, self.cfg.incomplete_wait_s)
            write_result(self.cfg.out, job.outcome.result, fsync=self.cfg.fsync)
            self._finish(rec, job.outcome.result)
            return
        detector = self.current_detector()  # this scan finishes on this model, whatever swaps meanwhile
        # A hot-folder file may still be written into after its claim (the writer's open file moved
        # with it into the work folder): its "truncated" is provisional, see ``_defer``.
        provisional = INCOMPLETE_CODES if rec.origin == "folder" and self.cfg.incomplete_wait_s > 0 else ()
        for attempt in range(MAX_REREADS):
            before = _stat(work)
            queued_ms = max(0.0, (time.time() - rec.arrived_unix) * 1e3)
            job.outcome = process_file(detector, work, self.cfg.out, rec.scan_id, source_path=rec.source_path,
                                       source_name=rec.source_name, received_at=rec.received_at,
                                       max_pixels=self.cfg.max_pixels, max_aspect=self.cfg.max_aspect,
                                       extra_timings={"queue": queued_ms}, fsync=self.cfg.fsync,
                                       provisional_codes=provisional)
            if _stat(work) == before:
                break
            log.warning("%s changed while being read (attempt %d); predicting again", rec.source_name, attempt + 1)
            time.sleep(self.cfg.settle_s)
        if job.outcome.json_path is None:  # incomplete: the clock runs from its last change
            job.incomplete_since, job.incomplete_stat = time.monotonic(), _stat(work)
            log.info("%s looks incomplete (%s); re-reading it while it changes, for up to %gs after the last "
                     "change", rec.source_name, job.outcome.error_code, self.cfg.incomplete_wait_s)
            self._defer(job)
            return
        self._finish(rec, job.outcome.result)

    def _defer(self, job: Job) -> None:
        """Queue ``job`` again in ``INCOMPLETE_RECHECK_S`` (the watcher thread re-queues it). Its
        journal row stays claimed and no result is written, so a restart re-reads it from scratch."""
        with self._deferred_lock:
            self._deferred.append((time.monotonic() + INCOMPLETE_RECHECK_S, job))

    def _requeue_due(self) -> None:
        now = time.monotonic()
        with self._deferred_lock:
            due = [job for t, job in self._deferred if t <= now]
            self._deferred = [(t, job) for t, job in self._deferred if t > now]
        for job in due:
            self._enqueue(job, PRIORITY_FOLDER)

    def _finish(self, rec: ScanRecord, result: dict[str, Any]) -> None:
        """Move the input to archive/quarantine and close the journal row (result already on disk)."""
        assert self.journal is not None
        decision = result["decision"]
        err = (result.get("error") or {}).get("code")
        dest_dir = self.cfg.quarantine if decision == "error" else self.cfg.archive
        dest = dest_dir / f"{rec.scan_id}__{safe_name(rec.source_name)}"
        work = Path(rec.work_path)
        if work.exists():
            shutil.move(str(work), str(dest))  # a rename on the same file system
        self.journal.finish(rec.scan_id, "error" if decision == "error" else "done", decision, err,
                            result["model"]["sha256"], str(dest))
        self.metrics.observe_scan(rec.origin, decision, list(result.get("alarm_classes", [])), err,
                                  time.time() - rec.arrived_unix)
        with self._live_lock:
            self._live.pop(rec.scan_id, None)

    # -- crash recovery ------------------------------------------------------------------------
    def _recover(self) -> None:
        """Resume every claimed scan from what is on disk (see ``journal``)."""
        assert self.journal is not None
        for rec in self.journal.unfinished():
            result_path = self.cfg.out / f"{rec.scan_id}.json"
            work = Path(rec.work_path)
            if result_path.exists():
                self._finish(rec, json.loads(result_path.read_text()))
            elif work.exists():
                self._enqueue(self._track(Job(rec)), PRIORITY_UPLOAD if rec.origin == "http" else PRIORITY_FOLDER)
            elif rec.origin == "folder" and Path(rec.source_os_path).exists():
                os.replace(rec.source_os_path, work)  # the crash came between journal and rename
                self._enqueue(Job(rec), PRIORITY_FOLDER)
            else:
                det = self.current_detector()
                res = error_result(scan_id=rec.scan_id, source_path=rec.source_path, input_sha256=None,
                                   model=det.info, card=det.card, code="input_missing",
                                   source_name=rec.source_name,
                                   message=f"{rec.source_name}: the input disappeared before it was predicted",
                                   received_at=rec.received_at)
                write_result(self.cfg.out, res, fsync=self.cfg.fsync)
                self._finish(rec, res)
        n = self.queue_depth()
        if n:
            log.info("resuming %d scan(s) interrupted by the last shutdown", n)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns
