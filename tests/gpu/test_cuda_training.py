"""CUDA training path: AMP (bf16/fp16), channels_last, pinned memory. Skipped where there is no GPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from wildxray.hydra_compose import compose_config
from wildxray.training.checkpoint import load_checkpoint
from wildxray.training.train import train

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_channels_last_training_on_cuda(amp: str, shapes_coco: Path, tmp_path: Path) -> None:
    if amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    cfg = compose_config("train", [
        "data=coco", f"data.train.ann_file={shapes_coco}", f"data.val.ann_file={shapes_coco}", "model=small",
        "input_size=128", "train=smoke", "train.max_steps=4", "train.batch_size=4", f"train.amp={amp}",
        "train.channels_last=true", "train.num_workers=2", f"output_dir={tmp_path}", "device=cuda"])
    summary = train(cfg)
    assert summary["steps"] == 4
    state = load_checkpoint(tmp_path / "last.pt")
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert (state["scaler"] is not None) == (amp == "fp16")  # the gradient scaler only for fp16
