"""``build_detector``: the Hydra ``_target_`` of ``configs/model/*.yaml``.

Example (what the trainer does)::

    detector = hydra.utils.instantiate(cfg.model.detector, num_classes=len(class_names))
"""

from __future__ import annotations

from torch import nn

from wildxray.models.aux_heads import DenseHead, ParcelHead
from wildxray.models.backbone import build_backbone
from wildxray.models.detector import IMAGENET_MEAN, IMAGENET_STD, Detector
from wildxray.models.head import DecoupledHead
from wildxray.models.neck import PAN


def build_detector(
    num_classes: int,
    backbone: str = "mobilenet_v3_large",
    weights: str | None = None,
    freeze_stages: int = 0,
    neck_channels: int = 96,
    neck_depth: int = 1,
    neck_kernel: int = 5,
    head_convs: int = 2,
    head_kernel: int = 3,
    reg_max: int = 16,
    prior_prob: float = 0.01,
    mean: tuple[float, float, float] | list[float] = IMAGENET_MEAN,
    std: tuple[float, float, float] | list[float] = IMAGENET_STD,
    bn_momentum: float | None = 0.03,
    parcel_head: bool = False,
    dense_head: bool = False,
) -> Detector:
    """Assemble backbone + PAN + decoupled head.

    Args:
        num_classes: number of classes C (passed by the trainer from the dataset).
        backbone: torchvision builder name (see ``wildxray.models.backbone.SUPPORTED``).
        weights: ``None``, a torchvision weights name, or a local state-dict path (backbone only).
        freeze_stages: freeze the first n backbone stages.
        neck_channels: channels of every neck level and of the head.
        neck_depth / neck_kernel: depthwise-separable blocks per fusion and their kernel size.
        head_convs / head_kernel: depthwise-separable blocks per head branch and their kernel size.
        reg_max: DFL bins per box side.
        mean / std: normalisation in 0..255 pixel units, applied inside the model.
        bn_momentum: momentum of every BatchNorm (None keeps each module's own). torchvision's
            MobileNet/EfficientNet use 0.01, too slow for running statistics to track a detector
            trained from a random or ImageNet start; 0.03 is the YOLO convention.
        parcel_head: add image-level class logits (``parcel_logits``; exported as ``parcel_scores``).
        dense_head: add per-pixel class logits at stride 8 (``dense_logits``; training only).
    """
    if num_classes < 1:
        raise ValueError(f"build_detector: num_classes must be >= 1, got {num_classes}")
    bb = build_backbone(backbone, weights=weights, freeze_stages=freeze_stages)
    neck = PAN(bb.out_channels, neck_channels, neck_depth, neck_kernel)
    head = DecoupledHead(num_classes, neck_channels, len(bb.strides), head_convs, head_kernel, reg_max, prior_prob)
    detector = Detector(
        bb, neck, head, tuple(mean), tuple(std),
        parcel_head=ParcelHead(num_classes, neck_channels, len(bb.strides)) if parcel_head else None,
        dense_head=DenseHead(num_classes, neck_channels) if dense_head else None,
    )
    if bn_momentum is not None:
        for module in detector.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.momentum = bn_momentum
    return detector
