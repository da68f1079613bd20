"""Every ``configs/experiment/*.yaml`` composes, builds and trains, as a user would run it.

Fine-tuning runs start from a checkpoint trained here (``model=small input_size=64 train=smoke``,
nothing downloaded), on data the test writes: a COCO set with an extra ``tortoise`` class, a YOLO
folder with a customs office's own class list, threat-image-projected scans made by the real
``wildxray synth --clean-parcels ... --threats ...`` command, and synthetic photos. The photo model
is then exported, run with ``wildxray predict`` on a photo folder and scored with ``evaluate``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tests.conftest import write_shapes_coco
from wildxray.hydra_compose import compose_config
from wildxray.models.backbone import build_backbone
from wildxray.paths import config_dir
from wildxray.training.checkpoint import load_checkpoint
from wildxray.training.train import train
from wildxray.types import CLASS_NAMES, COCO_CATEGORIES

EXPERIMENTS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))

#: What a user must set for each experiment (the config's ``???``), with placeholder values.
REQUIRED = {
    "finetune": {"data.train.ann_file": "tr.json", "data.val.ann_file": "va.json"},
    "finetune_yolo": {"data.root": "yolo_root"},
    "finetune_backbone": {"data.train.ann_file": "tr.json", "data.val.ann_file": "va.json"},
    "finetune_tip": {"data.val.ann_file": "va.json"},
    "photo": {"data.train.ann_file": "tr.json", "data.val.ann_file": "va.json"},
}

#: A tiny, fast run (CPU, 64 px, small model, one optimiser step unless a test says otherwise).
TINY = ["model=small", "input_size=64", "train=smoke", "device=cpu", "train.batch_size=2", "train.num_workers=0",
        "train.max_steps=1"]


def _compose(name: str, *extra: str) -> OmegaConf:
    filled = [f"{k}={v}" for k, v in REQUIRED[name].items()]
    return compose_config("train", [f"experiment={name}", *filled, "output_dir=unused", *extra])


@functools.lru_cache(maxsize=None)
def _n_stages(backbone: str) -> int:
    return len(build_backbone(backbone).stages)


def _stage_keys(state: dict[str, torch.Tensor], first_n: int) -> list[str]:
    """Parameter keys of backbone stages 0..first_n-1 (``backbone.body.<stage>.``)."""
    return [k for k in state if k.startswith("backbone.body.") and int(k.split(".")[2]) < first_n
            and not k.endswith("num_batches_tracked")]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny convolutions gain nothing from threads, and OpenMP spin-waits when the cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    """A checkpoint of the six standard classes (two smoke steps on coloured rectangles)."""
    root = tmp_path_factory.mktemp("pretrained")
    ann = write_shapes_coco(root / "shapes", 8)
    train(compose_config("train", ["data=coco", f"data.train.ann_file={ann}", f"data.val.ann_file={ann}",
                                   *TINY, "train.max_steps=2", f"output_dir={root / 'run'}"]))
    return root / "run" / "last.pt"


def test_every_experiment_file_is_covered_by_this_test():
    assert EXPERIMENTS and set(EXPERIMENTS) == set(REQUIRED), "add new experiments to REQUIRED"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_requires_exactly_the_documented_paths(name):
    bare = compose_config("train", [f"experiment={name}", "output_dir=unused"])
    assert OmegaConf.missing_keys(bare) == set(REQUIRED[name])
    cfg = _compose(name)
    assert OmegaConf.missing_keys(cfg) == set()
    det_cfg = OmegaConf.to_container(cfg.model.detector)
    det_cfg["weights"] = None  # building must not read (or download) weights here
    model = instantiate(det_cfg, num_classes=len(CLASS_NAMES))
    instantiate(cfg.model.criterion, num_classes=len(CLASS_NAMES))
    if cfg.train.freeze_backbone_stages:
        assert int(cfg.train.freeze_backbone_stages) < len(model.backbone.stages)


@pytest.mark.parametrize("name", ["finetune", "finetune_yolo", "finetune_tip", "finetune_backbone"])
def test_finetune_experiments_lower_the_rate_and_freeze_then_unfreeze(name):
    scratch = compose_config("train", ["output_dir=unused"])
    cfg = _compose(name)
    assert cfg.optim.optimizer.lr < scratch.optim.optimizer.lr
    assert cfg.optim.scheduler.warmup_steps < scratch.optim.scheduler.warmup_steps
    assert cfg.train.freeze_backbone_stages > 0 and cfg.train.unfreeze_at_epoch > 0
    if name == "finetune_backbone":
        assert cfg.train.init_from is None
    else:
        assert cfg.train.init_from == "export/wildxray-xray.pt"
    # Every model config can take the freeze depth (and leaves later stages to train).
    for model in ("lite0", "default", "small", "large"):
        c = _compose(name, f"model={model}")
        assert c.train.freeze_backbone_stages < _n_stages(c.model.detector.backbone)


@pytest.mark.parametrize("model", ["default", "small", "large"])
def test_finetune_backbone_defaults_to_the_imagenet_weights_of_the_chosen_backbone(model):
    import torchvision

    cfg = _compose("finetune_backbone", f"model={model}")
    enum = torchvision.models.get_weight(cfg.model.detector.weights)  # a name lookup: nothing downloads
    assert type(enum) is torchvision.models.get_model_weights(cfg.model.detector.backbone)


def test_photo_experiment_sets_modality_augmentation_and_model():
    cfg = _compose("photo")
    assert cfg.data.modality == "photo" and cfg.augment.preset == "photo"
    assert cfg.model.input_size == 320 and cfg.model.detector.backbone == "mobilenet_v3_large"
    assert cfg.train.init_from is None


def _coco_with_tortoise(root: Path) -> tuple[Path, list[str]]:
    """The shapes set with a seventh class, ``tortoise``, on every third box."""
    ann = write_shapes_coco(root, 8, seed=3)
    data = json.loads(ann.read_text())
    data["categories"] = [*COCO_CATEGORIES, {"id": 7, "name": "tortoise"}]
    for a in data["annotations"][::3]:
        a["category_id"] = 7
    ann.write_text(json.dumps(data))
    return ann, [*CLASS_NAMES, "tortoise"]


def test_finetune_onto_an_extra_tortoise_class(pretrained, tmp_path):
    ann, classes = _coco_with_tortoise(tmp_path / "user")
    summary = train(_compose("finetune", *TINY, f"data.train.ann_file={ann}", f"data.val.ann_file={ann}",
                             f"train.init_from={pretrained}", f"output_dir={tmp_path / 'ft'}"))
    assert summary["class_names"] == classes and summary["steps"] == 1
    pre, ft = load_checkpoint(pretrained), load_checkpoint(tmp_path / "ft" / "last.pt")
    init = pre["ema"]
    # The experiment's learning rate reached the optimiser.
    assert all(g["initial_lr"] == pytest.approx(2e-4) for g in ft["optimizer"]["param_groups"])
    # The frozen stages are bit-for-bit the starting checkpoint's after a training step ...
    n_frozen = int(ft["config"]["train"]["freeze_backbone_stages"])
    frozen = _stage_keys(ft["model"], n_frozen)
    assert frozen
    for k in frozen:
        assert torch.equal(ft["model"][k], init[k]), k
    # ... while later stages trained.
    later = [k for k in _stage_keys(ft["model"], 99) if k not in frozen and k.endswith("weight")]
    assert any(not torch.equal(ft["model"][k], init[k]) for k in later)
    # The rebuilt head: 7 rows; the tortoise row is none of the old class rows.
    w_new, w_old = ft["model"]["head.cls_pred.weight"], init["head.cls_pred.weight"]
    assert w_new.shape[0] == 7 and w_old.shape[0] == 6
    assert not any(torch.allclose(w_new[6], w_old[i], atol=1e-3) for i in range(6))


def test_finetune_unfreezes_at_the_configured_epoch(pretrained, tmp_path):
    ann = write_shapes_coco(tmp_path / "user", 4, seed=5)  # 2 steps per epoch at batch 2
    summary = train(_compose("finetune", *TINY, f"data.train.ann_file={ann}", f"data.val.ann_file={ann}",
                             f"train.init_from={pretrained}", "train.max_steps=null", "train.epochs=2",
                             "train.unfreeze_at_epoch=1", f"output_dir={tmp_path / 'ft'}"))
    assert summary["epochs_run"] == 2
    init, ft = load_checkpoint(pretrained)["ema"], load_checkpoint(tmp_path / "ft" / "last.pt")["model"]
    first_stage = [k for k in _stage_keys(ft, 1) if k.endswith("weight")]
    assert any(not torch.equal(ft[k], init[k]) for k in first_stage), "stage 0 never trained after unfreezing"


def test_finetune_yolo_with_an_office_class_list(pretrained, tmp_path):
    from wildxray.data.yolo import coco_to_yolo

    ann = write_shapes_coco(tmp_path / "coco", 8, seed=4)
    data = json.loads(ann.read_text())
    office = ["tortoise", "ivory", "pangolin_scales"]  # only "ivory" is known to the checkpoint
    data["categories"] = [{"id": i + 1, "name": n} for i, n in enumerate(office)]
    for a in data["annotations"]:
        a["category_id"] = 1 + (a["category_id"] - 1) % 3
    ann.write_text(json.dumps(data))
    root = tmp_path / "yolo"
    for split in ("train", "val"):
        coco_to_yolo(ann, root, split=split)
    summary = train(_compose("finetune_yolo", *TINY, f"data.root={root}", f"train.init_from={pretrained}",
                             f"output_dir={tmp_path / 'ft'}"))
    assert summary["class_names"] == office
    init = load_checkpoint(pretrained)["ema"]
    ft = load_checkpoint(tmp_path / "ft" / "last.pt")["model"]
    assert ft["head.cls_pred.weight"].shape[0] == 3
    # Nothing but the classification layer was resized: the box branch starts from the checkpoint.
    assert ft["head.reg_pred.weight"].shape == init["head.reg_pred.weight"].shape


def test_finetune_backbone_from_a_local_weights_file(tmp_path):
    import torchvision

    torch.manual_seed(7)
    trunk = torchvision.models.mobilenet_v3_small(weights=None)
    weights = tmp_path / "mobilenet_v3_small_ours.pth"
    torch.save(trunk.state_dict(), weights)
    ann = write_shapes_coco(tmp_path / "user", 8, seed=6)
    summary = train(_compose("finetune_backbone", *TINY, f"data.train.ann_file={ann}", f"data.val.ann_file={ann}",
                             f"model.detector.weights={weights}", f"output_dir={tmp_path / 'ft'}"))
    assert summary["steps"] == 1
    ft = load_checkpoint(tmp_path / "ft" / "last.pt")
    src = trunk.state_dict()
    frozen = _stage_keys(ft["model"], int(ft["config"]["train"]["freeze_backbone_stages"]))
    assert frozen
    for k in frozen:  # backbone.body.<i>.rest  <->  features.<i>.rest in the torchvision file
        assert torch.equal(ft["model"][k], src["features." + k[len("backbone.body."):]]), k


def _tip_inputs(root: Path) -> tuple[Path, Path]:
    """Clean parcel raw scans and seized-item raw scans (65535 = air), as a user's scanner writes them."""
    from wildxray.core.image_io import write_dual_energy_tiff

    rng = np.random.default_rng(0)
    clean, seized = root / "clean", root / "seized"
    for i in range(3):
        raw = np.full((96, 128, 2), 65535, np.uint16)
        raw[10:86, 8:120] = (int(0.7 * 65535), int(0.6 * 65535))  # a parcel box
        raw[30:50, 20 + 20 * i: 50 + 20 * i] = (int(0.4 * 65535), int(0.3 * 65535))  # its clutter
        write_dual_energy_tiff(clean / f"parcel_{i}.tiff", raw)
    for cls, (th, tl) in (("ivory", (0.35, 0.2)), ("live_animal", (0.6, 0.5))):
        raw = np.full((40, 40, 2), 65535, np.uint16)
        h, w = rng.integers(12, 24, size=2)
        raw[5 : 5 + h, 8 : 8 + w] = (int(th * 65535), int(tl * 65535))
        write_dual_energy_tiff(seized / cls / "item.tiff", raw)
    return clean, seized


