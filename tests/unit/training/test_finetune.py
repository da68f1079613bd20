"""Fine-tuning on a user's own class list: the head is rebuilt, everything else keeps its weights."""

from __future__ import annotations

from pathlib import Path

import torch

from wildxray.hydra_compose import compose_config
from wildxray.models.build import build_detector
from wildxray.training.checkpoint import load_checkpoint
from wildxray.training.finetune import load_weights_remapping_classes
from wildxray.training.train import train
from wildxray.types import CLASS_NAMES


def _detector(num_classes: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_detector(num_classes=num_classes, backbone="mobilenet_v3_small", neck_channels=32)


def test_class_remap_keeps_every_non_head_weight_bit_for_bit() -> None:
    old_classes = list(CLASS_NAMES)
    new_classes = ["tortoise", "ivory", "skin", "bone"]  # a customs office's own list
    source, target = _detector(len(old_classes), seed=0), _detector(len(new_classes), seed=1)
    fresh = {k: v.clone() for k, v in target.state_dict().items()}
    report = load_weights_remapping_classes(target, source.state_dict(), old_classes, new_classes)
    src, dst = source.state_dict(), target.state_dict()
    assert report["remapped"], "the classification layer should have been remapped"
    for key in report["remapped"]:
        for new_i, name in enumerate(new_classes):
            expected = src[key][old_classes.index(name)] if name in old_classes else fresh[key][new_i]
            assert torch.equal(dst[key][new_i], expected), (key, name)
    for key in src:
        if key not in report["remapped"]:
            assert torch.equal(dst[key], src[key]), key
    assert any(k.startswith("backbone.") for k in report["copied"])
    assert not report["skipped"]


def test_train_init_from_checkpoint_with_other_classes(shapes_coco: Path, tmp_path: Path) -> None:
    import json

    base = ["data=coco", f"data.train.ann_file={shapes_coco}", f"data.val.ann_file={shapes_coco}", "model=small",
            "input_size=64", "train=smoke", "device=cpu"]
    train(compose_config("train", [*base, f"output_dir={tmp_path / 'pre'}"]))
    # The user's data has 3 classes under other names but for one.
    data = json.loads(shapes_coco.read_text())
    data["categories"] = [{"id": 1, "name": "ivory"}, {"id": 2, "name": "tortoise"}, {"id": 3, "name": "pangolin"}]
    for a in data["annotations"]:
        a["category_id"] = 1 + (a["category_id"] - 1) % 3
    user = shapes_coco.parent / "user.json"
    user.write_text(json.dumps(data))
    summary = train(compose_config("train", [
        *base[:1], f"data.train.ann_file={user}", f"data.val.ann_file={user}", *base[3:],
        f"output_dir={tmp_path / 'ft'}", f"train.init_from={tmp_path / 'pre' / 'last.pt'}",
        "train.freeze_backbone_stages=2", "train.max_steps=1"]))
    assert summary["class_names"] == ["ivory", "tortoise", "pangolin"]
    pre = load_checkpoint(tmp_path / "pre" / "last.pt")
    ft = load_checkpoint(tmp_path / "ft" / "last.pt")
    # Frozen first stage: bit-for-bit the pre-trained EMA weights after a fine-tuning step.
    frozen = [k for k in ft["model"] if k.startswith("backbone.body.0.") and k.endswith("weight")]
    assert frozen
    for k in frozen:
        assert torch.equal(ft["model"][k], pre["ema"][k]), k
