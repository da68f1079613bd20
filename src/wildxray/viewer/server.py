"""Serve the viewer with the standard library (no web framework): a threading WSGI server."""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from wildxray.viewer.app import ViewerApp

log = logging.getLogger(__name__)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request, so a slow image download does not stall the queue."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver listens with a backlog of 5: a page load's burst of image requests overflowed it,
    # and an overflowing queue drops or resets connections (the kernel caps this at somaxconn).
    request_queue_size = 128
    read_timeout_s = 30.0  # a connection that sends nothing this long (idle or mid-request) is closed


class _LoggingHandler(WSGIRequestHandler):
    def setup(self) -> None:
        # StreamRequestHandler applies ``timeout`` to the socket; without one, sockets that sent
        # half a request held their threads for ever.
        self.timeout = getattr(self.server, "read_timeout_s", None)
        super().setup()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        log.info("%s %s", self.address_string(), format % args)


def make_viewer_server(app: ViewerApp, host: str = "127.0.0.1", port: int = 8081,
                       read_timeout_s: float = ThreadingWSGIServer.read_timeout_s) -> ThreadingWSGIServer:
    """A bound server (``port=0`` picks a free one: read ``server.server_port``); call ``serve_forever``."""
    server = make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=_LoggingHandler)
    server.read_timeout_s = float(read_timeout_s)  # type: ignore[attr-defined]
    return server  # type: ignore[return-value]


def serve_in_thread(app: ViewerApp, host: str = "127.0.0.1", port: int = 0,
                    read_timeout_s: float = ThreadingWSGIServer.read_timeout_s) -> tuple[ThreadingWSGIServer, threading.Thread]:
    """Start a server in a daemon thread (tests, embedding). Stop it with ``server.shutdown()``."""
    server = make_viewer_server(app, host, port, read_timeout_s)
    thread = threading.Thread(target=server.serve_forever, name="wildxray-viewer", daemon=True)
    thread.start()
    return server, thread
