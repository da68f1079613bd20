"""torchrun on the CPU (gloo): ranks agree, DDP matches one process, checkpoints cross over."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from wildxray.hydra_compose import compose_config
from wildxray.training.checkpoint import load_checkpoint
from wildxray.training.train import train

WORKER = Path(__file__).with_name("ddp_worker.py")


def _overrides(ann: Path, out: Path, *extra: str) -> list[str]:
    return ["data=coco", f"data.train.ann_file={ann}", f"data.val.ann_file={ann}", "model=small", "input_size=64",
            "train=smoke", "train.max_steps=null", "train.ema.enabled=false", "train.early_stopping.patience=0",
            f"output_dir={out}", "device=cpu", *extra]


def _torchrun(nproc: int, out: Path, overrides: list[str]) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [torchrun, "--standalone", f"--nproc_per_node={nproc}", str(WORKER), str(out), *overrides]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(nproc)]


@pytest.fixture
def ddp_run(shapes_coco: Path, tmp_path: Path):
    """Two gloo ranks, batch 2 each, 2 epochs (global batch 4)."""
    out = tmp_path / "ddp"
    ranks = _torchrun(2, out, _overrides(shapes_coco, out, "train.batch_size=2", "train.epochs=2", "optim=sgd"))
    return ranks, out


def test_two_gloo_ranks_finish_with_identical_parameters(ddp_run) -> None:
    ranks, out = ddp_run
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world_size"] == 2 for r in ranks)
    assert ranks[0]["steps"] == ranks[1]["steps"] > 0
    assert ranks[0]["param_digest"] == ranks[1]["param_digest"]
    assert (out / "last.pt").is_file() and (out / "metrics.csv").is_file()  # written by rank 0 only


def _update(state: dict, init: dict) -> torch.Tensor:
    """All parameter changes since initialisation, as one vector (BatchNorm statistics excluded)."""
    return torch.cat([(state[k].float() - init[k].float()).flatten() for k in sorted(init)
                      if init[k].is_floating_point() and "running" not in k])


def test_ddp_matches_a_single_process_run_at_equal_global_batch(ddp_run, shapes_coco: Path, tmp_path: Path) -> None:
    """Same seed, same global batch: DDP and one process take (nearly) the same steps.

    BatchNorm normalises per rank (batch 2 against 4) and SyncBatchNorm needs CUDA, so the runs
    agree closely, not bit-for-bit. SGD keeps updates proportional to gradients (Adam's
    sign-like first steps would let noise in near-zero gradients dominate the comparison). The
    control, one process at the per-rank batch of 2 (what a rank would do if gradients were never
    all-reduced), shows the bound means something.
    """
    from hydra.utils import instantiate

    _, out = ddp_run
    runs = {}
    for name, batch in (("single", 4), ("control", 2)):
        cfg = compose_config("train", _overrides(shapes_coco, tmp_path / name, f"train.batch_size={batch}",
                                                 "train.epochs=2", "optim=sgd"))
        train(cfg)
        runs[name] = load_checkpoint(tmp_path / name / "last.pt")["model"]
    torch.manual_seed(0)  # train() seeds the same way before building the model
    init = instantiate(cfg.model.detector, num_classes=6).state_dict()
    ddp = _update(load_checkpoint(out / "last.pt")["model"], init)
    single, control = _update(runs["single"], init), _update(runs["control"], init)
    cos = torch.nn.functional.cosine_similarity
    similar, baseline = float(cos(ddp, single, dim=0)), float(cos(control, single, dim=0))
    print(f"cosine(ddp, single)={similar:.4f} cosine(control, single)={baseline:.4f}")
    ratio, control_ratio = float(ddp.norm() / single.norm()), float(control.norm() / single.norm())
    assert similar > 0.9 and similar > baseline
    assert 0.9 < ratio < 1.1
    assert abs(ratio - 1) < abs(control_ratio - 1)


def test_checkpoints_cross_between_ddp_and_single_process(ddp_run, shapes_coco: Path, tmp_path: Path) -> None:
    _, out = ddp_run
    # DDP checkpoint -> one process
    resumed = train(compose_config("train", _overrides(
        shapes_coco, tmp_path / "from_ddp", "train.batch_size=4", "train.epochs=3", "optim=sgd", f"train.resume={out / 'last.pt'}")))
    assert resumed["epochs_run"] == 3 and resumed["steps"] > load_checkpoint(out / "last.pt")["step"]
    # one-process checkpoint -> DDP
    ranks = _torchrun(2, tmp_path / "to_ddp", _overrides(
        shapes_coco, tmp_path / "to_ddp", "train.batch_size=2", "train.epochs=4", "optim=sgd",
        f"train.resume={tmp_path / 'from_ddp' / 'last.pt'}"))
    assert ranks[0]["param_digest"] == ranks[1]["param_digest"]
    final = load_checkpoint(tmp_path / "to_ddp" / "last.pt")
    assert final["epoch"] == 4 and final["step"] > resumed["steps"]
    assert not torch.equal(final["model"][next(iter(final["model"]))], torch.zeros(1))
