"""Decoupled detection head shared across pyramid levels.

Box regression uses Distribution Focal Loss (DFL, GFL/YOLOv8): each side's distance is a softmax
over ``reg_max`` bins (in stride units) whose expectation is the distance. Compared with a single
exp/softplus distance it models ambiguous edges (occluded tusks, overlapping skins in cluttered
parcels) as a spread distribution, trains faster and gives ~+1 AP in the GFL ablations, for 4*R
extra output channels and a softmax at inference, a negligible CPU cost. ``reg_max`` bounds the
distance to ``(reg_max - 1) * stride``: 480 px at stride 32 for 16 bins, enough up to 960 px inputs.

Conv weights are shared across levels (more data per weight, fewer parameters) while BatchNorm is
per level (EfficientDet), because the levels' activation statistics differ.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from wildxray.models.blocks import Scale


class SharedDWSep(nn.Module):
    """Depthwise k x k + pointwise 1x1, weights shared by all levels, BatchNorm per level."""

    def __init__(self, channels: int, num_levels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.dw = nn.Conv2d(channels, channels, kernel_size, 1, kernel_size // 2, groups=channels, bias=False)
        self.dw_bn = nn.ModuleList(nn.BatchNorm2d(channels) for _ in range(num_levels))
        self.pw = nn.Conv2d(channels, channels, 1, bias=False)
        self.pw_bn = nn.ModuleList(nn.BatchNorm2d(channels) for _ in range(num_levels))
        self.act = nn.Hardswish(inplace=True)

    def forward(self, x: torch.Tensor, level: int) -> torch.Tensor:
        x = self.act(self.dw_bn[level](self.dw(x)))
        return self.act(self.pw_bn[level](self.pw(x)))


class DecoupledHead(nn.Module):
    """Separate classification and regression branches over the neck's levels.

    forward: ``[N3, N4, N5]`` each ``[B, channels, H_l, W_l]`` ->
    ``cls_logits [B, A, num_classes]`` and ``dfl_logits [B, A, 4, reg_max]`` with
    ``A = sum_l H_l * W_l`` in level order, then row-major (y, then x) within a level.
    """

    def __init__(
        self,
        num_classes: int,
        channels: int = 96,
        num_levels: int = 3,
        num_convs: int = 2,
        kernel_size: int = 3,
        reg_max: int = 16,
        prior_prob: float = 0.01,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.reg_max = reg_max
        self.cls_convs = nn.ModuleList(SharedDWSep(channels, num_levels, kernel_size) for _ in range(num_convs))
        self.reg_convs = nn.ModuleList(SharedDWSep(channels, num_levels, kernel_size) for _ in range(num_convs))
        self.cls_pred = nn.Conv2d(channels, num_classes, 1)
        self.reg_pred = nn.Conv2d(channels, 4 * reg_max, 1)
        self.scales = nn.ModuleList(Scale(1.0) for _ in range(num_levels))
        # Focal-loss prior: start every anchor at p = prior_prob so the many negatives do not
        # swamp the first steps (RetinaNet).
        nn.init.normal_(self.cls_pred.weight, std=0.01)
        nn.init.constant_(self.cls_pred.bias, -math.log((1 - prior_prob) / prior_prob))
        nn.init.normal_(self.reg_pred.weight, std=0.01)
        nn.init.zeros_(self.reg_pred.bias)

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        cls_out, reg_out = [], []
        for level, x in enumerate(feats):
            c = x
            for conv in self.cls_convs:
                c = conv(c, level)
            r = x
            for conv in self.reg_convs:
                r = conv(r, level)
            cls = self.cls_pred(c)  # [B, C, H, W]
            reg = self.scales[level](self.reg_pred(r))  # [B, 4*R, H, W]
            b = x.shape[0]
            cls_out.append(cls.flatten(2).transpose(1, 2))  # [B, H*W, C]
            reg_out.append(reg.flatten(2).transpose(1, 2))  # [B, H*W, 4*R]
        cls_logits = torch.cat(cls_out, dim=1)  # [B, A, C]
        dfl_logits = torch.cat(reg_out, dim=1).reshape(b, -1, 4, self.reg_max)  # [B, A, 4, R]
        return cls_logits, dfl_logits
