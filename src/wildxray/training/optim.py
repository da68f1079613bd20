"""Optimiser parameter groups and the warm-up + cosine learning-rate schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable

import torch
from torch import nn


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Split parameters so norms and biases get no weight decay (decaying them only hurts).

    Frozen parameters are included: they get no gradient, so the optimiser skips them until a
    later epoch unfreezes them.
    """
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(model: nn.Module, optimizer_factory: Callable[..., torch.optim.Optimizer]) -> torch.optim.Optimizer:
    """``optimizer_factory`` is a Hydra ``_partial_`` optimiser (e.g. AdamW with lr and weight_decay bound)."""
    wd = optimizer_factory.keywords.get("weight_decay", 0.0) if hasattr(optimizer_factory, "keywords") else 0.0
    return optimizer_factory(param_groups(model, wd))


@dataclass
class WarmupCosine:
    """LR factor: linear warm-up for ``warmup_steps`` optimiser steps, then cosine to ``min_lr_ratio``.

    A callable object rather than a closure, so ``LambdaLR.state_dict`` saves it (a resumed run gets
    the same schedule) and a time-limited run can shorten ``total_steps`` once it knows its pace.
    """

    total_steps: int
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05

    def __call__(self, step: int) -> float:
        total = max(1, self.total_steps)
        warmup = min(self.warmup_steps, max(0, total - 1))
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def warmup_cosine(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 100, min_lr_ratio: float = 0.05
) -> torch.optim.lr_scheduler.LambdaLR:
    """The warm-up + cosine schedule over ``total_steps`` optimiser steps (see ``WarmupCosine``)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(total_steps, warmup_steps, min_lr_ratio))


def set_total_steps(scheduler: torch.optim.lr_scheduler.LRScheduler, total_steps: int) -> bool:
    """Shorten (or lengthen) a WarmupCosine schedule in place; False for any other scheduler."""
    lambdas = getattr(scheduler, "lr_lambdas", [])
    if not lambdas or not all(isinstance(f, WarmupCosine) for f in lambdas):
        return False
    for f in lambdas:
        f.total_steps = int(total_steps)
    return True
