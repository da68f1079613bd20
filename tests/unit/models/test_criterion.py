"""Losses: clean parcels, gradients, validation of targets, both classification losses."""

from __future__ import annotations

import pytest
import torch

from wildxray.models.build import build_detector
from wildxray.training.criterion import Criterion

EMPTY = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}


@pytest.fixture(scope="module")
def detector() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_detector(3, "mobilenet_v3_small", neck_channels=32)


@pytest.mark.parametrize("cls_loss", ["bce", "varifocal"])
def test_clean_image_gives_finite_loss_and_zero_box_loss(detector, cls_loss: str) -> None:
    out = detector(torch.rand(2, 3, 64, 64) * 255)
    losses = Criterion(3, cls_loss=cls_loss)(out, [EMPTY, EMPTY])
    assert torch.isfinite(losses["loss"]) and losses["loss"] > 0
    assert losses["loss_box"].item() == 0.0 and losses["loss_dfl"].item() == 0.0
    assert losses["num_pos"].item() == 0
    losses["loss"].backward()  # a clean batch still trains the classifier towards "nothing here"
    assert detector.head.cls_pred.weight.grad.abs().sum() > 0
    detector.zero_grad()


def test_gradients_reach_every_trainable_parameter(detector) -> None:
    out = detector(torch.rand(2, 3, 64, 64) * 255)
    targets = [{"boxes": torch.tensor([[4.0, 6.0, 40.0, 50.0], [30.0, 30.0, 60.0, 62.0]]), "labels": torch.tensor([0, 2])}, EMPTY]
    losses = Criterion(3)(out, targets)
    assert losses["loss_box"] > 0 and losses["loss_dfl"] > 0 and losses["num_pos"] > 0
    assert torch.allclose(losses["loss"], 0.5 * losses["loss_cls"] + 7.5 * losses["loss_box"] + 1.5 * losses["loss_dfl"])
    losses["loss"].backward()
    no_grad = [n for n, p in detector.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    # The regression branch's per-level BatchNorm only learns on levels that received positives
    # (here not necessarily all three); everything else, backbone included, must get a gradient.
    per_level_reg_bn = [n for n in no_grad if (n.startswith("head.reg_convs.") and "_bn." in n) or n.startswith("head.scales.")]
    assert not set(no_grad) - set(per_level_reg_bn), f"parameters without gradient: {no_grad[:5]}"
    assert len(per_level_reg_bn) < sum(1 for n, _ in detector.named_parameters() if n.startswith("head.reg_convs.") and "_bn." in n)
    detector.zero_grad()


def test_bad_targets_are_named() -> None:
    det = build_detector(3, "mobilenet_v3_small", neck_channels=16)
    out = det(torch.rand(1, 3, 64, 64) * 255)
    crit = Criterion(3)
    with pytest.raises(ValueError, match=r"target 0 \(image_id 7\): label outside 0..2"):
        crit(out, [{"boxes": torch.tensor([[1.0, 1.0, 9.0, 9.0]]), "labels": torch.tensor([3]), "image_id": 7}])
    with pytest.raises(ValueError, match="target 0: boxes must be finite xyxy"):
        crit(out, [{"boxes": torch.tensor([[9.0, 1.0, 1.0, 9.0]]), "labels": torch.tensor([0])}])
    with pytest.raises(ValueError, match="1 images but 2 targets"):
        crit(out, [EMPTY, EMPTY])
    with pytest.raises(ValueError, match="cls_loss 'focal'"):
        Criterion(3, cls_loss="focal")
