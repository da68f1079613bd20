"""Real station processes for the integration tests.

Every station here runs as a subprocess with torch, torchvision, albumentations and hydra blocked
from import (a ``sys.meta_path`` finder that raises ImportError), so each test also proves the
station is torch-free.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.fixtures.contract_model import make_contract_model

BLOCKED = ("torch", "torchvision", "albumentations", "hydra")

LAUNCHER = f"""
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError(f"{{name}} is blocked in this test (the runtime must not import it)")
        return None
sys.meta_path.insert(0, _Block())
from wildxray.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def write_launcher(folder: Path) -> Path:
    path = folder / "run_blocked.py"
    path.write_text(LAUNCHER)
    return path


def drop(watch: Path, name: str, rgb: np.ndarray | None = None, data: bytes | None = None) -> Path:
    """Write an image into the hot folder the safe way: ``name.part``, then rename."""
    if data is None:
        ok, buf = cv2.imencode(Path(name).suffix or ".png", np.ascontiguousarray(rgb[..., ::-1]))
        assert ok
        data = buf.tobytes()
    tmp = watch / (name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, watch / name)
    return watch / name


def results(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]


@dataclass
class StationProc:
    proc: subprocess.Popen
    watch: Path
    out: Path
    log: Path
    url: str | None = None
    token: str | None = None
    extra: dict = field(default_factory=dict)

    def request(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None,
                token: str | None = "default", timeout: float = 30.0) -> tuple[int, bytes, dict]:
        hdrs = dict(headers or {})
        if data is not None and not any(k.lower() == "content-type" for k in hdrs):
            # urllib's default is a form encoding, which a station without a token refuses (request_guard).
            hdrs["Content-Type"] = "application/octet-stream"
        tok = self.token if token == "default" else token
        if tok:
            hdrs["Authorization"] = f"Bearer {tok}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def wait_results(self, n: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = list(self.out.glob("*.json"))
            if len(found) >= n:
                time.sleep(0.05)
                return results(self.out)
            assert self.proc.poll() is None, f"station died:\n{self.log.read_text()}"
            time.sleep(0.05)
        raise AssertionError(f"only {len(list(self.out.glob('*.json')))} of {n} results after {timeout}s:\n"
                             f"{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@pytest.fixture(scope="session")
def contract_model(tmp_path_factory) -> Path:
    return make_contract_model(tmp_path_factory.mktemp("model") / "contract.onnx", input_size=64)


@pytest.fixture
def start_station(tmp_path):
    """``start_station(model, *args, token=None, http=True, env=None, wait=True) -> StationProc``."""
    procs: list[StationProc] = []
    launcher = write_launcher(tmp_path)
    counter = [0]

    def _start(model: Path, *args: str, token: str | None = None, http: bool = True, wait: bool = True,
               watch: Path | None = None, out: Path | None = None, host: str = "127.0.0.1") -> StationProc:
        watch = watch or tmp_path / "in"
        out = out or tmp_path / "out"
        watch.mkdir(parents=True, exist_ok=True)
        counter[0] += 1
        log = tmp_path / f"station{counter[0]}.log"
        cmd = [sys.executable, str(launcher), "station", "--model", str(model), "--watch", str(watch),
               "--out", str(out), "--http", f"{host}:0" if http else "off", *args]
        env = dict(os.environ)
        env.pop("WILDXRAY_STATION_TOKEN", None)
        if token:
            env["WILDXRAY_STATION_TOKEN"] = token
        fh = open(log, "w")
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=str(tmp_path))
        sp = StationProc(proc, watch, out, log, token=token)
        procs.append(sp)
        if wait:
            deadline = time.time() + 30
            while time.time() < deadline:
                text = log.read_text()
                m = re.search(r"ready; .* http (\S+)", text)
                if m:
                    sp.url = None if m.group(1) == "off" else m.group(1)
                    break
                assert proc.poll() is None, f"station exited {proc.returncode}:\n{text}"
                time.sleep(0.05)
            else:
                raise AssertionError(f"station not ready:\n{log.read_text()}")
        return sp

    yield _start
    for sp in procs:
        if sp.proc.poll() is None:
            sp.proc.kill()
            sp.proc.wait(10)
