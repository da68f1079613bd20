"""The inspector viewer as a WSGI application: the page, the scan queue API, images and verdicts.

Routes (relative to where the app is mounted; every /api route but ``me`` and ``login`` needs a
session cookie, every POST needs the session's ``X-CSRF-Token`` header):

    GET  /                                  the page (static/index.html)
    GET  /static/<name>                     one of the files listed in STATIC_FILES
    GET  /api/me                            {"authenticated", "inspector", "csrf_token"}
    POST /api/login    {"token"}            sets the HttpOnly session cookie
    POST /api/logout
    GET  /api/scans?decision=&class=&state= the queue: alarm first, newest first, counts on top
    GET  /api/scans/<id>                    one scan: detections, verdicts, views, history
    GET  /api/scans/<id>/view/<kind>        image, overlay, high or low (only files the index resolved)
    POST /api/scans/<id>/boxes  {"item", "verdict", "label", "box"}
    POST /api/scans/<id>/parcel {"verdict", "note"}

Usage: ``ViewerApp(results_dir, db_path)`` is a WSGI callable; ``wildxray.viewer.server.serve`` runs it.

Faults and abuse: failed logins are throttled per client (``throttle``; 429 with Retry-After) and
each is audited; a verdict database that is missing, read-only or broken answers 503 naming the file
(``db.VerdictDBError``), never a bare 500; writes with ``Origin: null`` are cross-origin.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from wildxray.viewer import auth
from wildxray.viewer.db import VerdictDB, VerdictDBError, read_audit_log
from wildxray.viewer.index import ARTIFACT_KINDS, ResultsIndex, ScanRecord, image_mime
from wildxray.viewer.verdicts import (
    ScanVerdicts, VerdictError, all_verdicts, record_box_verdict, record_parcel_verdict, scan_verdicts,
)
from wildxray.viewer.throttle import LoginThrottle
from wildxray.viewer.web import HTTPError, Request, Response

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# name -> content type; the only files the server reads from the package.
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "canvas.js": "text/javascript; charset=utf-8",
    "display.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
SESSION_COOKIE = "wxv_session"
DECISIONS = ("alarm", "clear", "error")
STATES = ("pending", "partial", "reviewed")


def visible_classes(scan: ScanRecord) -> list[str]:
    """Labels with a detection at or above its class's operating threshold."""
    return sorted({d.label for d in scan.detections if d.score >= scan.thresholds.get(d.label, 0.5)})


def scan_summary(scan: ScanRecord, verdicts: ScanVerdicts) -> dict:
    return {
        "scan_id": scan.scan_id,
        "decision": scan.decision,
        "received_at": scan.received_at,
        "source_name": scan.source_name,
        "modality": scan.modality,
        "alarm_classes": scan.alarm_classes,
        "classes": visible_classes(scan),
        "n_detections": len(scan.detections),
        "parcel_score": scan.parcel_score,
        "state": verdicts.state,
        "parcel_verdict": verdicts.parcel.verdict if verdicts.parcel else None,
    }


