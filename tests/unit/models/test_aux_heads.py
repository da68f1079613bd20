"""Parcel and dense heads: shapes in the detector's output dict, absent unless asked for."""

from __future__ import annotations

import torch

from wildxray.models.build import build_detector


def test_heads_add_their_outputs_with_documented_shapes():
    det = build_detector(4, backbone="mobilenet_v3_small", neck_channels=32, parcel_head=True, dense_head=True).eval()
    with torch.no_grad():
        out = det(torch.rand(2, 3, 128, 96) * 255)
    assert out["parcel_logits"].shape == (2, 4)
    assert out["dense_logits"].shape == (2, 4, 16, 12)  # stride 8


def test_without_heads_the_outputs_are_as_before():
    det = build_detector(4, backbone="mobilenet_v3_small", neck_channels=32).eval()
    with torch.no_grad():
        out = det(torch.rand(1, 3, 64, 64) * 255)
    assert set(out) == {"cls_logits", "box_dist", "box_dfl_logits", "anchor_points", "strides"}


def test_parcel_head_starts_near_its_prior():
    det = build_detector(6, backbone="mobilenet_v3_small", neck_channels=32, parcel_head=True).eval()
    with torch.no_grad():
        p = det(torch.rand(1, 3, 64, 64) * 255)["parcel_logits"].sigmoid()
    assert torch.all((p > 0.05) & (p < 0.2))
