"""``wildxray train [hydra overrides]`` — also runs under ``torchrun ... -m wildxray.cli.train``."""

from __future__ import annotations

import json
import logging
import sys

import hydra
from omegaconf import DictConfig

from wildxray.paths import config_dir

log = logging.getLogger("wildxray.train")


def _hydra_main():
    @hydra.main(config_path=str(config_dir()), config_name="train", version_base="1.3")
    def run(cfg: DictConfig) -> None:
        from wildxray.training.train import train  # start-up: `wildxray train --help` answers before torch loads

        summary = train(cfg)
        summary.pop("history", None)
        log.info("done: %s", json.dumps(summary))

    return run


def main(argv: list[str]) -> int:
    # Hydra reads sys.argv itself; keep the program name so its --help reads right.
    sys.argv = ["wildxray train", *argv]
    _hydra_main()()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
