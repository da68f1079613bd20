"""Run by torchrun in the distributed tests: train with the given overrides, write this rank's summary."""

import json
import sys
from pathlib import Path

from wildxray.hydra_compose import compose_config
from wildxray.training.train import train

if __name__ == "__main__":
    out, overrides = Path(sys.argv[1]), sys.argv[2:]
    summary = train(compose_config("train", overrides))
    summary.pop("history")
    (out / f"rank{summary['rank']}.json").write_text(json.dumps(summary))
