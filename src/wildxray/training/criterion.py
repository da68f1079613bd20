"""Detection losses: IoU-aware classification, IoU box loss and Distribution Focal Loss.

``Criterion(outputs, targets)`` follows the DETR pattern: the model returns raw outputs, the
assigner (``training.assigner``) picks positives, this module turns the pair into named losses.

Normalisation: every term is divided by the soft number of positives, the sum of the IoU-aware
classification targets, clamped at >= 1 (YOLOv8/TOOD). Hard-counting positives instead would let
a batch of poorly-aligned positives weigh as much as a batch of good ones.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
import torchvision
from torch import nn

from wildxray.models.box_coder import dist_to_xyxy, xyxy_to_dist
from wildxray.training.assigner import TaskAlignedAssigner

CLS_LOSSES = ("bce", "varifocal")
BOX_LOSSES = ("giou", "ciou", "diou")


def pad_targets(targets: list[dict[str, torch.Tensor]], num_classes: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack per-image targets into ``labels int64 [B, M]``, ``boxes float [B, M, 4]``, ``mask bool [B, M]``.

    Raises ValueError naming the image (batch index and ``image_id`` if given) for a malformed record.
    """
    m = max((len(t["labels"]) for t in targets), default=0)
    b = len(targets)
    labels = torch.zeros((b, m), dtype=torch.int64, device=device)
    boxes = torch.zeros((b, m, 4), dtype=torch.float32, device=device)
    mask = torch.zeros((b, m), dtype=torch.bool, device=device)
    for i, t in enumerate(targets):
        name = f"target {i}" + (f" (image_id {int(t['image_id'])})" if "image_id" in t else "")
        bx = torch.as_tensor(t["boxes"], dtype=torch.float32, device=device).reshape(-1, 4) if len(t["boxes"]) else torch.zeros((0, 4), device=device)
        lb = torch.as_tensor(t["labels"], dtype=torch.int64, device=device).reshape(-1)
        if len(bx) != len(lb):
            raise ValueError(f"{name}: {len(bx)} boxes but {len(lb)} labels")
        if len(lb) and (lb.min() < 0 or lb.max() >= num_classes):
            raise ValueError(f"{name}: label outside 0..{num_classes - 1}: {lb.tolist()}")
        if len(bx) and (not torch.isfinite(bx).all() or (bx[:, 2:] <= bx[:, :2]).any()):
            raise ValueError(f"{name}: boxes must be finite xyxy with x2 > x1 and y2 > y1, got {bx.tolist()}")
        labels[i, : len(lb)] = lb
        boxes[i, : len(bx)] = bx
        mask[i, : len(lb)] = True
    return labels, boxes, mask


def _global_normaliser(local_sum: torch.Tensor) -> torch.Tensor:
    """Sum of soft targets over the GLOBAL batch, per rank (clamped >= 1).

    DDP averages gradients over ranks, so dividing each rank's loss by (global sum / world size)
    makes a W-rank run take the same step as one process on the whole batch (DETR does the same
    with its box count).
    """
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        total = local_sum.clone()
        dist.all_reduce(total)
        return total.clamp(min=1.0) / dist.get_world_size()
    return local_sum.clamp(min=1.0)


