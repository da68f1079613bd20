"""The loss and the assignment learn: four synthetic images are memorised to mAP50 >= 0.9."""

from __future__ import annotations

import hydra
import pytest
import torch
from hydra import compose, initialize_config_dir

from tests.unit.models.synthetic import coco_map50, make_shapes_batch, recalibrate_batchnorm, train_steps
from wildxray.models.build import build_detector
from wildxray.models.postprocess import decode_and_nms
from wildxray.paths import config_dir
from wildxray.training.criterion import Criterion


def _map50(model: torch.nn.Module, images: torch.Tensor, targets: list[dict], size: int) -> float:
    with torch.no_grad():
        boxes, scores, labels, num = decode_and_nms(model(images), score_thresh=0.01, iou_thresh=0.6, max_det=50)
    preds = [(boxes[i, : num[i]].numpy(), scores[i, : num[i]].numpy(), labels[i, : num[i]].numpy()) for i in range(len(images))]
    return coco_map50(preds, targets, 3, size)


# Varifocal down-weights the (initially all easy) negatives and needs more steps to converge.
@pytest.mark.parametrize("cls_loss, steps", [("bce", 80), pytest.param("varifocal", 160, marks=pytest.mark.slow)])
def test_overfit_four_images_small_model(cls_loss: str, steps: int) -> None:
    torch.manual_seed(0)
    images, targets = make_shapes_batch(4, 128, seed=1)
    model = build_detector(3, "mobilenet_v3_small", neck_channels=32)
    criterion = Criterion(3, cls_loss=cls_loss)
    untrained = _map50(model.eval(), images, targets, 128)
    history = train_steps(model, criterion, images, targets, steps=steps)
    recalibrate_batchnorm(model, images)
    trained = _map50(model, images, targets, 128)
    assert untrained < 0.2
    assert history[-1] < 0.3 * history[0]
    assert trained >= 0.9, f"mAP50 {trained:.3f} after {steps} steps (losses {history[0]:.2f} -> {history[-1]:.2f})"


@pytest.mark.slow
def test_overfit_four_images_default_config() -> None:
    torch.manual_seed(0)
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name=None, overrides=["+model=default"])
    model = hydra.utils.instantiate(cfg.model.detector, num_classes=3)
    criterion = hydra.utils.instantiate(cfg.model.criterion, num_classes=3)
    images, targets = make_shapes_batch(4, 192, seed=2)
    history = train_steps(model, criterion, images, targets, steps=200, lr=2e-3)
    recalibrate_batchnorm(model, images)
    assert _map50(model, images, targets, 192) >= 0.9, f"losses {history[0]:.2f} -> {history[-1]:.2f}"
