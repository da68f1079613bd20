"""decode_and_nms on hand-built outputs: class-aware NMS, thresholds, fixed-K padding."""

from __future__ import annotations

import torch

from wildxray.models.detector import make_anchor_points
from wildxray.models.postprocess import decode_and_nms


def _outputs(scores: dict[int, tuple[int, float]], dists: dict[int, list[float]], b: int = 1, c: int = 2) -> dict:
    """64x64 input; ``scores[anchor] = (class, p)``, ``dists[anchor] = ltrb``; everything else p ~ 0."""
    points, strides = make_anchor_points([(8, 8), (4, 4), (2, 2)], (8, 16, 32))
    a = len(points)
    logits = torch.full((b, a, c), -20.0)
    dist = torch.full((b, a, 4), 2.0)
    for anchor, (cls, p) in scores.items():
        logits[:, anchor, cls] = torch.logit(torch.tensor(p))
    for anchor, d in dists.items():
        dist[:, anchor] = torch.tensor(d)
    return {"cls_logits": logits, "box_dist": dist, "anchor_points": points, "strides": strides}


def test_overlapping_same_class_boxes_are_suppressed_other_class_kept() -> None:
    # Anchors 9 (12,12) and 10 (20,12): boxes of 20x20 overlapping by IoU 12*20/(2*400-240) = 0.43.
    out = _outputs({9: (0, 0.9), 10: (0, 0.8), 18: (1, 0.7)}, {9: [10, 10, 10, 10], 10: [10, 10, 10, 10], 18: [4, 4, 4, 4]})
    boxes, scores, labels, num = decode_and_nms(out, score_thresh=0.3, iou_thresh=0.4, max_det=5)
    assert num.tolist() == [2]
    assert torch.allclose(scores[0, :2], torch.tensor([0.9, 0.7]))
    assert labels[0].tolist() == [0, 1, -1, -1, -1]
    assert boxes[0, 0].tolist() == [2.0, 2.0, 22.0, 22.0]  # anchor (12, 12) +- 10
    assert (boxes[0, 2:] == 0).all() and (scores[0, 2:] == 0).all()
    # A looser IoU threshold keeps both red boxes.
    _, _, labels, num = decode_and_nms(out, score_thresh=0.3, iou_thresh=0.5, max_det=5)
    assert num.tolist() == [3] and labels[0, :3].tolist() == [0, 0, 1]


def test_same_box_different_classes_both_survive() -> None:
    out = _outputs({9: (0, 0.9)}, {9: [10, 10, 10, 10]})
    out["cls_logits"][0, 9, 1] = torch.logit(torch.tensor(0.6))
    _, scores, labels, num = decode_and_nms(out, 0.3, 0.5, 4)
    assert num.tolist() == [2] and labels[0, :2].tolist() == [0, 1]


def test_boxes_are_clipped_to_the_input_and_threshold_is_strict() -> None:
    out = _outputs({0: (1, 0.5)}, {0: [30, 30, 100, 100]})
    boxes, scores, labels, num = decode_and_nms(out, 0.3, 0.5, 3)
    assert boxes[0, 0].tolist() == [0.0, 0.0, 64.0, 64.0]
    _, _, _, num = decode_and_nms(out, 0.5, 0.5, 3)
    assert num.tolist() == [0]


def test_fixed_k_when_fewer_candidates_than_slots_and_per_image_batches() -> None:
    out = _outputs({9: (0, 0.9)}, {}, b=2, c=1)
    out["cls_logits"][1] = -20.0  # second image: nothing
    boxes, scores, labels, num = decode_and_nms(out, 0.3, 0.5, max_det=200)  # A*C = 84 < 200
    assert boxes.shape == (2, 200, 4) and scores.shape == (2, 200) and labels.shape == (2, 200)
    assert num.tolist() == [1, 0] and labels.dtype == torch.int64 and num.dtype == torch.int64
    assert (labels[1] == -1).all()