class Criterion(nn.Module):
    """Named losses for ``Detector`` outputs.

    ``forward(outputs, targets)``:
        outputs: the ``Detector`` dict (``cls_logits [B,A,C]``, ``box_dist [B,A,4]``,
            ``box_dfl_logits [B,A,4,R]``, ``anchor_points [A,2]``, ``strides [A]``).
        targets: B dicts with ``boxes`` float [M,4] xyxy input pixels and ``labels`` int64 [M].
    returns ``{"loss_cls", "loss_box", "loss_dfl", "loss", "num_pos"}`` (scalars; ``loss`` is the
    weighted sum, ``num_pos`` the hard positive count for logging, no gradient), plus
    ``loss_parcel`` when the outputs carry ``parcel_logits`` and ``loss_dense`` when they carry
    ``dense_logits`` (see :func:`parcel_loss`, :func:`dense_loss`).

    A clean image (no boxes) gets a classification loss pushing every score down and
    ``loss_box == loss_dfl == 0`` exactly.
    """

    def __init__(
        self,
        num_classes: int,
        weight_cls: float = 0.5,
        weight_box: float = 7.5,
        weight_dfl: float = 1.5,
        cls_loss: str = "bce",
        box_loss: str = "giou",
        topk: int = 10,
        alpha: float = 1.0,
        beta: float = 6.0,
        vfl_alpha: float = 0.75,
        vfl_gamma: float = 2.0,
        weight_parcel: float = 1.0,
        weight_dense: float = 2.0,
    ) -> None:
        super().__init__()
        if cls_loss not in CLS_LOSSES:
            raise ValueError(f"Criterion: cls_loss '{cls_loss}' not in {CLS_LOSSES}")
        if box_loss not in BOX_LOSSES:
            raise ValueError(f"Criterion: box_loss '{box_loss}' not in {BOX_LOSSES}")
        self.num_classes = num_classes
        self.weights = {"loss_cls": weight_cls, "loss_box": weight_box, "loss_dfl": weight_dfl,
                        "loss_parcel": weight_parcel, "loss_dense": weight_dense}
        self.cls_loss = cls_loss
        self.box_loss = box_loss
        self.vfl_alpha = vfl_alpha
        self.vfl_gamma = vfl_gamma
        self.assigner = TaskAlignedAssigner(num_classes, topk, alpha, beta)

    def _classification(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Summed BCE against IoU-aware soft targets; varifocal down-weights easy negatives by p^gamma."""
        bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        if self.cls_loss == "varifocal":
            p = logits.sigmoid().detach()
            weight = self.vfl_alpha * p.pow(self.vfl_gamma) * (target <= 0) + target
            bce = bce * weight
        return bce.sum()

    def _box(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        fn = {
            "giou": torchvision.ops.generalized_box_iou_loss,
            "ciou": torchvision.ops.complete_box_iou_loss,
            "diou": torchvision.ops.distance_box_iou_loss,
        }[self.box_loss]
        return fn(pred, target, reduction="none")

    @staticmethod
    def _dfl(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """logits [P, 4, R], target [P, 4] in bin units within [0, R-1) -> per-positive loss [P].

        Cross-entropy towards the two bins bracketing the target, weighted by proximity (GFL).
        """
        left = target.floor().long()
        w_right = target - left
        ce_left = F.cross_entropy(logits.flatten(0, 1), left.flatten(), reduction="none").view_as(target)
        ce_right = F.cross_entropy(logits.flatten(0, 1), (left + 1).flatten(), reduction="none").view_as(target)
        return (ce_left * (1 - w_right) + ce_right * w_right).mean(dim=-1)

    def forward(self, outputs: dict[str, torch.Tensor], targets: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        cls_logits = outputs["cls_logits"]
        points, strides = outputs["anchor_points"], outputs["strides"]
        dfl_logits = outputs["box_dfl_logits"]
        reg_max = dfl_logits.shape[-1]
        if len(targets) != cls_logits.shape[0]:
            raise ValueError(f"Criterion: {cls_logits.shape[0]} images but {len(targets)} targets")
        pred_boxes = dist_to_xyxy(points, outputs["box_dist"])  # [B, A, 4]
        gt_labels, gt_boxes, gt_mask = pad_targets(targets, self.num_classes, cls_logits.device)
        assign = self.assigner(
            cls_logits.detach().sigmoid(), pred_boxes.detach(), points, gt_labels, gt_boxes, gt_mask
        )
        target_scores = assign.target_scores.to(cls_logits.dtype)
        norm = _global_normaliser(target_scores.sum().detach())

        loss_cls = self._classification(cls_logits, target_scores) / norm

        fg = assign.fg_mask  # [B, A]
        weight = target_scores.sum(dim=-1)[fg]  # [P]
        loss_box = (self._box(pred_boxes[fg], assign.target_boxes[fg]) * weight).sum() / norm
        # DFL targets: ltrb distance of the assigned gt in stride units, kept inside the bins.
        anchor_fg = points[None].expand_as(pred_boxes[..., :2])[fg]  # [P, 2]
        stride_fg = strides[None].expand(fg.shape)[fg][:, None]  # [P, 1]
        dist_target = (xyxy_to_dist(anchor_fg, assign.target_boxes[fg]) / stride_fg).clamp(0, reg_max - 1 - 0.01)
        loss_dfl = (self._dfl(dfl_logits[fg], dist_target) * weight).sum() / norm

        losses = {"loss_cls": loss_cls, "loss_box": loss_box, "loss_dfl": loss_dfl}
        if "parcel_logits" in outputs:
            losses["loss_parcel"] = parcel_loss(outputs["parcel_logits"], gt_labels, gt_mask)
        if "dense_logits" in outputs:
            losses["loss_dense"] = dense_loss(outputs["dense_logits"], targets)
        losses["loss"] = sum(self.weights[k] * v for k, v in losses.items())
        losses["num_pos"] = fg.sum().detach().to(cls_logits.dtype)
        return losses


def parcel_targets(gt_labels: torch.Tensor, gt_mask: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Multi-hot ``float [B, C]``: 1 where the image holds at least one box of class c."""
    onehot = F.one_hot(gt_labels, num_classes).to(torch.float32) * gt_mask[..., None]  # [B, M, C]
    return onehot.amax(dim=1) if gt_labels.shape[1] else onehot.sum(dim=1)


def parcel_loss(logits: torch.Tensor, gt_labels: torch.Tensor, gt_mask: torch.Tensor) -> torch.Tensor:
    """BCE of image-level logits ``[B, C]`` against the parcel's classes: summed over classes,
    averaged over images (so its scale does not depend on the number of classes)."""
    target = parcel_targets(gt_labels, gt_mask, logits.shape[1])
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / max(1, logits.shape[0])


def dense_targets(class_map: torch.Tensor, num_classes: int, stride: int) -> torch.Tensor:
    """``uint8 [S, S]`` class bitmask (bit c set where an item of class c lies) -> ``float
    [C, S/stride, S/stride]``: the share of each cell's pixels that class c covers."""
    bits = torch.arange(num_classes, device=class_map.device)
    planes = ((class_map.to(torch.int64)[None] >> bits[:, None, None]) & 1).to(torch.float32)  # [C, S, S]
    return F.avg_pool2d(planes[None], stride)[0]


def dense_loss(logits: torch.Tensor, targets: list[dict[str, torch.Tensor]]) -> torch.Tensor:
    """Per-pixel BCE of ``dense_logits [B, C, h, w]`` against the soft cell shares of the images'
    ``class_map`` (summed over classes, averaged over cells). Images without a ``class_map`` (a
    dataset without masks) add nothing; a batch without any gives an exact 0 with a gradient path."""
    b, c, h, w = logits.shape
    rows = [i for i, t in enumerate(targets) if t.get("class_map") is not None]
    if not rows:
        return logits.sum() * 0.0
    stride = targets[rows[0]]["class_map"].shape[-1] // w
    target = torch.stack([dense_targets(targets[i]["class_map"], c, stride) for i in rows])  # [b', C, h, w]
    if target.shape[-2:] != (h, w):
        raise ValueError(f"dense_loss: class_map of {tuple(targets[rows[0]]['class_map'].shape)} does not tile "
                         f"the {h}x{w} dense output")
    bce = F.binary_cross_entropy_with_logits(logits[rows], target, reduction="none")
    return bce.sum(dim=1).mean()
