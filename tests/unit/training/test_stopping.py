"""Early stopping and the time budget on their own: fake clocks, a real WarmupCosine schedule."""

from __future__ import annotations

import itertools

import pytest
import torch

from wildxray.training import stopping
from wildxray.training.optim import WarmupCosine
from wildxray.training.stopping import EarlyStopping, TimeBudget


def test_early_stopping_counts_epochs_without_gain_by_eval_interval() -> None:
    stop = EarlyStopping("mAP50", patience=4, eval_every=2)
    assert stop.update({"mAP50": 0.0}) is True and stop.best == 0.0  # any metric beats the initial -1
    assert stop.update(None) is False and stop.epochs_without_gain == 0  # an epoch that did not validate
    assert stop.update({"mAP50": 0.3}) is True
    assert stop.update({"mAP50": 0.3}) is False and not stop.should_stop  # equal is no gain: 2 epochs
    assert stop.update({"mAP50": 0.2}) is False and stop.should_stop  # 4 epochs without gain
    assert stop.best == 0.3 and stop.reason == "no mAP50 gain for 4 epochs"
    assert stop.update({"mAP50": 0.31}) is True and not stop.should_stop


def test_patience_zero_never_stops_and_a_resumed_best_must_be_beaten() -> None:
    stop = EarlyStopping("mAP", patience=0, best=0.5)
    for _ in range(10):
        assert stop.update({"mAP": 0.4}) is False
    assert not stop.should_stop and stop.best == 0.5


def _fake_clock(monkeypatch, name: str, step: float) -> None:
    ticks = itertools.count(0.0, step)
    monkeypatch.setitem(stopping.CLOCKS, name, lambda: next(ticks))


def _cosine(total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    return torch.optim.lr_scheduler.LambdaLR(opt, WarmupCosine(total_steps, 1, 0.05))


def test_budget_refits_epochs_and_the_cosine_to_the_pace_so_far(monkeypatch) -> None:
    _fake_clock(monkeypatch, "wall", 30.0)  # each reading 30 s later: an epoch takes 30 s
    budget = TimeBudget(1.5, "wall", max_epochs=50)
    sched = _cosine(total_steps=500)
    elapsed = budget.elapsed()
    assert elapsed == 30.0 and budget.epochs_that_fit(1, elapsed) == 3
    epochs = budget.refit(1, elapsed, 50, sched, steps_per_epoch=10, total_steps=500)
    assert epochs == 3 and sched.lr_lambdas[0].total_steps == 30  # the schedule now ends with the budget
    assert not budget.ran_out(1, epochs) and budget.ran_out(3, epochs)
    assert budget.reason == "time limit of 1.5 min"


def test_budget_never_exceeds_max_epochs_nor_the_total_steps(monkeypatch) -> None:
    _fake_clock(monkeypatch, "wall", 1.0)  # fast epochs: 600 would fit in 10 min
    budget = TimeBudget(10, "wall", max_epochs=20)
    sched = _cosine(total_steps=50)  # an earlier, slower epoch had shortened the run to 5 epochs
    # Back to train.epochs, and the schedule to train.max_steps (150, below 20 epochs' 200 steps).
    assert budget.refit(1, budget.elapsed(), 5, sched, steps_per_epoch=10, total_steps=150) == 20
    assert sched.lr_lambdas[0].total_steps == 150
    assert not budget.ran_out(20, 20)  # the run reached train.epochs: not the budget's doing


def test_a_resumed_run_times_only_its_own_epochs(monkeypatch) -> None:
    _fake_clock(monkeypatch, "wall", 60.0)
    budget = TimeBudget(3, "wall", max_epochs=50, start_epoch=10)
    # epoch 11 took 60 s: 3 min hold 3 epochs of this run, after the 10 it resumed from.
    assert budget.epochs_that_fit(11, budget.elapsed()) == 13


def test_a_scheduler_that_cannot_be_refitted_only_shortens_the_run(monkeypatch) -> None:
    _fake_clock(monkeypatch, "wall", 30.0)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    step_lr = torch.optim.lr_scheduler.StepLR(opt, step_size=5)
    budget = TimeBudget(1.5, "wall", max_epochs=50)
    assert budget.refit(1, budget.elapsed(), 50, step_lr, 10, 500) == 3  # shorter: taken
    budget = TimeBudget(100, "wall", max_epochs=50)
    assert budget.refit(1, budget.elapsed(), 3, step_lr, 10, 500) == 3  # longer: not without a refit


def test_no_budget_changes_nothing_and_the_cpu_clock_is_its_own(monkeypatch) -> None:
    _fake_clock(monkeypatch, "wall", 1e6)
    _fake_clock(monkeypatch, "cpu", 10.0)
    budget = TimeBudget(None, "cpu", max_epochs=5)
    assert budget.refit(1, budget.elapsed(), 5, _cosine(50), 10, 50) == 5 and not budget.ran_out(5, 5)
    assert TimeBudget(1.0, "cpu", max_epochs=50).elapsed() == 10.0  # the CPU clock, not the racing wall
    with pytest.raises(ValueError, match="time_limit_clock must be wall or cpu"):
        TimeBudget(1.0, "sundial")