class ViewerApp:
    """WSGI application serving one results folder and one verdict database."""

    def __init__(self, results_dir: str | Path, db_path: str | Path, rescan_interval_s: float = 2.0, *,
                 create_db: bool = True, behind_tls: bool = False, throttle: LoginThrottle | None = None) -> None:
        """``create_db=False``: refuse (VerdictDBError) a database file that does not exist yet.
        ``behind_tls``: browsers reach the viewer over HTTPS through a reverse proxy: session cookies
        are always ``Secure`` and the client address is the proxy's last ``X-Forwarded-For`` entry."""
        self.index = ResultsIndex(results_dir, min_interval_s=rescan_interval_s)
        self.db = VerdictDB(db_path, create=create_db)
        self.behind_tls = behind_tls
        self.throttle = throttle or LoginThrottle()
        # Remembered so that `wildxray feedback export` can find the images without --results.
        self.db.set_meta("results_dir", str(self.index.results_dir))
        self._static = {name: ((STATIC_DIR / name).read_bytes(), ctype) for name, ctype in STATIC_FILES.items()}

    # WSGI entry point --------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            request = Request.from_environ(environ)
            response = self.handle(request)
        except HTTPError as exc:
            response = Response.json({"error": exc.message}, exc.status)
        except VerdictDBError as exc:  # the service stays up and says what is wrong with its file
            log.error("viewer: %s", exc)
            response = Response.json({"error": str(exc)}, 503)
        except Exception:  # noqa: BLE001 - one bad request must not stop the viewer
            log.exception("viewer: request failed")
            response = Response.json({"error": "internal error"}, 500)
        return response.wsgi(start_response)

    def handle(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if not parts or parts == ["index.html"]:
            return self._static_file("index.html")
        if parts[0] == "static" and len(parts) == 2:
            return self._static_file(parts[1])
        if parts[0] != "api":
            raise HTTPError(404, "not found")
        route = parts[1:]
        if route == ["me"]:
            self._method(req, "GET")
            session = self._session(req)
            if session is None:
                return Response.json({"authenticated": False})
            return Response.json({"authenticated": True, "inspector": session.inspector, "csrf_token": session.csrf_token})
        if route == ["login"]:
            self._method(req, "POST")
            return self._login(req)
        session = self._session(req)
        if session is None:
            raise HTTPError(401, "log in first")
        if req.method == "POST":
            self._check_write(req, session)
        if route == ["logout"]:
            self._method(req, "POST")
            auth.logout(self.db, req.cookies[SESSION_COOKIE])
            return self._with_cookie(Response.json({"ok": True}), req, "", max_age=0)
        if route == ["scans"]:
            self._method(req, "GET")
            return Response.json(self._queue(req.query))
        if len(route) >= 2 and route[0] == "scans":
            scan = self.index.get(route[1])
            if scan is None:
                raise HTTPError(404, "no such scan")
            rest = route[2:]
            if rest == []:
                self._method(req, "GET")
                return Response.json(self._detail(scan))
            if len(rest) == 2 and rest[0] == "view":
                self._method(req, "GET")
                return self._view(scan, rest[1])
            if rest == ["boxes"]:
                self._method(req, "POST")
                body = req.json()
                try:
                    record_box_verdict(self.db, scan, session.inspector, body.get("item"), body.get("verdict", ""),
                                       body.get("label"), body.get("box"))
                except VerdictError as exc:
                    raise HTTPError(400, str(exc)) from None
                return Response.json(self._detail(scan))
            if rest == ["parcel"]:
                self._method(req, "POST")
                body = req.json()
                try:
                    record_parcel_verdict(self.db, scan, session.inspector, body.get("verdict", ""), body.get("note", ""))
                except VerdictError as exc:
                    raise HTTPError(400, str(exc)) from None
                return Response.json(self._detail(scan))
        raise HTTPError(404, "not found")

    # helpers --------------------------------------------------------------------------------------
    @staticmethod
    def _method(req: Request, method: str) -> None:
        if req.method != method:
            raise HTTPError(405, f"use {method}")

    def _static_file(self, name: str) -> Response:
        if name not in self._static:  # a dict lookup: the name never becomes a path
            raise HTTPError(404, "not found")
        body, ctype = self._static[name]
        return Response(200, body, ctype, [("Cache-Control", "no-cache")])

    def _session(self, req: Request) -> auth.Session | None:
        return auth.session_for(self.db, req.cookies.get(SESSION_COOKIE))

    @staticmethod
    def _check_origin(req: Request) -> None:
        origin = req.headers.get("origin")
        # "null" comes from sandboxed frames, file: pages and cross-origin redirects: never this page.
        if origin is not None and (origin.strip().lower() == "null"
                                   or urlsplit(origin.strip()).netloc != req.headers.get("host", "")):
            raise HTTPError(403, "cross-origin write refused")

    def _check_write(self, req: Request, session: auth.Session) -> None:
        self._check_origin(req)
        if not auth.csrf_ok(session, req.headers.get("x-csrf-token")):
            raise HTTPError(403, "missing or wrong X-CSRF-Token header")

    def _with_cookie(self, resp: Response, req: Request, value: str, max_age: int) -> Response:
        cookie = f"{SESSION_COOKIE}={value}; Path={req.script_name or ''}/; HttpOnly; SameSite=Strict; Max-Age={max_age}"
        if req.secure or self.behind_tls:
            cookie += "; Secure"
        resp.headers.append(("Set-Cookie", cookie))
        return resp

    def _client(self, req: Request) -> str:
        """Who is logging in, for the throttle: the peer, or behind a TLS proxy the address it saw."""
        forwarded = req.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        return forwarded if self.behind_tls and forwarded else req.remote_addr

    def _login(self, req: Request) -> Response:
        self._check_origin(req)
        client = self._client(req)
        wait = self.throttle.retry_after(client)
        if wait is not None:  # even the right token: a lockout that a correct guess ends is none
            seconds = max(1, round(wait))
            resp = Response.json({"error": f"too many failed logins from {client}; try again in {seconds} s"}, 429)
            resp.headers.append(("Retry-After", str(seconds)))
            return resp
        body = req.json()
        try:
            session_id, session = auth.login(self.db, body.get("token", ""), client=client)
        except auth.AuthError as exc:
            if self.throttle.failed(client):
                log.warning("viewer: %s locked out after %d failed logins", client, self.throttle.max_failures)
                auth.record_login_failure(self.db, client, f"{self.throttle.max_failures} failures in "
                                          f"{self.throttle.window_s:g} s", action="login_throttled")
            raise HTTPError(401, str(exc)) from None
        self.throttle.succeeded(client)
        resp = Response.json({"authenticated": True, "inspector": session.inspector, "csrf_token": session.csrf_token})
        return self._with_cookie(resp, req, session_id, max_age=auth.SESSION_HOURS * 3600)

    def _queue(self, query: dict[str, str]) -> dict:
        decision, cls, state = query.get("decision", ""), query.get("class", ""), query.get("state", "")
        if decision and decision not in DECISIONS:
            raise HTTPError(400, f"decision: must be one of {DECISIONS}")
        if state and state not in STATES:
            raise HTTPError(400, f"state: must be one of {STATES}")
        verdicts = all_verdicts(self.db)
        scans = self.index.scans()
        summaries = [scan_summary(s, verdicts.get(s.scan_id, ScanVerdicts())) for s in scans]
        counts: dict[str, int] = {"total": len(summaries)}
        for key in DECISIONS + STATES:
            counts[key] = sum(1 for s in summaries if key in (s["decision"], s["state"]))
        classes: list[str] = []
        for s in scans:
            classes += [c for c in s.classes if c not in classes]
        shown = [
            s for s in summaries
            if (not decision or s["decision"] == decision)
            and (not cls or cls in s["classes"])
            and (not state or s["state"] == state)
        ]
        return {"counts": counts, "classes": classes, "scans": shown, "problems": self.index.problems}

    def _detail(self, scan: ScanRecord) -> dict:
        verdicts = scan_verdicts(self.db, scan.scan_id)
        return {
            **scan_summary(scan, verdicts),
            "source_path": scan.source_path,
            "width": scan.width,
            "height": scan.height,
            "model_name": scan.model_name,
            "error": scan.error,
            "thresholds": scan.thresholds,
            "calibrated": scan.calibrated,
            "class_names": scan.classes,
            "detections": [
                {"item": f"det:{d.index}", "label": d.label, "category_id": d.category_id, "score": d.score, "box": list(d.box)}
                for d in scan.detections
            ],
            "verdicts": {
                item: {"verdict": v.verdict, "label": v.label, "box": list(v.box) if v.box else None,
                       "inspector": v.inspector, "at": v.created_at}
                for item, v in verdicts.boxes.items()
            },
            "parcel": None if verdicts.parcel is None else {
                "verdict": verdicts.parcel.verdict, "note": verdicts.parcel.note,
                "inspector": verdicts.parcel.inspector, "at": verdicts.parcel.created_at,
            },
            "views": [k for k in ARTIFACT_KINDS if k in scan.artifacts],
            "history": [
                {"at": e["at"], "actor": e["actor"], "action": e["action"], "detail": e["detail"]}
                for e in read_audit_log(self.db, scan.scan_id)
            ],
        }

    def _view(self, scan: ScanRecord, kind: str) -> Response:
        path = scan.artifacts.get(kind) if kind in ARTIFACT_KINDS else None
        if path is None:
            raise HTTPError(404, f"scan {scan.scan_id} has no {kind!r} view")
        try:
            body = path.read_bytes()
        except OSError:
            raise HTTPError(404, f"scan {scan.scan_id}: {kind} view is gone") from None
        return Response(200, body, image_mime(path), [("Cache-Control", "private, max-age=60")])
