"""``run_station``: the station service, its HTTP API and (optionally) the inspector viewer, run until stopped.

What ``wildxray station`` does, as a library call. The viewer is not mounted in the station's API:
it runs as its own server on its own address, over the station's results folder. Torch-free.

    cfg = StationConfig(model=Path("export/model.onnx"), watch=Path("/scans/in"), out=Path("/scans/results"))
    run_station(cfg, ServeOptions(http=("127.0.0.1", 8080)))  # returns on SIGTERM/SIGINT; SIGHUP reloads
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from wildxray.runtime.model_card import ModelCardError
from wildxray.runtime.session import ModelContractError
from wildxray.station.http_api import StationHTTPServer
from wildxray.station.service import Station, StationBusyError, StationConfig
from wildxray.viewer.app import ViewerApp
from wildxray.viewer.server import serve_in_thread

TOKEN_ENV = "WILDXRAY_STATION_TOKEN"

log = logging.getLogger("wildxray.station")


class StationStartError(RuntimeError):
    """The station could not start (model, state folder, address, viewer database); nothing keeps running."""


@dataclass
class ServeOptions:
    """How the station is reached. ``http``/``viewer``: (host, port) or None for off; port 0 takes any
    free port. A non-loopback ``http`` address needs ``token``. ``viewer_db`` defaults to
    ``STATE/verdicts.sqlite`` and must exist (``wildxray viewer --add-inspector`` creates it)."""

    http: tuple[str, int] | None = ("127.0.0.1", 8080)
    token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    http_timeout_s: float = 30.0
    max_upload_bytes: int = 64_000_000
    viewer: tuple[str, int] | None = None
    viewer_db: Path | None = None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _start_http(station: Station, serve: ServeOptions):
    host, port = serve.http
    try:
        server = StationHTTPServer(serve.http, station, serve.token, serve.max_upload_bytes,
                                   allowed_hosts=serve.allowed_hosts, read_timeout_s=serve.http_timeout_s)
    except OSError as exc:
        raise StationStartError(f"cannot listen on {host}:{port}: {exc}") from exc
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="http", daemon=True).start()
    return server


def _start_viewer(cfg: StationConfig, serve: ServeOptions):
    host, port = serve.viewer
    db = serve.viewer_db or (cfg.state or cfg.out / ".station") / "verdicts.sqlite"
    try:
        viewer, _ = serve_in_thread(ViewerApp(cfg.out, db, create_db=False), host, port)
    except (OSError, ValueError) as exc:  # ValueError: the verdict database is missing or read-only
        raise StationStartError(f"cannot serve the viewer on {host}:{port}: {exc}") from exc
    print(f"wildxray station: inspector viewer on http://{host}:{viewer.server_port} (verdicts {db})", flush=True)
    return viewer


def start_station(cfg: StationConfig, serve: ServeOptions) -> tuple[Station, list]:
    """Start the station, then its HTTP API and viewer; returns (station, servers to shut down).

    Raises StationStartError, after stopping whatever had started."""
    if serve.http and not is_loopback(serve.http[0]) and not serve.token:
        raise StationStartError(
            f"refusing to listen on {serve.http[0]} without a bearer token (give --token-file or set "
            f"{TOKEN_ENV}); use 127.0.0.1 for local-only access")
    station = Station(cfg)
    try:
        station.start()
    except (ModelCardError, ModelContractError, FileNotFoundError, StationBusyError) as exc:
        raise StationStartError(f"refusing to start: {exc}") from exc
    servers: list = []
    try:
        if serve.http:
            servers.append(_start_http(station, serve))
        if serve.viewer:
            servers.append(_start_viewer(cfg, serve))
    except StationStartError:
        for srv in servers:
            srv.shutdown()
        station.stop()
        raise
    return station, servers


def _serve_until(station: Station, stop: threading.Event, reload_requested: threading.Event) -> None:
    while not stop.is_set():
        stop.wait(0.2)
        if reload_requested.is_set():
            reload_requested.clear()
            try:
                station.reload_model()
            except Exception as exc:  # noqa: BLE001 - keep serving on the old model
                log.error("SIGHUP reload refused, the old model keeps serving: %s", exc)


def run_station(cfg: StationConfig, serve: ServeOptions, stop: threading.Event | None = None,
                reload_requested: threading.Event | None = None) -> None:
    """Run the station until ``stop`` is set, reloading the model whenever ``reload_requested`` is.

    Without ``stop`` (the command line) SIGTERM/SIGINT set it and SIGHUP asks for a reload; signal
    handlers need the main thread. The scans in hand are finished before it returns."""
    station, servers = start_station(cfg, serve)
    if stop is None:
        stop, reload_requested = threading.Event(), reload_requested or threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGHUP, lambda *_: reload_requested.set())
    det = station.current_detector()
    http = servers[0] if serve.http else None
    where = f"http://{http.server_address[0]}:{http.server_address[1]}" if http else "off"
    print(f"wildxray station: ready; model {det.name} sha256 {det.sha256}; watching {cfg.watch}; "
          f"results {cfg.out}; http {where}", flush=True)
    _serve_until(station, stop, reload_requested or threading.Event())
    log.info("stopping: finishing the scans in hand")
    for srv in servers:
        srv.shutdown()
        srv.server_close()
    station.stop()
    print("wildxray station: stopped", flush=True)
