"""benchmarks/bench_ladder.py --quick runs end to end: three rungs synthesised, trained, exported
and scored, and the Markdown table written (the figures of a smoke run mean nothing); then
--score-only rescores the same runs at another threshold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # ~1.5-2.5 min on a 2-core CPU: three short trainings, three ONNX exports
def test_ladder_quick_writes_its_table(tmp_path):
    out = tmp_path / "ladder.md"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_ladder.py"), "--quick",
                           "--work", str(tmp_path / "work"), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=580)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    for rung in ("isolated contraband", "contraband + 1-3 decoys", "full default scene"):
        assert f"| {rung}" in text
        assert f"### Confusion, {rung}" in text
    assert "class-agnostic mAP50" in text and "Smoke run" in text
    scores = json.loads((tmp_path / "work" / "scores.json").read_text())["scores"]
    assert set(scores) == {"isolated", "decoys", "full"}
    for s in scores.values():
        cm = s["confusion"]
        assert len(cm) == 7 and all(len(r) == 7 for r in cm)
        assert sum(sum(r[:7]) for r in cm[:6]) == s["boxes"]  # every held-out box is found or missed
        assert s["scans"] == 8

    # --score-only rescores the same runs at another threshold, without synthesis or training
    again = tmp_path / "again.md"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_ladder.py"), "--quick", "--score-only",
                           "--score-thresh", "0.001", "--work", str(tmp_path / "work"), "--out", str(again)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = again.read_text()
    assert "score >= 0.001" in text and "by the simulator's form" in text
    rescored = json.loads((tmp_path / "work" / "scores.json").read_text())["scores"]
    for rung, s in rescored.items():
        found = sum(c["found"] for c in s["recall_by_form"].values())
        assert found == sum(s["confusion"][i][i] for i in range(6))  # the form table is the diagonal, split
        assert sum(c["boxes"] for c in s["recall_by_form"].values()) == s["boxes"]
