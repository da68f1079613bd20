"""Starting a run from another run's weights, including when the class list differs."""

from __future__ import annotations

import logging

import torch
from torch import nn

log = logging.getLogger(__name__)


def load_weights_remapping_classes(
    model: nn.Module, state_dict: dict[str, torch.Tensor], old_classes: list[str], new_classes: list[str]
) -> dict[str, list[str]]:
    """Load ``state_dict`` into ``model``; where the class count changes, remap by class name.

    Tensors whose first dimension is the number of classes (the classification layer's weight and
    bias) are rebuilt: rows of classes present in both lists are copied, new classes keep the
    model's fresh initialisation. Every other tensor is copied bit-for-bit. Returns which keys were
    copied, remapped and left at initialisation.
    """
    own = model.state_dict()
    copied, remapped, skipped = [], [], []
    old_index = {name: i for i, name in enumerate(old_classes)}
    same_classes = list(old_classes) == list(new_classes)
    for key, value in state_dict.items():
        if key not in own:
            skipped.append(key)
            continue
        target = own[key]
        if value.shape == target.shape and (same_classes or value.ndim == 0 or value.shape[0] != len(old_classes)):
            target.copy_(value)
            copied.append(key)
        elif value.ndim >= 1 and value.shape[0] == len(old_classes) and target.shape[0] == len(new_classes) \
                and value.shape[1:] == target.shape[1:]:
            for new_i, name in enumerate(new_classes):
                if name in old_index:
                    target[new_i].copy_(value[old_index[name]])
            remapped.append(key)
        else:
            skipped.append(key)
    if len(copied) + len(remapped) < 0.5 * len(own):
        raise ValueError(
            f"the starting weights do not fit this model: only {len(copied) + len(remapped)} of {len(own)} tensors "
            f"match ({len(skipped)} skipped, e.g. {skipped[:3]}). Use the model config the checkpoint was trained "
            "with (see its config.yaml)."
        )
    model.load_state_dict(own)
    log.info("init weights: %d tensors copied, %d remapped by class name, %d skipped", len(copied), len(remapped), len(skipped))
    return {"copied": copied, "remapped": remapped, "skipped": skipped}
