"""Checkpoints that hold the full training state, so a run resumes exactly where it stopped.

Layout (a dict saved with ``torch.save``)::

    model       state_dict of the Detector (unwrapped from DDP)
    ema         state_dict of the EMA weights (what evaluation and export use) or None
    ema_updates how many updates the EMA has seen (its decay ramps with it)
    optimizer, scheduler, scaler   their state_dicts (scaler None off CUDA)
    epoch       the number of completed epochs
    step        the number of completed optimiser steps
    best_metric best validation metric so far, and ``history`` of per-epoch metrics
    rng         python / numpy / torch RNG states
    config      the resolved Hydra config as a plain dict
    class_names list of class names (label order)
    git_commit  the code's commit
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wildxray.gitinfo import git_commit

CHECKPOINT_VERSION = 1


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write atomically: a crash mid-write must never leave a truncated ``last.pt``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {**state, "version": CHECKPOINT_VERSION, "git_commit": git_commit()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    # Our checkpoints hold numpy RNG state and plain config dicts, so full unpickling is needed;
    # only load checkpoints you trust.
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{path}: not a wildxray checkpoint (no 'model' entry)")
    return state


def write_weights_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """A slim checkpoint to fine-tune from: the evaluated weights (EMA when present) as ``model``,
    with the config, class names, epoch, step and commit; no optimiser, scheduler or RNG state."""
    state = load_checkpoint(src)
    slim = {
        "model": state.get("ema") or state["model"], "ema": None, "config": state["config"],
        "class_names": state["class_names"], "epoch": state.get("epoch"), "step": state.get("step"),
        "history": state.get("history", []), "source_checkpoint": str(src),
    }
    return save_checkpoint(dst, slim)
