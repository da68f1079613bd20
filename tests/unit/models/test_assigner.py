"""Task-aligned assignment on hand-built cases."""

from __future__ import annotations

import torch

from wildxray.models.detector import make_anchor_points
from wildxray.training.assigner import TaskAlignedAssigner


def _grid(size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    return make_anchor_points([(size // 8, size // 8), (size // 16, size // 16), (size // 32, size // 32)], (8, 16, 32))


def _predictions(points: torch.Tensor, b: int, c: int, half: float = 10.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Uniform scores 0.5 and a 2*half square box around every anchor."""
    a = len(points)
    scores = torch.full((b, a, c), 0.5)
    boxes = torch.cat([points - half, points + half], dim=-1)[None].expand(b, a, 4).clone()
    return scores, boxes


def test_positives_lie_inside_their_box_and_carry_its_label() -> None:
    points, _ = _grid()
    scores, pred = _predictions(points, 1, 3)
    gt = torch.tensor([[[8.0, 8.0, 40.0, 32.0]]])
    res = TaskAlignedAssigner(3, topk=5)(scores, pred, points, torch.tensor([[2]]), gt, torch.tensor([[True]]))
    fg = res.fg_mask[0]
    assert 0 < int(fg.sum()) <= 5
    inside = (points[:, 0] > 8) & (points[:, 0] < 40) & (points[:, 1] > 8) & (points[:, 1] < 32)
    assert not (fg & ~inside).any(), "no positive outside the gt box"
    assert (res.target_labels[0][fg] == 2).all()
    assert torch.equal(res.target_boxes[0][fg], gt[0, 0].expand(int(fg.sum()), 4))
    # IoU-aware soft targets: only the gt's class, in (0, 1], and the best anchor gets the max IoU.
    assert (res.target_scores[0][fg][:, [0, 1]] == 0).all()
    assert ((res.target_scores[0][fg][:, 2] > 0) & (res.target_scores[0][fg][:, 2] <= 1)).all()
    assert (res.target_scores[0][~fg] == 0).all()


def test_zero_gt_image_has_no_positives() -> None:
    points, _ = _grid()
    scores, pred = _predictions(points, 2, 3)
    res = TaskAlignedAssigner(3)(scores, pred, points, torch.zeros((2, 0), dtype=torch.int64), torch.zeros((2, 0, 4)), torch.zeros((2, 0), dtype=torch.bool))
    assert not res.fg_mask.any() and (res.target_scores == 0).all()


def test_padded_gts_are_ignored_and_empty_image_in_batch_stays_negative() -> None:
    points, _ = _grid()
    scores, pred = _predictions(points, 2, 3)
    gt = torch.tensor([[[8.0, 8.0, 40.0, 40.0], [0.0, 0.0, 64.0, 64.0]], [[0.0, 0.0, 64.0, 64.0], [0.0, 0.0, 64.0, 64.0]]])
    mask = torch.tensor([[True, False], [False, False]])
    res = TaskAlignedAssigner(3)(scores, pred, points, torch.tensor([[0, 1], [1, 1]]), gt, mask)
    assert res.fg_mask[0].any() and (res.gt_index[0][res.fg_mask[0]] == 0).all()
    assert not res.fg_mask[1].any()


def test_tiny_box_without_anchor_centre_gets_its_nearest_anchor() -> None:
    points, _ = _grid()
    scores, pred = _predictions(points, 1, 1, half=2.0)
    gt = torch.tensor([[[5.0, 5.0, 7.0, 7.0]]])  # 2x2 px, no stride-8 centre inside
    res = TaskAlignedAssigner(1)(scores, pred, points, torch.tensor([[0]]), gt, torch.tensor([[True]]))
    assert res.fg_mask[0].nonzero().flatten().tolist() == [0]  # the anchor at (4, 4)


def test_anchor_claimed_by_two_gts_goes_to_the_better_overlap() -> None:
    points, _ = _grid()
    scores, pred = _predictions(points, 1, 2, half=8.0)
    # Anchor (20, 20) predicts [12, 12, 28, 28]: gt 1 matches it exactly, gt 0 is much larger.
    gt = torch.tensor([[[0.0, 0.0, 64.0, 64.0], [12.0, 12.0, 28.0, 28.0]]])
    res = TaskAlignedAssigner(2, topk=13)(scores, pred, points, torch.tensor([[0, 1]]), gt, torch.tensor([[True, True]]))
    idx = int(((points - torch.tensor([20.0, 20.0])).abs().sum(1) == 0).nonzero())
    assert res.fg_mask[0, idx] and res.gt_index[0, idx] == 1 and res.target_labels[0, idx] == 1
    assert torch.allclose(res.target_scores[0, idx, 1], torch.tensor(1.0))
