"""The runtime and the station import with torch & co. blocked, and never load them (or ``onnx``)."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.station.conftest import BLOCKED, LAUNCHER

MODULES = ["wildxray.runtime.model_card", "wildxray.runtime.session", "wildxray.runtime.result", "wildxray.runtime.overlay",
           "wildxray.runtime.tiling", "wildxray.runtime.scan", "wildxray.runtime.decision", "wildxray.runtime.predict_folder", "wildxray.station.service",
           "wildxray.station.http_api", "wildxray.station.journal", "wildxray.station.watcher",
           "wildxray.station.metrics", "wildxray.station.runner", "wildxray.cli.predict", "wildxray.cli.station",
           "wildxray.core.image_io", "wildxray.core.image_header", "wildxray.core.letterbox", "wildxray.core.colour",
           "wildxray.core.errors", "wildxray.core.atomic_write"]


def test_runtime_and_station_import_with_torch_blocked():
    blocker = LAUNCHER.split("from wildxray.cli.main")[0]  # only the import blocker
    code = blocker + f"""
import importlib
for m in {MODULES!r}:
    importlib.import_module(m)
import wildxray.runtime.session as s
loaded = sorted(k for k in sys.modules if k.split('.')[0] in {BLOCKED!r} + ('onnx',))
print('LOADED', loaded)
try:
    import torch
except ImportError as exc:
    print('BLOCKED', exc)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout  # neither torch & co. nor the onnx package were imported
    assert "BLOCKED torch is blocked" in proc.stdout  # the blocker really works
