"""``wildxray viewer``: the inspector web page over a results folder, and inspector tokens."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from wildxray.viewer import auth
from wildxray.viewer.app import ViewerApp
from wildxray.viewer.db import VerdictDB
from wildxray.viewer.server import make_viewer_server

EPILOG = """examples:
  wildxray viewer --db verdicts.sqlite --add-inspector alice     # prints alice's login token once
  wildxray viewer --results out/ --db verdicts.sqlite --port 8081
then open http://127.0.0.1:8081/ and log in with the token. Press ? on the page for the keys."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wildxray viewer",
        description="Serve the inspector page: the scan queue (alarm first), scans with their detections "
                    "highlighted, and verdicts stored in an SQLite file with an append-only audit log.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--results", type=Path, help="results folder written by the station or 'wildxray predict'")
    p.add_argument("--db", type=Path, default=Path("verdicts.sqlite"), help="verdict database (default: %(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8081, help="port to listen on (default: %(default)s)")
    p.add_argument("--add-inspector", metavar="NAME", help="create an inspector, print their token and exit")
    p.add_argument("--replace-token", action="store_true", help="with --add-inspector: issue a new token to an existing inspector")
    p.add_argument("--list-inspectors", action="store_true", help="print the inspectors' names and exit")
    p.add_argument("--rescan-interval", type=float, default=2.0, metavar="S",
                   help="re-read the results folder at most every S seconds (default: %(default)s)")
    p.add_argument("--behind-tls", action="store_true",
                   help="browsers reach the viewer over HTTPS through a reverse proxy: session cookies get the "
                        "Secure flag, and the login throttle keys on the proxy's X-Forwarded-For")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)

    try:
        # Only adding an inspector creates the database: serving on a new, empty one would hide a
        # database that was deleted or moved (its inspectors and verdicts gone without a word).
        db = VerdictDB(args.db, create=bool(args.add_inspector))
    except ValueError as exc:  # VerdictDBError included: missing, read-only, not a database
        hint = ""
        if not args.db.exists():
            hint = f"; create it by adding the first inspector: wildxray viewer --db {args.db} --add-inspector NAME"
        print(f"wildxray viewer: {exc}{hint}", file=sys.stderr)
        return 2
    if args.add_inspector:
        try:
            token = auth.add_inspector(db, args.add_inspector, replace_token=args.replace_token)
        except auth.AuthError as exc:
            print(f"wildxray viewer: {exc}", file=sys.stderr)
            return 2
        print(f"inspector {args.add_inspector.strip()!r} can log in with this token (shown once, stored hashed in {args.db}):")
        print(token)
        return 0
    if args.list_inspectors:
        for name in auth.list_inspectors(db):
            print(name)
        return 0
    if args.results is None:
        print("wildxray viewer: --results OUT is required to serve (see --help)", file=sys.stderr)
        return 2
    if not args.results.is_dir():
        print(f"wildxray viewer: results folder {args.results} does not exist", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not auth.list_inspectors(db):
        print(f"wildxray viewer: no inspectors yet; add one with: wildxray viewer --db {args.db} --add-inspector NAME",
              file=sys.stderr)
    try:
        app = ViewerApp(args.results, args.db, args.rescan_interval, create_db=False, behind_tls=args.behind_tls)
    except ValueError as exc:
        print(f"wildxray viewer: {exc}", file=sys.stderr)
        return 2
    server = make_viewer_server(app, args.host, args.port)
    print(f"wildxray viewer: serving {args.results} on http://{args.host}:{server.server_port}/ (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
