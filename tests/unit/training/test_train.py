"""The training spine: configs compose, a CPU step runs, resume is exact, bad losses stop loudly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from wildxray.hydra_compose import compose_config
from wildxray.paths import config_dir
from wildxray.training.checkpoint import load_checkpoint
from wildxray.training.train import train


def _cfg(ann: Path, out: Path, *extra: str):
    return compose_config(
        "train",
        [
            "data=coco", f"data.train.ann_file={ann}", f"data.val.ann_file={ann}",
            "model=small", "input_size=64", "train=smoke", f"output_dir={out}", "device=cpu", *extra,
        ],
    )


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))


@pytest.mark.parametrize("group", ["model", "optim", "augment", "train", "data"])
def test_every_config_group_composes_and_instantiates(group: str, shapes_coco: Path, tmp_path: Path) -> None:
    from hydra.utils import instantiate

    options = _options(group)
    assert options, f"no configs in configs/{group}"
    for option in options:
        if group == "data":  # data options replace the coco defaults that _cfg sets
            required = {"coco": [f"data.train.ann_file={shapes_coco}", f"data.val.ann_file={shapes_coco}"],
                        "yolo": ["data.root=/some/yolo"]}.get(option, [])
            cfg = compose_config("train", [f"data={option}", *required, f"output_dir={tmp_path}"])
            assert cfg.data.kind == option
            continue
        cfg = _cfg(shapes_coco, tmp_path, f"{group}={option}")
        assert cfg[group] is not None
        if group in ("model", "optim"):
            model = instantiate(cfg.model.detector, num_classes=6)
            instantiate(cfg.model.criterion, num_classes=6)
            opt = instantiate(cfg.optim.optimizer)(model.parameters())
            sched = instantiate(cfg.optim.scheduler)(opt, total_steps=10)
            assert opt.param_groups[0]["lr"] > 0 and sched is not None


def test_one_step_cpu_smoke_writes_checkpoint_and_logs(shapes_coco: Path, tmp_path: Path) -> None:
    summary = train(_cfg(shapes_coco, tmp_path / "run"))
    assert summary["steps"] == 2
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    for key in ("model", "ema", "optimizer", "scheduler", "epoch", "step", "rng", "config", "class_names", "git_commit"):
        assert key in ckpt, key
    assert ckpt["class_names"][0] == "ivory"
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert len(rows) == 1 and 0.0 <= float(rows[0]["val_mAP50"]) <= 1.0
    assert float(rows[0]["train_loss"]) > 0
    assert any((tmp_path / "run" / "tensorboard").iterdir())


def test_resume_reproduces_the_uninterrupted_run(shapes_coco: Path, tmp_path: Path) -> None:
    """Two epochs straight == one epoch, stop, resume, one more epoch (weights equal exactly)."""
    common = ("train.epochs=2", "train.max_steps=null", "train.early_stopping.patience=0")
    straight = train(_cfg(shapes_coco, tmp_path / "straight", *common))
    first = train(_cfg(shapes_coco, tmp_path / "first", "train.epochs=2", "train.max_steps=null",
                       "train.time_limit_minutes=0.000001"))
    assert first["epochs_run"] == 1
    resumed = train(_cfg(shapes_coco, tmp_path / "resumed", *common, f"train.resume={tmp_path / 'first' / 'last.pt'}"))
    assert straight["steps"] == resumed["steps"] > first["steps"] > 0
    a = load_checkpoint(tmp_path / "straight" / "last.pt")
    b = load_checkpoint(tmp_path / "resumed" / "last.pt")
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    for name, tensor in a["ema"].items():
        assert torch.equal(tensor, b["ema"][name]), name
    assert a["ema_updates"] == b["ema_updates"] == a["step"]


def test_non_finite_loss_stops_training_loudly(shapes_coco: Path, tmp_path: Path) -> None:
    from wildxray.training.engine import NonFiniteLossError

    with pytest.raises(NonFiniteLossError, match="non-finite loss at optimiser step"):
        train(_cfg(shapes_coco, tmp_path / "nan", "optim.optimizer.lr=1e30", "train.grad_clip=null",
                   "optim.scheduler.warmup_steps=0", "train.max_steps=4"))


def test_bad_dataset_stops_before_training(tmp_path: Path, shapes_coco: Path) -> None:
    import json

    data = json.loads(shapes_coco.read_text())
    data["annotations"][0]["bbox"] = [10, 10, -5, 4]
    bad = shapes_coco.parent / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(Exception, match=r"bad\.json.*id=1"):
        train(_cfg(bad, tmp_path / "bad"))


def test_class_balanced_sampling_trains(shapes_coco: Path, tmp_path: Path) -> None:
    summary = train(_cfg(shapes_coco, tmp_path / "balanced", "train.class_balanced=true"))
    assert summary["steps"] == 2


def test_init_from_a_checkpoint_of_another_architecture_is_refused(shapes_coco: Path, tmp_path: Path) -> None:
    train(_cfg(shapes_coco, tmp_path / "small"))
    with pytest.raises(ValueError, match="do not fit this model"):
        train(_cfg(shapes_coco, tmp_path / "other", "model=default", "input_size=64",
                   f"train.init_from={tmp_path / 'small' / 'last.pt'}"))


def test_trains_on_the_on_the_fly_synthetic_stream(tmp_path: Path) -> None:
    # the training stream randomises the scanner; a pool of the 4 training profiles only keeps its
    # physics set-up (~1 s a member, built before the worker forks) short
    small_scans = ["data.synth.image.width=160", "data.synth.image.height=120", "data.synth.randomisation.pool_size=0"]
    cfg = compose_config("train", [
        "data=synthetic", "data.samples_per_epoch=4", "data.val_size=4", f"data.cache_dir={tmp_path / 'cache'}",
        *small_scans, "model=small", "input_size=64", "train=smoke", "train.epochs=2",
        "train.max_steps=null", "train.num_workers=1", f"output_dir={tmp_path / 'run'}", "device=cpu"])
    summary = train(cfg)
    assert summary["epochs_run"] == 2 and summary["steps"] == 4
    assert len(list((tmp_path / "cache").glob("val-*/images/*.png"))) == 4


def test_time_limit_fits_the_schedule_into_the_budget(shapes_coco: Path, tmp_path: Path, monkeypatch) -> None:
    """With a budget of 3 epochs' time, a 50-epoch run ends after 3 epochs with its cosine annealed.

    The budget's wall clock is replaced by one that advances 30 s per reading (one reading per
    epoch: an epoch "takes" 30 s), so the test does not depend on how loaded the machine is.
    """
    from wildxray.training import stopping

    clock = iter(range(0, 10**6, 30))
    monkeypatch.setitem(stopping.CLOCKS, "wall", lambda: float(next(clock)))
    summary = train(_cfg(shapes_coco, tmp_path / "timed", "train.epochs=50", "train.max_steps=null",
                         "train.time_limit_minutes=1.5", "optim.scheduler.warmup_steps=1",
                         "train.early_stopping.patience=0"))
    assert summary["epochs_run"] == 3 and summary["stop_reason"] == "time limit of 1.5 min"
    state = load_checkpoint(tmp_path / "timed" / "last.pt")
    factor = state["scheduler"]["lr_lambdas"][0]
    assert factor["total_steps"] == state["step"]  # the schedule was fitted to the run that happened
    lr = state["optimizer"]["param_groups"][0]["lr"]
    assert lr < 0.2 * 0.002  # annealed (min_lr_ratio 0.05 of lr 0.002), not left at its peak


def test_time_limit_on_the_cpu_clock_ignores_wall_time(shapes_coco: Path, tmp_path: Path, monkeypatch) -> None:
    """train.time_limit_clock=cpu budgets this process's CPU seconds: a wall clock racing ahead (a
    loaded, shared machine) does not shorten the run; the CPU clock (10 s per reading) ends it."""
    from wildxray.training import stopping

    wall = iter(range(0, 10**9, 10**6))
    cpu = iter(range(0, 10**6, 10))
    monkeypatch.setitem(stopping.CLOCKS, "wall", lambda: float(next(wall)))
    monkeypatch.setitem(stopping.CLOCKS, "cpu", lambda: float(next(cpu)))
    summary = train(_cfg(shapes_coco, tmp_path / "cpu", "train.epochs=50", "train.max_steps=null",
                         "train.time_limit_minutes=1.0", "train.time_limit_clock=cpu",
                         "optim.scheduler.warmup_steps=1", "train.early_stopping.patience=0"))
    assert summary["epochs_run"] == 6 and summary["stop_reason"] == "time limit of 1.0 min"
    with pytest.raises(ValueError, match="time_limit_clock"):
        train(_cfg(shapes_coco, tmp_path / "bad", "train.time_limit_clock=sundial"))


@pytest.mark.slow
def test_the_training_loop_learns_and_validates_what_it_learned(tmp_path: Path) -> None:
    """8 images of coloured boxes, 80 steps through train(): the loop's own validation sees it learn.

    Without precise BN (BatchNorm statistics recomputed before validation) this read mAP50 0.0 on
    weights that reach 0.70 in eval mode with recomputed statistics.
    """
    from tests.conftest import write_shapes_coco

    ann = write_shapes_coco(tmp_path / "shapes8", 8, clean_every=0)
    summary = train(compose_config("train", [
        "data=coco", f"data.train.ann_file={ann}", f"data.val.ann_file={ann}", "model=small", "input_size=128",
        "train=smoke", "train.max_steps=null", "train.epochs=40", "train.batch_size=4", "augment=none",
        "train.eval_every=10", "optim.scheduler.warmup_steps=10", f"output_dir={tmp_path / 'run'}",
        "train.early_stopping.patience=0", "device=cpu"]))
    curve = [row["val_mAP50"] for row in summary["history"] if "val_mAP50" in row]
    assert curve[-1] >= 0.5 and curve[-1] > curve[0], curve


@pytest.mark.parametrize("progress", [True, False])
def test_validation_cache_shows_its_progress_bar_only_when_asked(progress: bool, tmp_path: Path, capsys) -> None:
    from wildxray.training.data import synthetic_val_set

    cfg = compose_config("train", ["data=synthetic", "data.val_size=2", f"data.cache_dir={tmp_path}",
                                   "data.synth.image.width=160", "data.synth.image.height=120"])
    val = synthetic_val_set(cfg.data, tmp_path, progress=progress)
    assert len(val) == 2
    assert ("synth:" in capsys.readouterr().err) is progress
