"""Decode raw detector outputs and run class-aware NMS into a fixed ``[B, K]`` layout.

The same code runs eagerly (evaluation) and inside the exported ONNX graph. NMS is emitted as the
standard ONNX ``NonMaxSuppression`` operator (which handles the batch natively) from a
``torch.autograd.Function`` whose eager ``forward`` reproduces that operator with
``torchvision.ops.nms``: both keep a box iff its score is ``> score_thresh`` and it overlaps no kept,
higher-scoring box of the same class by IoU ``> iou_thresh``, so eager and ONNX agree.

Class awareness uses the offset trick of ``torchvision.ops.batched_nms``: boxes are clipped to the
image and shifted by ``label * (max(H, W) + 1)`` so boxes of different classes never overlap.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision

from wildxray.models.box_coder import dist_to_xyxy


class _OnnxNMS(torch.autograd.Function):
    """ONNX ``NonMaxSuppression`` (one class channel): boxes ``[B, N, 4]``, scores ``[B, 1, N]`` ->
    selected ``int64 [n, 3]`` rows ``(batch, 0, box index)``, per image in descending score order."""

    @staticmethod
    def forward(ctx, boxes: torch.Tensor, scores: torch.Tensor, max_out: int, iou_thresh: float, score_thresh: float) -> torch.Tensor:  # type: ignore[override]
        rows = []
        for b in range(boxes.shape[0]):
            s = scores[b, 0]
            cand = torch.nonzero(s > score_thresh).squeeze(1)
            keep = torchvision.ops.nms(boxes[b, cand], s[cand], iou_thresh)[:max_out]
            idx = cand[keep]
            rows.append(torch.stack([torch.full_like(idx, b), torch.zeros_like(idx), idx], dim=1))
        return torch.cat(rows) if rows else torch.zeros((0, 3), dtype=torch.int64, device=boxes.device)

    @staticmethod
    def symbolic(g, boxes, scores, max_out: int, iou_thresh: float, score_thresh: float):  # noqa: ANN001
        return g.op(
            "NonMaxSuppression",
            boxes,
            scores,
            g.op("Constant", value_t=torch.tensor([max_out], dtype=torch.int64)),
            g.op("Constant", value_t=torch.tensor([iou_thresh], dtype=torch.float32)),
            g.op("Constant", value_t=torch.tensor([score_thresh], dtype=torch.float32)),
        )


def image_size_from_anchors(anchor_points: torch.Tensor, strides: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Input height and width recovered from the anchor grid (the last cell's centre + half a stride)."""
    far = anchor_points + strides[:, None] / 2  # [A, 2] far corner of each cell
    return far[:, 1].max(), far[:, 0].max()


def decode_and_nms(
    outputs: dict[str, torch.Tensor],
    score_thresh: float = 0.05,
    iou_thresh: float = 0.6,
    max_det: int = 100,
    pre_nms_topk: int = 1000,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Turn ``Detector`` outputs into final detections in the model's input frame.

    Args:
        outputs: ``cls_logits [B, A, C]``, ``box_dist [B, A, 4]``, ``anchor_points [A, 2]``, ``strides [A]``.
        score_thresh: keep detections with sigmoid score strictly above this.
        iou_thresh: class-aware NMS IoU threshold (suppress when IoU > it).
        max_det: K, the fixed number of output slots per image.
        pre_nms_topk: (anchor, class) candidates per image entering NMS, by score.

    Returns:
        ``boxes float32 [B, K, 4]`` xyxy input pixels clipped to the image (0 in padding),
        ``scores float32 [B, K]`` descending (0 in padding), ``labels int64 [B, K]`` (-1 in padding),
        ``num int64 [B]`` the number of valid slots (they come first).
    """
    cls_logits, dist = outputs["cls_logits"], outputs["box_dist"]
    points, strides = outputs["anchor_points"], outputs["strides"]
    b, a, c = cls_logits.shape
    height, width = image_size_from_anchors(points, strides)
    boxes = dist_to_xyxy(points, dist)  # [B, A, 4]
    # Clip in the input frame (stack of clamps: exportable, and boxes stay inside the canvas).
    boxes = torch.stack(
        [boxes[..., 0].clamp(min=0).clamp(max=width), boxes[..., 1].clamp(min=0).clamp(max=height),
         boxes[..., 2].clamp(min=0).clamp(max=width), boxes[..., 3].clamp(min=0).clamp(max=height)],
        dim=-1,
    )
    scores = cls_logits.sigmoid().reshape(b, a * c)  # [B, A*C], index = anchor * C + class
    k_pre = min(pre_nms_topk, a * c)
    cand_scores, flat_idx = scores.topk(k_pre, dim=1)  # [B, k_pre]
    anchor_idx = torch.div(flat_idx, c, rounding_mode="floor")
    cand_labels = flat_idx - anchor_idx * c  # [B, k_pre] int64
    cand_boxes = torch.gather(boxes, 1, anchor_idx[..., None].expand(b, k_pre, 4))  # [B, k_pre, 4]

    offset = (torch.maximum(height, width) + 1.0) * cand_labels.to(cand_boxes.dtype)  # [B, k_pre]
    selected = _OnnxNMS.apply(cand_boxes + offset[..., None], cand_scores[:, None, :], max_det, float(iou_thresh), float(score_thresh))
    keep = torch.zeros((b, k_pre), dtype=cand_scores.dtype, device=cand_scores.device)
    keep[selected[:, 0], selected[:, 2]] = 1.0  # ScatterND in ONNX

    # Kept candidates first, by score; -1 marks everything else (scores are >= 0).
    ranked = torch.where(keep > 0, cand_scores, torch.full_like(cand_scores, -1.0))
    k_out = min(max_det, k_pre)
    top_scores, order = ranked.topk(k_out, dim=1)  # [B, k_out]
    top_boxes = torch.gather(cand_boxes, 1, order[..., None].expand(b, k_out, 4))
    top_labels = torch.gather(cand_labels, 1, order)
    valid = top_scores > score_thresh
    out_scores = torch.where(valid, top_scores, torch.zeros_like(top_scores))
    out_boxes = torch.where(valid[..., None], top_boxes, torch.zeros_like(top_boxes))
    out_labels = torch.where(valid, top_labels, torch.full_like(top_labels, -1))
    if k_out < max_det:  # tiny inputs with fewer (anchor, class) pairs than K: pad to K
        pad = max_det - k_out
        out_boxes = F.pad(out_boxes, (0, 0, 0, pad))
        out_scores = F.pad(out_scores, (0, pad))
        out_labels = F.pad(out_labels, (0, pad), value=-1)
    return out_boxes, out_scores, out_labels, valid.sum(dim=1).to(torch.int64)
