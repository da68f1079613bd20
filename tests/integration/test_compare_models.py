"""benchmarks/compare_models.py end to end on real ONNX models and PNG files: a model against a copy
of itself differs by exactly 0; the detection it reports is the one `wildxray evaluate` computes on
the same set; scores are cached and reused; a wrong --model is refused by name; --calibrate-on
judges each model as `wildxray calibrate` would ship it, whatever its card says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx")

from tests.fixtures.contract_model import make_contract_model  # noqa: E402
from tests.unit.evaluation.helpers import write_patch_dataset  # noqa: E402
from wildxray.data.coco import load_coco  # noqa: E402
from wildxray.evaluation.inference import dataset_records  # noqa: E402
from wildxray.evaluation.model_calibration import calibrate_model, write_operating_point  # noqa: E402
from wildxray.evaluation.parcel_metrics import parcel_metrics  # noqa: E402
from wildxray.runtime.session import OnnxDetector  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "compare_models.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_compare_a_model_with_its_copy(tmp_path):
    model = make_contract_model(tmp_path / "a.onnx", input_size=64)
    copy = tmp_path / "b.onnx"
    shutil.copyfile(model, copy)
    shutil.copyfile(model.with_suffix(".card.json"), copy.with_suffix(".card.json"))
    ann = write_patch_dataset(tmp_path / "val", n_contraband=30, n_clean=60, seed=5)
    cache = tmp_path / "cache"

    proc = _run("--data", str(ann), "--model", f"a={model}", "--model", f"b={copy}", "--target-far", "0.05",
                "--n-bootstrap", "200", "--cache", str(cache))
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = [line for line in proc.stdout.splitlines() if line.startswith("| b (boxes) | 5 % |")]
    assert len(row) == 1, proc.stdout
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    # What `wildxray evaluate` reports at 5 % false alarms on the same set, computed its own way.
    card_thresholds = OnnxDetector(model, threads=1).thresholds
    _, records = dataset_records(OnnxDetector(model, threads=1), load_coco(ann), list(card_thresholds))
    pm = parcel_metrics(records, list(card_thresholds), card_thresholds, target_fars=[0.05], n_bootstrap=0)
    expected = f"{100 * pm.at_far[0].detection_rate.value:.1f} %"
    assert cells[2] == expected and cells[3] == expected
    assert cells[4] == "+0.0 (+0.0 … +0.0)" and cells[5] == "0.50"
    assert "60 clean, 30 contraband" in proc.stderr
    assert len(list(cache.glob("*.npz"))) == 2

    extra = write_patch_dataset(tmp_path / "clean", n_contraband=0, n_clean=20, seed=6)  # pooled with the first
    proc = _run("--data", str(ann), str(extra), "--model", f"a={model}", "--model", f"b={copy}", "--cache", str(cache))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "80 clean, 30 contraband" in proc.stderr and len(list(cache.glob("*.npz"))) == 4

    model.unlink()  # cached scores are reused, but the model file must still be named and present
    proc = _run("--data", str(ann), "--model", f"a={model}", "--model", f"b={copy}", "--cache", str(cache))
    assert proc.returncode != 0 and f"--model 'a={model}'" in proc.stderr


def test_a_spec_without_name_is_refused(tmp_path):
    proc = _run("--data", str(tmp_path / "x.json"), "--model", str(tmp_path / "m.onnx"), "--model", "b=nope.onnx")
    assert proc.returncode == 2 and "expected NAME=PATH" in proc.stderr


def test_calibrate_on_ignores_the_card_and_matches_wildxray_calibrate(tmp_path):
    model = make_contract_model(tmp_path / "a.onnx", input_size=64)
    # The same graph with a card that all but switches ivory off: only the card differs.
    skewed = make_contract_model(tmp_path / "b.onnx", input_size=64, thresholds={"ivory": 0.999, "horn": 0.001})
    calib = write_patch_dataset(tmp_path / "calib", n_contraband=30, n_clean=60, seed=7)
    held = write_patch_dataset(tmp_path / "held", n_contraband=30, n_clean=80, seed=8)

    proc = _run("--calibrate-on", str(calib), "--data", str(held), "--model", f"a={model}", "--model", f"b={skewed}",
                "--target-far", "0.05", "--n-bootstrap", "200", "--cache", str(tmp_path / "cache"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = [line for line in proc.stdout.splitlines() if line.startswith("| b (boxes; a: boxes) | 5 % |")]
    assert len(row) == 1, proc.stdout
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    # Independently: calibrate a copy at 5 % on the calibration set as `wildxray calibrate` does, then
    # score the held-out set at 5 % false alarms with its new card.
    recalibrated, _ = write_operating_point(calibrate_model(model, calib, target_far=0.05, threads=1),
                                            tmp_path / "recal.onnx")
    detector = OnnxDetector(recalibrated, threads=1)
    _, records = dataset_records(detector, load_coco(held), detector.class_names)
    pm = parcel_metrics(records, detector.class_names, detector.thresholds, target_fars=[0.05], n_bootstrap=0)
    expected = f"{100 * pm.at_far[0].detection_rate.value:.1f} %"
    assert cells[2] == expected and cells[3] == expected and cells[4] == "+0.0 (+0.0 … +0.0)"
    assert "80 clean, 30 contraband" in proc.stderr

    proc = _run("--calibrate-on", str(held), "--data", str(held), "--model", f"a={model}", "--model", f"b={skewed}")
    assert proc.returncode == 2 and "must be held out" in proc.stderr
