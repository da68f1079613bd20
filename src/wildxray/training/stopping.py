"""When a training run stops: early stopping on a validation metric, and a time budget.

Both are consulted by :func:`wildxray.training.train.fit` after every epoch; under DDP it feeds them
rank 0's metrics and elapsed time, so every rank takes the same decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from wildxray.training.optim import set_total_steps

#: ``train.time_limit_clock``: wall time, or this process's CPU seconds (side-by-side comparisons on a
#: shared machine; with num_workers=0 they include the data pipeline).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


@dataclass
class EarlyStopping:
    """``train.early_stopping``: stop once ``metric`` (higher is better) has not improved for
    ``patience`` epochs (0: never). Validation runs every ``eval_every`` epochs, so an evaluation
    without gain counts ``eval_every`` epochs. ``best`` starts at -1 (any metric in [0, 1] beats it)."""

    metric: str
    patience: int
    eval_every: int = 1
    best: float = -1.0
    epochs_without_gain: int = 0

    def update(self, metrics: Mapping[str, float] | None) -> bool:
        """Take an epoch's validation metrics (None: not validated); True when they set a new best."""
        if metrics is None:
            return False
        if metrics[self.metric] > self.best:
            self.best, self.epochs_without_gain = metrics[self.metric], 0
            return True
        self.epochs_without_gain += self.eval_every
        return False

    @property
    def should_stop(self) -> bool:
        return bool(self.patience) and self.epochs_without_gain >= self.patience

    @property
    def reason(self) -> str:
        return f"no {self.metric} gain for {self.patience} epochs"


class TimeBudget:
    """``train.time_limit_minutes`` (None or 0: no budget) on the ``train.time_limit_clock``.

    Like Ultralytics' ``time``: after every epoch the number of epochs is re-fitted to the budget at
    the average pace so far, and a WarmupCosine schedule with it (so it anneals instead of stopping
    mid-schedule); the run ends when the fitted count is reached. ``max_epochs`` (``train.epochs``)
    is never exceeded. The clock starts when the budget is made; ``start_epoch`` is where a resumed
    run picks up (its earlier epochs are not timed)."""

    def __init__(self, minutes: float | None, clock: str = "wall", max_epochs: int = 1, start_epoch: int = 0) -> None:
        if clock not in CLOCKS:
            raise ValueError(f"train.time_limit_clock must be wall or cpu, got {clock!r}")
        self.minutes = minutes
        self.max_epochs = int(max_epochs)
        self.start_epoch = int(start_epoch)
        self._clock = CLOCKS[clock]
        self._t0 = self._clock()

    def elapsed(self) -> float:
        """Seconds on the budget's clock since the budget was made."""
        return self._clock() - self._t0

    def epochs_that_fit(self, epochs_done: int, elapsed: float) -> int:
        """Epochs the budget holds at the pace of the ``epochs_done - start_epoch`` timed so far
        (at least ``epochs_done``, at most ``max_epochs``)."""
        per_epoch = elapsed / (epochs_done - self.start_epoch)
        return min(self.max_epochs, max(epochs_done, self.start_epoch + int(float(self.minutes) * 60 / per_epoch)))

    def refit(self, epochs_done: int, elapsed: float, epochs: int, scheduler: torch.optim.lr_scheduler.LRScheduler,
              steps_per_epoch: int, total_steps: int) -> int:
        """The run's new epoch count (``epochs`` when nothing changes), with ``scheduler`` re-fitted
        to it (never past ``total_steps``). A scheduler that cannot be re-fitted only shortens the
        run: the budget then ends it in time, but it does not lengthen it."""
        if not self.minutes:
            return epochs
        fit = self.epochs_that_fit(epochs_done, elapsed)
        if fit != epochs:
            refitted = set_total_steps(scheduler, min(steps_per_epoch * fit, total_steps))
            if refitted or fit < epochs:
                return fit
        return epochs

    def ran_out(self, epochs_done: int, epochs: int) -> bool:
        """True when the run ends here because the budget shortened it below ``max_epochs``."""
        return bool(self.minutes) and epochs_done >= epochs < self.max_epochs

    @property
    def reason(self) -> str:
        return f"time limit of {self.minutes} min"
