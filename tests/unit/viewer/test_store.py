"""Inspectors, sessions, verdicts (latest wins) and the append-only audit log, on real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.unit.viewer.results_factory import standard_folder
from wildxray.viewer import auth
from wildxray.viewer.db import VerdictDB, read_audit_log
from wildxray.viewer.index import ResultsIndex
from wildxray.viewer.verdicts import VerdictError, record_box_verdict, record_parcel_verdict, scan_verdicts


@pytest.fixture()
def db(tmp_path: Path) -> VerdictDB:
    return VerdictDB(tmp_path / "v.sqlite")


@pytest.fixture()
def index(tmp_path: Path) -> ResultsIndex:
    standard_folder(tmp_path / "out")
    return ResultsIndex(tmp_path / "out")


def test_token_is_stored_hashed_and_logs_in(db: VerdictDB) -> None:
    token = auth.add_inspector(db, "alice")
    assert token.encode() not in db.path.read_bytes()
    session_id, session = auth.login(db, token)
    assert session.inspector == "alice"
    assert auth.session_for(db, session_id) == session
    assert session_id.encode() not in db.path.read_bytes()
    assert auth.csrf_ok(session, session.csrf_token)
    assert not auth.csrf_ok(session, None) and not auth.csrf_ok(session, session.csrf_token[:-1] + "x")
    with pytest.raises(auth.AuthError, match="invalid token"):
        auth.login(db, token[:-2] + "zz")
    auth.logout(db, session_id)
    assert auth.session_for(db, session_id) is None


def test_duplicate_inspector_and_token_replacement(db: VerdictDB) -> None:
    old = auth.add_inspector(db, "bob")
    with pytest.raises(auth.AuthError, match="exists already"):
        auth.add_inspector(db, "bob")
    sid, _ = auth.login(db, old)
    new = auth.add_inspector(db, "bob", replace_token=True)
    assert auth.session_for(db, sid) is None  # old sessions end with the old token
    with pytest.raises(auth.AuthError):
        auth.login(db, old)
    assert auth.login(db, new)[1].inspector == "bob"
    with pytest.raises(auth.AuthError, match="printable"):
        auth.add_inspector(db, "bad\nname")


def test_latest_verdict_wins_and_history_stays(db: VerdictDB, index: ResultsIndex) -> None:
    scan = index.get("scan-known")
    record_box_verdict(db, scan, "alice", "det:0", "confirm")
    record_box_verdict(db, scan, "bob", "det:0", "relabel", label="horn")
    record_box_verdict(db, scan, "alice", "det:1", "reject")
    added = record_box_verdict(db, scan, "alice", None, "added", label="skin", box=[250, 150, 400, 300])
    record_parcel_verdict(db, scan, "alice", "contraband", note="tusk piece")
    v = scan_verdicts(db, "scan-known")
    assert v.boxes["det:0"].verdict == "relabel" and v.boxes["det:0"].label == "horn"
    assert v.boxes["det:0"].inspector == "bob" and v.boxes["det:0"].det_label == "ivory"
    assert v.boxes["det:1"].verdict == "reject"
    assert v.boxes[added.item].box == (250.0, 150.0, 320.0, 240.0)  # clipped to the 320x240 image
    assert v.parcel is not None and v.parcel.verdict == "contraband" and v.state == "reviewed"
    actions = [e["action"] for e in read_audit_log(db, "scan-known")]
    assert actions == ["box_confirm", "box_relabel", "box_reject", "box_added", "parcel_contraband"]
    assert scan_verdicts(db, "scan-clear").state == "pending"


@pytest.mark.parametrize(
    ("item", "verdict", "label", "box", "message"),
    [
        ("det:9", "confirm", None, None, "has no detection 9"),
        ("det:0", "relabel", "unicorn", None, "not one of the model's classes"),
        ("../x", "confirm", None, None, "is not 'det:<index>'"),
        ("det:0", "delete", None, None, "verdict: must be one of"),
        (None, "added", "horn", [5, 5, 6, 6], "smaller than 2 pixels"),
        (None, "added", "horn", [5, 5, "x", 6], "box: must be a list of 4 numbers"),
        ("add:0123456789ab", "reject", None, None, "has no added box"),
    ],
)
def test_bad_verdicts_are_refused(db: VerdictDB, index: ResultsIndex, item, verdict, label, box, message) -> None:
    with pytest.raises(VerdictError, match=message):
        record_box_verdict(db, index.get("scan-known"), "alice", item, verdict, label=label, box=box)
    assert read_audit_log(db, "scan-known") == []


@pytest.mark.parametrize("table", ["audit_log", "box_verdicts", "parcel_verdicts"])
def test_history_tables_are_append_only(db: VerdictDB, index: ResultsIndex, table: str) -> None:
    scan = index.get("scan-known")
    record_box_verdict(db, scan, "alice", "det:0", "confirm")
    record_parcel_verdict(db, scan, "alice", "clear")
    con = sqlite3.connect(db.path)
    try:
        for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(sql)
    finally:
        con.close()
    assert len(read_audit_log(db)) == 2
