"""``wildxray calibrate`` end to end: a real ONNX model (tests.fixtures.contract_model), real PNG
files, real onnxruntime; the thresholds land in both copies of the model card and the station's
decision at them meets the target on the validation set."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnx")

from tests.fixtures.contract_model import make_contract_model  # noqa: E402
from tests.unit.evaluation.helpers import write_patch_dataset  # noqa: E402
from wildxray.cli.calibrate import main  # noqa: E402
from wildxray.data.coco import load_coco  # noqa: E402
from wildxray.runtime.model_card import card_path_for, read_card  # noqa: E402
from wildxray.runtime.decision import parcel_decision  # noqa: E402
from wildxray.runtime.session import OnnxDetector  # noqa: E402


@pytest.fixture()
def model_and_data(tmp_path):
    model = make_contract_model(tmp_path / "model.onnx", input_size=64)
    ann = write_patch_dataset(tmp_path / "val", n_contraband=24, n_clean=40, seed=3)
    return model, ann


def _station_rates(model, ann):
    det = OnnxDetector(model, threads=1)
    ds = load_coco(ann)
    alarm, clean = [], []
    for i in range(len(ds)):
        image, target = ds[i]
        alarm.append(parcel_decision(det.predict(image), det.class_names, det.thresholds).alarm)
        clean.append(target.is_clean)
    alarm, clean = np.array(alarm), np.array(clean)
    return alarm[~clean].mean(), alarm[clean].mean()


def test_calibrate_writes_thresholds_that_meet_the_target(model_and_data, capsys):
    model, ann = model_and_data
    det_before, far_before = _station_rates(model, ann)
    assert far_before > 0.05  # the uncalibrated 0.5 thresholds alarm on the red look-alikes

    assert main(["--model", str(model), "--data", str(ann), "--target-far", "0.05", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "achieved: false alarms" in out and "wrote the operating point" in out
    assert "(95 % upper bound 7.22 %)" in out and "note:" not in out  # 0 of 40: within twice 5 %

    card = read_card(model)
    op = card["operating_point"]
    assert op["calibrated"] is True and op["target_false_alarm_rate"] == 0.05
    assert json.loads(card_path_for(model).read_text())["operating_point"] == op
    det_after, far_after = _station_rates(model, ann)  # the station now uses the card's thresholds
    assert far_after <= 0.05
    assert far_after == pytest.approx(op["validation"]["false_alarm_rate"])
    assert det_after == pytest.approx(op["validation"]["detection_rate"])
    assert det_after > 0.5  # bright patches still alarm
    assert op["validation"]["false_alarm_rate_upper95"] == pytest.approx(0.0722, abs=1e-4)
    assert op["thresholds"]["ivory"] > 0.5  # raised above the look-alikes' scores


def test_a_set_too_small_to_pin_the_rate_down_says_how_many_parcels_would(model_and_data, capsys):
    """40 clean parcels can show 3 % (one false alarm allowed) but bound it only to 7 % or more."""
    model, ann = model_and_data
    assert main(["--model", str(model), "--data", str(ann), "--target-far", "0.03", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "target false-alarm rate: 3 % (at most 1 clean parcel)" in out
    assert "note: 40 clean parcels bound the station's false-alarm rate only to" in out
    assert "calibrate on about 200 clean parcels to bound it within twice the target" in out


def test_too_small_a_set_writes_nothing_unless_forced(model_and_data, tmp_path, capsys):
    model, ann = model_and_data
    before = model.read_bytes()
    assert main(["--model", str(model), "--data", str(ann), "--target-far", "0.01", "--threads", "1"]) == 1
    captured = capsys.readouterr()
    assert "NOT ACHIEVABLE" in captured.out and "40 clean parcels" in captured.out
    assert "nothing written" in captured.err
    assert model.read_bytes() == before

    copy = tmp_path / "out" / "calibrated.onnx"
    args = ["--model", str(model), "--data", str(ann), "--target-far", "0.01", "--force", "--output", str(copy)]
    assert main(args) == 0
    assert model.read_bytes() == before  # --output leaves the original alone
    op = read_card(copy)["operating_point"]
    assert op["validation"]["achievable"] is False and op["validation"]["false_alarms"] == 0
    assert card_path_for(copy).is_file()


def test_bad_inputs_exit_2_with_the_cause(model_and_data, tmp_path, capsys):
    model, ann = model_and_data
    assert main(["--model", str(model), "--data", str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
    assert main(["--model", str(model), "--data", str(ann), "--target-far", "5"]) == 2
    only_clean = write_patch_dataset(tmp_path / "clean", n_contraband=0, n_clean=4, seed=1)
    assert main(["--model", str(model), "--data", str(only_clean)]) == 2
    assert "0 contraband" in capsys.readouterr().err


def test_calibrate_runs_without_training_libraries(model_and_data):
    """A station install has no torch, matplotlib or pycocotools: calibrate must not need them."""
    import subprocess
    import sys

    model, ann = model_and_data
    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "BLOCK = {'torch', 'torchvision', 'matplotlib', 'pycocotools', 'albumentations', 'hydra', 'sklearn'}\n"
        "def guard(name, *a, **k):\n"
        "    if name.split('.')[0] in BLOCK:\n"
        "        raise ImportError('blocked ' + name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = guard\n"
        "from wildxray.cli.main import main\n"
        f"sys.exit(main(['calibrate', '--model', {str(model)!r}, '--data', {str(ann)!r}, '--target-far', '0.05', '--dry-run', '--threads', '1']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "achieved: false alarms" in proc.stdout


def test_calibrate_model_is_the_commands_library_call(model_and_data, tmp_path):
    """calibrate_model writes nothing; write_operating_point stores what the command would."""
    from wildxray.evaluation.model_calibration import calibrate_model, calibration_summary, write_operating_point

    model, ann = model_and_data
    before = model.read_bytes()
    run = calibrate_model(model, ann, target_far=0.05, threads=1)
    assert model.read_bytes() == before and run.chosen.achievable and set(run.points) == {"boxes"}
    assert "achieved: false alarms 0/40" in calibration_summary(run)
    assert run.to_dict()["by_source"]["boxes"]["thresholds"] == run.chosen.thresholds
    written, card_json = write_operating_point(run, tmp_path / "copy.onnx")
    assert written == tmp_path / "copy.onnx" and card_json == card_path_for(written)
    assert read_card(written)["operating_point"]["thresholds"] == run.chosen.thresholds
    assert model.read_bytes() == before
