"""The detector: backbone -> PAN neck -> decoupled head, with normalisation and anchor points inside.

Normalisation lives in the module (``mean``/``std`` buffers in 0..255 pixel units) so the ONNX graph
takes raw uint8 pixels and no caller can normalise twice or forget to.
"""

from __future__ import annotations

import torch
from torch import nn

from wildxray.models.aux_heads import DenseHead, ParcelHead
from wildxray.models.backbone import Backbone
from wildxray.models.head import DecoupledHead
from wildxray.models.neck import PAN

#: ImageNet statistics in 0..255 units (torchvision backbones are trained with them).
IMAGENET_MEAN: tuple[float, float, float] = (123.675, 116.28, 103.53)
IMAGENET_STD: tuple[float, float, float] = (58.395, 57.12, 57.375)
#: TensorFlow's EfficientNet-Lite input scaling, (x - 127) / 128; the Lite0 weights' own stem
#: statistics match it and not the torchvision one (benchmarks/lite0_normalisation.py).
LITE_MEAN: tuple[float, float, float] = (127.0, 127.0, 127.0)
LITE_STD: tuple[float, float, float] = (128.0, 128.0, 128.0)


def make_anchor_points(
    feat_sizes: list[tuple[int, int]], strides: tuple[int, ...], device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchor points at the pixel centres of every feature cell.

    Returns ``points float32 [A, 2]`` (x, y) in input pixels, ``(j + 0.5) * stride``, and
    ``strides float32 [A]``, in the head's order (level, then row-major).
    """
    points, stride_list = [], []
    for (h, w), s in zip(feat_sizes, strides):
        ys = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) * s
        xs = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) * s
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        points.append(torch.stack([xx, yy], dim=-1).reshape(-1, 2))
        stride_list.append(torch.full((h * w,), float(s), dtype=torch.float32, device=device))
    return torch.cat(points), torch.cat(stride_list)


class Detector(nn.Module):
    """One-stage anchor-free detector.

    ``forward(images float [B, 3, H, W] in 0..255 RGB)``, H and W multiples of 32, returns a dict:

    - ``cls_logits``     float [B, A, C]     class logits (sigmoid -> per-class score)
    - ``box_dist``       float [B, A, 4]     ltrb distances from the anchor point, input pixels, >= 0
    - ``box_dfl_logits`` float [B, A, 4, R]  per-side distributions over R bins (stride units)
    - ``anchor_points``  float [A, 2]        xy pixel centres of the cells, input frame
    - ``strides``        float [A]           stride of each anchor's level
    - ``parcel_logits``  float [B, C]        image-level class logits (only with a ``parcel_head``)
    - ``dense_logits``   float [B, C, H/8, W/8]  per-pixel class logits (only with a ``dense_head``)
    """

    def __init__(
        self,
        backbone: Backbone,
        neck: PAN,
        head: DecoupledHead,
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
        parcel_head: ParcelHead | None = None,
        dense_head: DenseHead | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head
        self.parcel_head = parcel_head
        self.dense_head = dense_head
        self.num_classes = head.num_classes
        self.reg_max = head.reg_max
        self.strides = tuple(backbone.strides)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("dfl_bins", torch.arange(head.reg_max, dtype=torch.float32), persistent=False)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"Detector expects float [B, 3, H, W], got shape {tuple(images.shape)}")
        x = (images - self.mean) / self.std
        feats = self.neck(self.backbone(x))
        cls_logits, dfl_logits = self.head(feats)  # [B, A, C], [B, A, 4, R]
        points, strides = make_anchor_points([tuple(f.shape[-2:]) for f in feats], self.strides, images.device)
        # Expected bin under the softmax = distance in stride units.
        dist = (dfl_logits.softmax(dim=-1) * self.dfl_bins).sum(dim=-1)  # [B, A, 4]
        out = {
            "cls_logits": cls_logits,
            "box_dist": dist * strides[:, None],
            "box_dfl_logits": dfl_logits,
            "anchor_points": points,
            "strides": strides,
        }
        if self.parcel_head is not None:
            out["parcel_logits"] = self.parcel_head(feats)
        if self.dense_head is not None:
            out["dense_logits"] = self.dense_head(feats[0])
        return out
