"""Conv building blocks shared by the neck and the head (Conv-BN-activation, depthwise-separable)."""

from __future__ import annotations

import torch
from torch import nn


class ConvBNAct(nn.Sequential):
    """k x k conv (no bias) -> BatchNorm -> activation; ``groups=in_ch`` makes it depthwise.

    BatchNorm folds into the conv at export, so it costs nothing at inference.
    """

    def __init__(self, in_ch: int, out_ch: int, k: int = 1, stride: int = 1, groups: int = 1, act: bool = True) -> None:
        super().__init__(
            nn.Conv2d(in_ch, out_ch, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.Hardswish(inplace=True) if act else nn.Identity(),
        )


class DWSepConv(nn.Sequential):
    """Depthwise k x k (stride s) then pointwise 1x1: ~k*k + C_out MACs per input channel and pixel
    instead of k*k*C_out, which is what keeps the neck and head at a few hundred MFLOPs."""

    def __init__(self, in_ch: int, out_ch: int, k: int = 3, stride: int = 1) -> None:
        super().__init__(
            ConvBNAct(in_ch, in_ch, k, stride, groups=in_ch),
            ConvBNAct(in_ch, out_ch, 1),
        )


class Scale(nn.Module):
    """A learnable scalar (one per pyramid level in the head's regression branch)."""

    def __init__(self, value: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(value)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale
