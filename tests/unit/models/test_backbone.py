"""Backbones: every family returns stride 8/16/32 maps; weights load from a local file; freezing."""

from __future__ import annotations

import pytest
import torch
import torchvision

from wildxray.models.backbone import build_backbone, freeze_backbone_stages, unfreeze_backbone


@pytest.mark.parametrize(
    "name", ["mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0", "resnet18", "convnext_tiny"]
)
def test_backbone_levels_have_strides_8_16_32(name: str) -> None:
    bb = build_backbone(name).eval()
    with torch.no_grad():
        feats = bb(torch.zeros(2, 3, 64, 96))
    assert len(feats) == 3
    for f, c, s in zip(feats, bb.out_channels, (8, 16, 32)):
        assert tuple(f.shape) == (2, c, 64 // s, 96 // s)


def test_unknown_backbone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown backbone 'mobilenet_v9'"):
        build_backbone("mobilenet_v9")


def test_weights_load_from_local_file(tmp_path) -> None:
    reference = torchvision.models.mobilenet_v3_small()
    torch.nn.init.constant_(reference.features[0][0].weight, 0.123)
    path = tmp_path / "mnv3s.pth"
    torch.save(reference.state_dict(), path)
    bb = build_backbone("mobilenet_v3_small", weights=str(path))
    assert torch.all(bb.body["0"][0].weight == 0.123)


def test_bad_weights_are_refused_by_name(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        build_backbone("resnet18", weights=str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="neither a local .pth file nor a torchvision weights name"):
        build_backbone("resnet18", weights="NotAWeights.Name")
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(ValueError, match="wrong.pth lacks"):
        build_backbone("resnet18", weights=str(wrong))


def test_freeze_then_unfreeze_stages() -> None:
    bb = build_backbone("mobilenet_v3_small").train()
    freeze_backbone_stages(bb, 2)
    stages = bb.stages
    assert not any(p.requires_grad for s in stages[:2] for p in s.parameters())
    assert all(p.requires_grad for s in stages[2:] for p in s.parameters())
    assert not stages[0].training and stages[2].training
    # Frozen BatchNorm statistics do not move in a training-mode forward.
    before = stages[0][1].running_mean.clone()
    bb(torch.rand(2, 3, 64, 64))
    assert torch.equal(stages[0][1].running_mean, before)
    unfreeze_backbone(bb)
    assert all(p.requires_grad for p in bb.parameters())
    with pytest.raises(ValueError, match="outside"):
        freeze_backbone_stages(bb, 99)


def test_freeze_accepts_the_detector() -> None:
    from wildxray.models.build import build_detector

    det = build_detector(2, "mobilenet_v3_small", neck_channels=16)
    freeze_backbone_stages(det, 3)
    assert not any(p.requires_grad for s in det.backbone.stages[:3] for p in s.parameters())
    assert all(p.requires_grad for p in det.head.parameters())
    unfreeze_backbone(det)
    assert all(p.requires_grad for p in det.parameters())
