"""Task-aligned label assignment (TOOD, as used by YOLOv8 and PP-YOLOE).

For every ground-truth box the anchors whose centre lies inside it are ranked by the alignment
metric ``t = s^alpha * IoU^beta`` (``s`` the predicted score of the gt's class, ``IoU`` between the
anchor's predicted box and the gt); the ``topk`` best become positives. An anchor claimed by several
gts goes to the one it overlaps most. The classification target of a positive is IoU-aware:
``t / max_t(gt) * max_IoU(gt)``, so well-localised predictions are asked for higher scores.

A gt too small to contain any anchor centre (a bead, a claw at stride 8) takes the anchor nearest to
its centre instead of silently getting no positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchvision
from torch import nn


@dataclass
class Assignment:
    """Result for a batch of B images and A anchors.

    fg_mask:       bool    [B, A]     anchor is a positive
    target_labels: int64   [B, A]     class of the assigned gt (0 where background)
    target_boxes:  float   [B, A, 4]  xyxy input pixels of the assigned gt (0 where background)
    target_scores: float   [B, A, C]  IoU-aware soft classification targets (0 for background)
    gt_index:      int64   [B, A]     index of the assigned gt within its image (0 where background)
    """

    fg_mask: torch.Tensor
    target_labels: torch.Tensor
    target_boxes: torch.Tensor
    target_scores: torch.Tensor
    gt_index: torch.Tensor


def _pairwise_iou(gt: torch.Tensor, pred: torch.Tensor) -> torch.Tensor:
    """gt ``[B, M, 4]``, pred ``[B, A, 4]`` xyxy -> IoU ``[B, M, A]``."""
    return torch.stack([torchvision.ops.box_iou(g, p) for g, p in zip(gt, pred)])


class TaskAlignedAssigner(nn.Module):
    """TOOD assigner; see the module docstring. ``alpha``/``beta`` weight score vs IoU."""

    def __init__(self, num_classes: int, topk: int = 10, alpha: float = 1.0, beta: float = 6.0, eps: float = 1e-9) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.topk = topk
        self.alpha = alpha
        self.beta = beta
        self.eps = eps

    @torch.no_grad()
    def forward(
        self,
        pred_scores: torch.Tensor,
        pred_boxes: torch.Tensor,
        anchor_points: torch.Tensor,
        gt_labels: torch.Tensor,
        gt_boxes: torch.Tensor,
        gt_mask: torch.Tensor,
    ) -> Assignment:
        """Assign anchors to gts.

        Args:
            pred_scores: float [B, A, C] sigmoid scores (detached).
            pred_boxes: float [B, A, 4] predicted xyxy, input pixels (detached).
            anchor_points: float [A, 2] xy anchor centres, input pixels.
            gt_labels: int64 [B, M] (padded), gt_boxes: float [B, M, 4] xyxy, gt_mask: bool [B, M] real gts.
        """
        b, a, c = pred_scores.shape
        m = gt_boxes.shape[1]
        dev = pred_scores.device
        if m == 0 or not bool(gt_mask.any()):
            return Assignment(
                torch.zeros((b, a), dtype=torch.bool, device=dev),
                torch.zeros((b, a), dtype=torch.int64, device=dev),
                torch.zeros((b, a, 4), dtype=pred_boxes.dtype, device=dev),
                torch.zeros((b, a, c), dtype=pred_scores.dtype, device=dev),
                torch.zeros((b, a), dtype=torch.int64, device=dev),
            )
        gt_mask_f = gt_mask[..., None]  # [B, M, 1]
        # Candidate anchors: centre strictly inside the gt box.
        lt = anchor_points[None, None] - gt_boxes[:, :, None, :2]  # [B, M, A, 2]
        rb = gt_boxes[:, :, None, 2:] - anchor_points[None, None]
        in_gt = torch.cat([lt, rb], dim=-1).amin(dim=-1) > self.eps  # [B, M, A]
        # Fallback for gts holding no anchor centre: their nearest anchor.
        centres = (gt_boxes[..., :2] + gt_boxes[..., 2:]) / 2  # [B, M, 2]
        nearest = torch.cdist(centres, anchor_points[None].expand(b, a, 2)).argmin(dim=-1)  # [B, M]
        empty = ~in_gt.any(dim=-1)  # [B, M]
        in_gt = in_gt | (torch.nn.functional.one_hot(nearest, a).bool() & empty[..., None])
        in_gt = in_gt & gt_mask_f

        ious = _pairwise_iou(gt_boxes, pred_boxes).clamp(min=0) * in_gt  # [B, M, A]
        labels_idx = gt_labels.clamp(min=0, max=c - 1)
        cls_score = torch.gather(pred_scores.transpose(1, 2), 1, labels_idx[..., None].expand(b, m, a))  # [B, M, A]
        align = cls_score.pow(self.alpha) * ious.pow(self.beta) * in_gt  # [B, M, A]

        k = min(self.topk, a)
        top_idx = align.topk(k, dim=-1).indices  # [B, M, k]
        is_top = torch.zeros_like(align, dtype=torch.bool).scatter_(-1, top_idx, True)
        mask_pos = is_top & in_gt  # [B, M, A]

        # One gt per anchor: the one with the largest IoU among those claiming it.
        multi = mask_pos.sum(dim=1, keepdim=True) > 1  # [B, 1, A]
        claim_iou = (ious + 1e-6) * mask_pos  # ties at IoU 0 still pick a claiming gt
        best = torch.nn.functional.one_hot(claim_iou.argmax(dim=1), m).transpose(1, 2).bool()  # [B, M, A]
        mask_pos = torch.where(multi, best, mask_pos)

        fg = mask_pos.any(dim=1)  # [B, A]
        gt_index = mask_pos.to(torch.int64).argmax(dim=1)  # [B, A]
        target_labels = torch.gather(gt_labels, 1, gt_index) * fg
        target_boxes = torch.gather(gt_boxes, 1, gt_index[..., None].expand(b, a, 4)) * fg[..., None]

        align = align * mask_pos
        max_align = align.amax(dim=-1, keepdim=True)  # [B, M, 1]
        max_iou = (ious * mask_pos).amax(dim=-1, keepdim=True)  # [B, M, 1]
        quality = (align * max_iou / (max_align + self.eps)).amax(dim=1)  # [B, A]
        target_scores = torch.nn.functional.one_hot(target_labels, c).to(pred_scores.dtype)
        target_scores = target_scores * (quality * fg)[..., None]
        return Assignment(fg, target_labels, target_boxes, target_scores, gt_index)
