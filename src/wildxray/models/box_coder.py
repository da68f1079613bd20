"""Conversions between ltrb distances from anchor points and xyxy boxes (pixels, same frame)."""

from __future__ import annotations

import torch


def dist_to_xyxy(points: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """points ``[A, 2]`` xy, dist ``[..., A, 4]`` (left, top, right, bottom) -> xyxy ``[..., A, 4]``."""
    lt, rb = dist[..., :2], dist[..., 2:]
    return torch.cat([points - lt, points + rb], dim=-1)


def xyxy_to_dist(points: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """points ``[..., 2]`` xy, boxes ``[..., 4]`` xyxy -> ltrb distances ``[..., 4]`` (negative when outside)."""
    return torch.cat([points - boxes[..., :2], boxes[..., 2:] - points], dim=-1)
