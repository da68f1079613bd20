"""``wildxray demo``: the whole pipeline on built-in synthetic scans, as a user would run it.

Argument parsing only; the steps are :func:`wildxray.demo_pipeline.run_demo`'s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wildxray.demo_pipeline import FINETUNE_LR, SHIPPED_CHECKPOINT, DemoSettings, demo_summary, run_demo


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wildxray demo",
        description="Run the whole pipeline on synthetic dual-energy parcel scans: synthesise, train, "
        "export ONNX, calibrate, evaluate (HTML report) and predict with the station runtime.",
    )
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder (default: outputs/demo)")
    p.add_argument("--train-scans", type=int, default=1200, help="synthetic training scans (default 1200)")
    p.add_argument("--init-from", type=Path, default=SHIPPED_CHECKPOINT,
                   help="checkpoint to fine-tune from (default: the shipped export/wildxray-xray.pt when present; "
                        "its model config and input size are used)")
    p.add_argument("--from-scratch", action="store_true", help="train from random weights, ignoring --init-from")
    p.add_argument("--val-scans", type=int, default=300, help="validation scans, for early stopping (and calibration under --calib-scans 0)")
    p.add_argument("--test-scans", type=int, default=300, help="held-out test scans for the report")
    p.add_argument("--calib-scans", type=int, default=750,
                   help="scans to calibrate the operating point on, 80%% of them clean as in a parcel stream "
                        "(default 750: ~600 clean parcels bound a 1%% false-alarm rate within 2%%); "
                        "0 calibrates on the validation scans")
    p.add_argument("--minutes", type=float, default=10.0, help="training time budget in minutes (default 10)")
    p.add_argument("--epochs", type=int, default=60, help="maximum epochs (the time budget usually ends first)")
    p.add_argument("--model", default="small", help="model config name in configs/model (default: small)")
    p.add_argument("--size", type=int, default=320, help="model input size S (default 320)")
    p.add_argument("--batch", type=int, default=16, help="training batch size (default 16)")
    p.add_argument("--lr", type=float, default=None,
                   help=f"peak learning rate (default: {FINETUNE_LR:g} when fine-tuning, the optimiser config's from scratch)")
    p.add_argument("--target-far", type=float, default=0.01, help="false-alarm rate to calibrate for (default 0.01)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds, meaningless numbers)")
    return p


def main(argv: list[str]) -> int:
    final = run_demo(DemoSettings(**vars(_parser().parse_args(argv))))
    print(demo_summary(final))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
