"""``wildxray evaluate model_file=M data.ann_file=A [hydra overrides]``: metrics.json + report.html.

A checkpoint is exported to ONNX first, so what is scored is always what a station would run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra

from wildxray.paths import config_dir


def main(argv: list[str]) -> int:
    sys.argv = ["wildxray evaluate", *argv]

    @hydra.main(config_path=str(config_dir()), config_name="evaluate", version_base="1.3")
    def run(cfg) -> None:
        # Here (start-up): `wildxray evaluate --help` answers before pycocotools and matplotlib load.
        from wildxray.evaluation.evaluate import evaluate_from_config

        result = evaluate_from_config(cfg)
        print(result.headline())
        print(f"report: {Path(cfg.output_dir) / 'report.html'}")

    run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
