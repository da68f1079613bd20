"""Optimiser parameter groups and the warm-up + cosine learning-rate schedule."""

from __future__ import annotations

import math
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


def warmup_cosine(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 100, min_lr_ratio: float = 0.05
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up for ``warmup_steps`` optimiser steps, then cosine decay to ``min_lr_ratio`` x lr."""
    total_steps = max(1, total_steps)
    warmup_steps = min(warmup_steps, max(0, total_steps - 1))

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
