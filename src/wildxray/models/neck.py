"""Slim FPN + PAN neck: three levels in, three levels out, all with the same channel count.

Fusion is by addition (not concatenation) so every level keeps ``channels`` channels, and each
fusion is followed by depthwise-separable convs: the neck costs a few percent of the backbone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wildxray.models.blocks import ConvBNAct, DWSepConv


def _fuse_block(channels: int, depth: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(*[DWSepConv(channels, channels, kernel_size) for _ in range(depth)])


class PAN(nn.Module):
    """Top-down (FPN) then bottom-up (PAN) path over strides 8/16/32.

    forward: ``[C3 [B,c3,H/8,W/8], C4 [B,c4,H/16,W/16], C5 [B,c5,H/32,W/32]]`` ->
    ``[N3, N4, N5]`` each ``[B, channels, H/s, W/s]``.
    """

    def __init__(self, in_channels: tuple[int, ...] | list[int], channels: int = 96, depth: int = 1, kernel_size: int = 5) -> None:
        super().__init__()
        if len(in_channels) != 3:
            raise ValueError(f"PAN expects 3 input levels, got {len(in_channels)}")
        self.out_channels = channels
        self.lateral = nn.ModuleList(ConvBNAct(c, channels, 1) for c in in_channels)
        self.top_down = nn.ModuleList(_fuse_block(channels, depth, kernel_size) for _ in range(2))
        # Stride-2 depthwise-separable convs carry fine detail down to the coarser levels.
        self.downsample = nn.ModuleList(DWSepConv(channels, channels, 3, stride=2) for _ in range(2))
        self.bottom_up = nn.ModuleList(_fuse_block(channels, depth, kernel_size) for _ in range(2))

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        c3, c4, c5 = (lat(f) for lat, f in zip(self.lateral, feats))
        p5 = c5
        p4 = self.top_down[0](c4 + F.interpolate(p5, scale_factor=2.0, mode="nearest"))
        p3 = self.top_down[1](c3 + F.interpolate(p4, scale_factor=2.0, mode="nearest"))
        n3 = p3
        n4 = self.bottom_up[0](p4 + self.downsample[0](n3))
        n5 = self.bottom_up[1](p5 + self.downsample[1](n4))
        return [n3, n4, n5]
