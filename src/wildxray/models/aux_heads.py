"""Two optional heads beside the box head, both on the neck's outputs.

- ``ParcelHead``: image-level logits per class, "does this parcel hold class c?" -- the operational
  question, which today's highest-box-score answers only indirectly. Global average and max pooling
  of every neck level, concatenated, then one linear layer: max pooling lets one small item decide,
  average pooling carries the scene context (a parcel full of organic clutter looks different).
- ``DenseHead``: per-pixel class logits on the stride-8 level, supervised by the simulator's
  per-item masks. Every contraband pixel becomes a training signal instead of a few assigned
  anchors per object, which is what a small CPU budget needs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from wildxray.models.blocks import DWSepConv


class ParcelHead(nn.Module):
    """forward: ``[N3, N4, N5]`` each ``[B, channels, H_l, W_l]`` -> ``parcel_logits [B, C]``."""

    def __init__(self, num_classes: int, channels: int, num_levels: int = 3, prior_prob: float = 0.1) -> None:
        super().__init__()
        self.fc = nn.Linear(2 * channels * num_levels, num_classes)
        nn.init.normal_(self.fc.weight, std=0.01)
        # Half the parcels are clean and the rest hold 1-3 of 6 classes: ~0.1 per class at start.
        nn.init.constant_(self.fc.bias, -math.log((1 - prior_prob) / prior_prob))

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        pooled = [torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], dim=1) for f in feats]  # L x [B, 2*ch]
        return self.fc(torch.cat(pooled, dim=1))


class DenseHead(nn.Module):
    """forward: ``N3 [B, channels, H/8, W/8]`` -> ``dense_logits [B, C, H/8, W/8]``."""

    def __init__(self, num_classes: int, channels: int, prior_prob: float = 0.01) -> None:
        super().__init__()
        self.conv = DWSepConv(channels, channels, 3)
        self.pred = nn.Conv2d(channels, num_classes, 1)
        nn.init.normal_(self.pred.weight, std=0.01)
        nn.init.constant_(self.pred.bias, -math.log((1 - prior_prob) / prior_prob))

    def forward(self, p3: torch.Tensor) -> torch.Tensor:
        return self.pred(self.conv(p3))
