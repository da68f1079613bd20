"""``wildxray viewer`` and ``wildxray feedback`` command lines, and the viewer's torch-free imports."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.unit.viewer.results_factory import standard_folder
from wildxray.cli.main import main as wildxray_main
from wildxray.viewer import auth
from wildxray.viewer.db import VerdictDB


@pytest.mark.parametrize("argv", [["viewer", "--help"], ["feedback", "export", "--help"]])
def test_help(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        wildxray_main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--db" in out and "example" in out


def test_add_inspector_prints_a_token_that_logs_in(tmp_path: Path, capsys) -> None:
    db_path = tmp_path / "v.sqlite"
    assert wildxray_main(["viewer", "--db", str(db_path), "--add-inspector", "carol"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert auth.login(VerdictDB(db_path), token)[1].inspector == "carol"
    assert wildxray_main(["viewer", "--db", str(db_path), "--add-inspector", "carol"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert wildxray_main(["viewer", "--db", str(db_path)]) == 2
    assert "--results OUT is required" in capsys.readouterr().err


def test_viewer_serves_from_the_command_line(tmp_path: Path) -> None:
    standard_folder(tmp_path / "out")
    auth.add_inspector(VerdictDB(tmp_path / "v.sqlite"), "alice")  # serving never creates the database
    proc = subprocess.Popen(
        [sys.executable, "-m", "wildxray.cli.main", "viewer", "--results", str(tmp_path / "out"),
         "--db", str(tmp_path / "v.sqlite"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
            assert resp.status == 200 and b"wildxray inspector" in resp.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_viewer_never_imports_torch() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"
            "import wildxray.viewer.app, wildxray.viewer.server, wildxray.viewer.feedback, wildxray.cli.viewer, wildxray.cli.feedback\n"
            "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
