"""Parcel and dense losses: targets from boxes and class maps, clean parcels, datasets without masks."""

from __future__ import annotations

import torch

from wildxray.models.build import build_detector
from wildxray.training.criterion import Criterion, dense_loss, dense_targets, parcel_loss, parcel_targets, pad_targets

C = 3


def _model():
    torch.manual_seed(0)
    return build_detector(C, backbone="mobilenet_v3_small", neck_channels=32, parcel_head=True, dense_head=True)


def test_parcel_targets_are_the_images_classes():
    targets = [{"boxes": torch.tensor([[0, 0, 5, 5], [1, 1, 9, 9.0]]), "labels": torch.tensor([2, 2])},
               {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)},
               {"boxes": torch.tensor([[0, 0, 5, 5.0]]), "labels": torch.tensor([0])}]
    labels, _, mask = pad_targets(targets, C, torch.device("cpu"))
    assert parcel_targets(labels, mask, C).tolist() == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]


def test_dense_targets_are_each_cells_share_of_class_pixels():
    cmap = torch.zeros(16, 16, dtype=torch.uint8)
    cmap[0:8, 0:4] |= 1 << 0   # half of cell (0, 0) is class 0
    cmap[8:16, 8:16] |= 1 << 2  # all of cell (1, 1) is class 2
    cmap[8:10, 8:16] |= 1 << 1  # a quarter of it is class 1 as well (overlapping items)
    t = dense_targets(cmap, C, 8)
    assert t.shape == (C, 2, 2)
    assert t[0].tolist() == [[0.5, 0.0], [0.0, 0.0]]
    assert t[1].tolist() == [[0.0, 0.0], [0.0, 0.25]]
    assert t[2].tolist() == [[0.0, 0.0], [0.0, 1.0]]


def test_clean_parcel_gives_finite_losses_and_no_positive_pixel():
    model = _model()
    images = torch.rand(2, 3, 64, 64) * 255
    clean = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64),
              "class_map": torch.zeros(64, 64, dtype=torch.uint8)} for _ in range(2)]
    out = model(images)
    losses = Criterion(C)(out, clean)
    assert losses["loss_box"] == 0 and losses["loss_dfl"] == 0
    for k in ("loss_parcel", "loss_dense", "loss"):
        assert torch.isfinite(losses[k]) and losses[k] > 0, k
    assert dense_targets(clean[0]["class_map"], C, 8).sum() == 0
    losses["loss"].backward()
    assert model.dense_head.pred.weight.grad.abs().sum() > 0
    assert model.parcel_head.fc.weight.grad.abs().sum() > 0


def test_images_without_a_class_map_add_no_dense_loss():
    model = _model()
    out = model(torch.rand(2, 3, 64, 64) * 255)
    no_masks = [{"boxes": torch.tensor([[4, 4, 40, 40.0]]), "labels": torch.tensor([1])} for _ in range(2)]
    assert dense_loss(out["dense_logits"], no_masks) == 0
    one_mask = [dict(no_masks[0], class_map=torch.zeros(64, 64, dtype=torch.uint8)), no_masks[1]]
    assert dense_loss(out["dense_logits"], one_mask) > 0


def test_dense_loss_falls_when_logits_agree_with_the_map():
    cmap = torch.zeros(32, 32, dtype=torch.uint8)
    cmap[:16, :16] = 1 << 1
    target = dense_targets(cmap, C, 8)[None]
    agree = (target * 2 - 1) * 8.0
    assert dense_loss(agree, [{"class_map": cmap}]) < dense_loss(-agree, [{"class_map": cmap}])


def test_parcel_loss_is_small_for_confident_right_answers():
    labels = torch.tensor([[1], [0]])
    mask = torch.tensor([[True], [False]])
    right = torch.tensor([[-9.0, 9.0, -9.0], [-9.0, -9.0, -9.0]])
    assert parcel_loss(right, labels, mask) < 0.01 < parcel_loss(-right, labels, mask)