def test_finetune_tip_consumes_the_synth_one_liner(pretrained, tmp_path, monkeypatch):
    from wildxray.cli import synth as synth_cli

    clean, seized = _tip_inputs(tmp_path / "my_scans")
    monkeypatch.chdir(tmp_path)  # the documented relative paths: data/tip, export/...
    assert synth_cli.main(["--out", "data/tip", "--n", "6", "--no-progress",
                           "--clean-parcels", str(clean), "--threats", str(seized)]) == 0
    tip = json.loads((tmp_path / "data" / "tip" / "annotations.json").read_text())
    assert len(tip["images"]) == 6 and tip["annotations"]
    val = write_shapes_coco(tmp_path / "my_scans" / "val", 4, seed=8)
    # No data.train.ann_file: the experiment reads data/tip, where the one-liner wrote.
    summary = train(compose_config("train", ["experiment=finetune_tip", f"data.val.ann_file={val}", *TINY,
                                             f"train.init_from={pretrained}", f"output_dir={tmp_path / 'ft'}"]))
    assert summary["steps"] == 1 and summary["class_names"] == list(CLASS_NAMES)


def test_photo_experiment_trains_exports_predicts_and_evaluates(tmp_path):
    from wildxray.cli import predict as predict_cli
    from wildxray.evaluation.evaluate import evaluate_from_config
    from wildxray.export.checkpoint_export import export_checkpoint
    from wildxray.photo import write_photo_dataset
    from wildxray.runtime.model_card import read_card
    from wildxray.runtime.result import result_schema

    ann = write_photo_dataset(tmp_path / "photos", n=6, seed=0, size=(96, 128), progress=False)
    train(_compose("photo", *TINY, f"data.train.ann_file={ann}", f"data.val.ann_file={ann}",
                   f"output_dir={tmp_path / 'run'}"))
    onnx_path = export_checkpoint(tmp_path / "run" / "last.pt", tmp_path / "photo.onnx", simplify=False)
    assert read_card(onnx_path)["modality"] == "photo"

    out = tmp_path / "results"
    assert predict_cli.main(["--model", str(onnx_path), "--out", str(out), "--no-progress",
                             str(tmp_path / "photos" / "images")]) == 0
    results = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    assert len(results) == 6
    for r in results:
        jsonschema.validate(r, result_schema())
        assert r["modality"] == "photo" and r["decision"] in ("alarm", "clear")
        assert r["image"]["width"] == 128 and r["image"]["height"] == 96

    cfg = compose_config("evaluate", [f"model_file={onnx_path}", f"data.ann_file={ann}", "n_bootstrap=20",
                                      f"output_dir={tmp_path / 'eval'}", "threads=1"])
    result = evaluate_from_config(cfg)
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert (tmp_path / "eval" / "report.html").is_file() and "mAP50" in result.coco
    n_contraband = sum(im["contraband"] for im in json.loads(ann.read_text())["images"])
    assert metrics["parcel"]["n_parcels"] == 6 and metrics["parcel"]["n_contraband"] == n_contraband
    assert metrics["class_names"] == list(CLASS_NAMES) and "mAP50" in metrics["coco"]
