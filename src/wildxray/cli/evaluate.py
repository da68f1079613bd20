"""``wildxray evaluate model_file=M data.ann_file=A [hydra overrides]``: metrics.json + report.html.

A checkpoint is exported to ONNX first, so what is scored is always what a station would run.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from wildxray.paths import config_dir

log = logging.getLogger("wildxray.evaluate")


def evaluate_from_config(cfg) -> Path:
    """Run the evaluation ``cfg`` describes; returns the report path."""
    from omegaconf import OmegaConf

    from wildxray.evaluation.evaluate import run_onnx_evaluation

    out_dir = Path(cfg.output_dir)
    model = Path(cfg.model_file)
    if model.suffix == ".pt":
        from wildxray.export.checkpoint_export import export_checkpoint

        model = export_checkpoint(model, out_dir / f"{model.stem}.onnx")
        log.info("exported %s -> %s", cfg.model_file, model)
    thresholds = OmegaConf.to_container(cfg.thresholds) if cfg.thresholds else None
    result = run_onnx_evaluation(
        model, cfg.data.ann_file, out_dir, image_root=cfg.data.image_root, thresholds=thresholds,
        target_fars=list(cfg.target_fars), n_bootstrap=int(cfg.n_bootstrap), seed=int(cfg.seed), threads=cfg.threads,
    )
    print(result.headline())
    print(f"report: {out_dir / 'report.html'}")
    return out_dir / "report.html"


def main(argv: list[str]) -> int:
    import hydra

    sys.argv = ["wildxray evaluate", *argv]

    @hydra.main(config_path=str(config_dir()), config_name="evaluate", version_base="1.3")
    def run(cfg) -> None:
        evaluate_from_config(cfg)

    run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
