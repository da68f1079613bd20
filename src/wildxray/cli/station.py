"""``wildxray station``: the hot-folder + HTTP inference service that runs beside a scanner.

Torch-free: numpy, OpenCV, onnxruntime, tifffile/pydicom and the standard library only.

    wildxray station --model export/model.onnx --watch /scans/in --out /scans/results
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from wildxray.runtime.scan import DEFAULT_MAX_ASPECT, DEFAULT_MAX_PIXELS
from wildxray.station.runner import TOKEN_ENV, ServeOptions, StationStartError, run_station
from wildxray.station.service import StationConfig


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wildxray station",
        description="Watch a folder for parcel scans (PNG/JPEG, 16-bit dual-energy TIFF, DICOM/DICOS), "
                    "predict each exactly once with an exported ONNX model, decide alarm/clear at the "
                    "model card's operating point, and write OUT/<scan_id>.json + overlay PNG. Inputs move "
                    "to an archive (or quarantine, when unreadable). An HTTP API (uploads, results, "
                    "/healthz, /metrics, /openapi.json) listens on 127.0.0.1:8080 by default. "
                    "SIGTERM finishes the scan in hand and exits; SIGHUP reloads --model.",
        epilog=f"A non-loopback --http address requires a bearer token: --token-file FILE or ${TOKEN_ENV}.")
    p.add_argument("--model", required=True, type=Path, help=".onnx model with its model card")
    p.add_argument("--watch", required=True, type=Path, help="hot folder the scanner writes into")
    p.add_argument("--out", required=True, type=Path, help="results folder (the inspector viewer reads it)")
    p.add_argument("--http", default="127.0.0.1:8080",
                   help="HOST:PORT to serve the API on (port 0: any free port), or 'off' (default 127.0.0.1:8080)")
    p.add_argument("--token-file", type=Path, help=f"file holding the bearer token (else ${TOKEN_ENV})")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a host name clients may use in the Host header besides IP addresses and localhost "
                        "(repeatable; other names are refused, which stops DNS-rebinding pages)")
    p.add_argument("--http-timeout-s", type=float, default=30.0,
                   help="close a connection that sends nothing for this long, idle or mid-request (default 30 s)")
    p.add_argument("--max-upload-mb", type=float, default=64.0, help="largest accepted upload (default 64 MB)")
    p.add_argument("--archive", type=Path, help="processed inputs (default WATCH/archive)")
    p.add_argument("--quarantine", type=Path, help="unreadable inputs (default WATCH/quarantine)")
    p.add_argument("--state", type=Path, help="journal and lock folder (default OUT/.station)")
    p.add_argument("--workers", type=int, default=2, help="scans predicted in parallel (default 2)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads per worker (default 1)")
    p.add_argument("--settle-ms", type=float, default=100.0,
                   help="a file is taken once unmodified this long (default 100 ms); writers using "
                        "*.part/*.tmp names and a final rename are always safe")
    p.add_argument("--poll-ms", type=float, default=20.0, help="hot-folder poll interval (default 20 ms)")
    p.add_argument("--incomplete-wait-ms", type=float, default=5000.0,
                   help="a hot-folder file that reads as truncated is re-read while it changes, and gets its "
                        "error only after this long unchanged (default 5000 ms; a writer paused mid-file "
                        "longer than --settle-ms is still read whole)")
    p.add_argument("--max-pixels", type=int, default=None, help="decompression-bomb guard (default 64e6 pixels)")
    p.add_argument("--max-aspect", type=float, default=None,
                   help="refuse scans whose long side exceeds this many times the short side (default 32)")
    p.add_argument("--no-fsync", action="store_true", help="do not fsync result JSONs (faster, less safe on power loss)")
    p.add_argument("--viewer", default="off",
                   help="also serve the inspector viewer on HOST:PORT over --out (default off; it has its own "
                        "inspector logins: see 'wildxray viewer --help')")
    p.add_argument("--viewer-db", type=Path, help="verdicts database for --viewer (default OUT/.station/verdicts.sqlite); "
                                                "it must exist: 'wildxray viewer --db FILE --add-inspector NAME' creates it")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def parse_http(text: str) -> tuple[str, int] | None:
    """``HOST:PORT`` / ``:PORT`` / ``[::1]:PORT`` / ``off`` -> (host, port) or None."""
    if text.lower() in ("off", "none", "no"):
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--http must be HOST:PORT or 'off', got {text!r}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def read_token(token_file: Path | None) -> str | None:
    if token_file is not None:
        token = token_file.read_text().strip()
        if not token:
            raise ValueError(f"{token_file}: token file is empty")
        return token
    return os.environ.get(TOKEN_ENV) or None


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        http = parse_http(args.http)
        viewer_at = parse_http(args.viewer)
        token = read_token(args.token_file)
    except (ValueError, OSError) as exc:
        print(f"wildxray station: {exc}", file=sys.stderr)
        return 2
    cfg = StationConfig(model=args.model, watch=args.watch, out=args.out, state=args.state, archive=args.archive,
                        quarantine=args.quarantine, threads=args.threads, workers=args.workers,
                        settle_s=args.settle_ms / 1e3, poll_s=args.poll_ms / 1e3,
                        max_pixels=args.max_pixels or DEFAULT_MAX_PIXELS,
                        max_aspect=args.max_aspect or DEFAULT_MAX_ASPECT, fsync=not args.no_fsync,
                        incomplete_wait_s=args.incomplete_wait_ms / 1e3)
    serve = ServeOptions(http=http, token=token, allowed_hosts=tuple(args.allow_host),
                         http_timeout_s=args.http_timeout_s, max_upload_bytes=int(args.max_upload_mb * 1e6),
                         viewer=viewer_at, viewer_db=args.viewer_db)
    try:
        run_station(cfg, serve)
    except StationStartError as exc:
        print(f"wildxray station: {exc}", file=sys.stderr)
        return 2
    return 0
