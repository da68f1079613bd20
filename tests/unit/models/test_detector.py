"""Detector outputs, anchors and the shipped model configs (composed with Hydra, instantiated)."""

from __future__ import annotations

import hydra
import pytest
import torch
from hydra import compose, initialize_config_dir

from wildxray.models.build import build_detector
from wildxray.models.detector import make_anchor_points
from wildxray.paths import config_dir


def test_anchor_points_are_cell_centres_in_pixels() -> None:
    points, strides = make_anchor_points([(2, 3), (1, 2)], (8, 16))
    assert points.shape == (8, 2) and strides.tolist() == [8.0] * 6 + [16.0] * 2
    # Row-major within a level: x varies fastest.
    assert points[:4].tolist() == [[4.0, 4.0], [12.0, 4.0], [20.0, 4.0], [4.0, 12.0]]
    assert points[6:].tolist() == [[8.0, 8.0], [24.0, 8.0]]


def test_forward_shapes_on_non_square_input() -> None:
    det = build_detector(4, "mobilenet_v3_small", neck_channels=32).eval()
    with torch.no_grad():
        out = det(torch.rand(2, 3, 64, 96) * 255)
    a = 8 * 12 + 4 * 6 + 2 * 3
    assert out["cls_logits"].shape == (2, a, 4)
    assert out["box_dist"].shape == (2, a, 4)
    assert out["box_dfl_logits"].shape == (2, a, 4, 16)
    assert out["anchor_points"].shape == (a, 2) and out["strides"].shape == (a,)
    assert (out["box_dist"] >= 0).all()
    # Largest anchor centre sits half a stride inside the bottom-right corner of the 96x64 input.
    assert out["anchor_points"][:, 0].max() == 96 - 4 and out["anchor_points"][:, 1].max() == 64 - 4
    # Prior-probability bias: an untrained head scores every anchor near 0.01.
    assert torch.allclose(out["cls_logits"].sigmoid().mean(), torch.tensor(0.01), atol=0.005)


def test_normalisation_happens_inside() -> None:
    det = build_detector(2, "mobilenet_v3_small", neck_channels=16, mean=(10.0, 20.0, 30.0), std=(2.0, 2.0, 2.0)).eval()
    seen = {}
    det.backbone.register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0].clone()))
    with torch.no_grad():
        det(torch.full((1, 3, 32, 32), 50.0))
    assert seen["x"][0, :, 0, 0].tolist() == [20.0, 15.0, 10.0]


def test_wrong_input_layout_is_refused() -> None:
    det = build_detector(2, "mobilenet_v3_small", neck_channels=16)
    with pytest.raises(ValueError, match=r"float \[B, 3, H, W\]"):
        det(torch.zeros(1, 64, 64, 3))


@pytest.mark.parametrize("name", ["default", "small", "large"])
def test_model_config_composes_and_instantiates(name: str) -> None:
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name=None, overrides=[f"+model={name}"])
    assert cfg.model.input_size % 32 == 0
    det = hydra.utils.instantiate(cfg.model.detector, num_classes=6)
    criterion = hydra.utils.instantiate(cfg.model.criterion, num_classes=6)
    out = det(torch.rand(2, 3, 64, 64) * 255)
    losses = criterion(out, [{"boxes": torch.tensor([[8.0, 8.0, 40.0, 50.0]]), "labels": torch.tensor([5])},
                             {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}])
    assert torch.isfinite(losses["loss"]) and losses["num_pos"] > 0
