"""Builds the training and validation datasets and loaders from ``cfg.data``.

Sources (``cfg.data.kind``):
- ``coco``: COCO JSON files (DESIGN.md's native format).
- ``yolo``: an Ultralytics-layout folder, converted to COCO once into the run directory.
- ``synthetic``: an endless on-the-fly stream of simulated scans for training, and a fixed,
  seeded validation set written once to a cache folder; both from ``data.synth``, the simulator's
  whole config composed into the run's tree (``synth_config``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader, DistributedSampler

from wildxray.data.augment import build_transforms
from wildxray.data.coco import CocoDataset, load_coco
from wildxray.data.mosaic import build_mosaic
from wildxray.data.torch_dataset import DetectionDataset, collate
from wildxray.training.distributed import DistInfo


def _load_split(split_cfg: DictConfig, what: str) -> CocoDataset:
    if split_cfg is None or split_cfg.get("ann_file") in (None, "???"):
        raise ValueError(f"data.{what}.ann_file is not set (e.g. data.{what}.ann_file=path/to/annotations.json)")
    return load_coco(split_cfg.ann_file, image_root=split_cfg.get("image_root"))


def _yolo_split(root: str, split: str, out_dir: Path) -> CocoDataset:
    from wildxray.data.yolo import yolo_to_coco

    out_json = out_dir / f"yolo_{split}.json"
    yolo_to_coco(root, out_json=out_json, split=split)
    return load_coco(out_json, image_root=root)


def training_synth_config(data_cfg: DictConfig, validation: bool = False) -> DictConfig:
    """The simulator config of a synthetic run: ``data.synth``, resolved into a config of its own.

    The training stream gets ``data.synth`` as it is (its ``randomise`` follows ``data.randomise``);
    the validation set gets it with ``randomise: false``, the configured profile's scans. Struct mode,
    as a composed config: a misspelt key raises. ``data_cfg`` may be a composed tree's ``data`` or
    one read back from a run's ``config.yaml`` (``OmegaConf.load``): the same config, the same scans.
    """
    if data_cfg.get("synth_overrides") is not None:
        raise ValueError(
            "data.synth_overrides was removed: the simulator's config is data.synth, part of the run's "
            "config; override it there, e.g. data.synth.image.width=160 data.synth.clean_fraction=0.3, "
            "and choose a scanner profile with scanner@data.synth.scanner=compact")
    node = data_cfg.get("synth")
    if node is None:
        raise ValueError("data.synth is missing: data.kind=synthetic needs the simulator's config "
                         "(data=synthetic composes it from configs/synth.yaml)")
    if not OmegaConf.is_dict(node.get("scanner")):
        raise ValueError(f"data.synth.scanner must be a scanner profile's settings, got {node.get('scanner')!r}; "
                         "choose a shipped profile with scanner@data.synth.scanner=<name>")
    plain = OmegaConf.to_container(node, resolve=True)
    if validation:
        plain["randomise"] = False
    cfg = OmegaConf.create(plain)
    OmegaConf.set_struct(cfg, True)
    return cfg


def synthetic_val_set(data_cfg: DictConfig, cache_root: Path, progress: bool = True) -> CocoDataset:
    """Write (once) and load the fixed synthetic validation set for this synth configuration."""
    from wildxray.xray.synth import config_digest, ensure_dataset, generator_fingerprint

    synth_cfg = training_synth_config(data_cfg, validation=True)
    key = f"{config_digest(synth_cfg)}-{data_cfg.val_size}-{data_cfg.val_seed}-{generator_fingerprint()}"
    folder = cache_root / ("val-" + hashlib.sha256(key.encode()).hexdigest()[:12])
    ensure_dataset(folder, n=int(data_cfg.val_size), seed=int(data_cfg.val_seed), cfg=synth_cfg, progress=progress)
    return load_coco(folder / "annotations.json")


def build_datasets(cfg: DictConfig, run_dir: Path) -> tuple[Any, CocoDataset, list[str]]:
    """Return (train source, validation CocoDataset, class names)."""
    kind = cfg.data.kind
    if kind == "coco":
        train, val = _load_split(cfg.data.train, "train"), _load_split(cfg.data.val, "val")
    elif kind == "yolo":
        train = _yolo_split(cfg.data.root, cfg.data.train_split, run_dir)
        val = _yolo_split(cfg.data.root, cfg.data.val_split, run_dir)
    elif kind == "synthetic":
        train = None  # built per rank in build_loaders: the stream needs the transform and seed
        val = synthetic_val_set(cfg.data, Path(cfg.data.cache_dir).expanduser(), bool(cfg.train.get("progress", True)))
    else:
        raise ValueError(f"unknown data.kind '{kind}' (expected coco, yolo or synthetic)")
    class_names = list(val.class_names)
    if train is not None and list(train.class_names) != class_names:
        raise ValueError(
            f"train and val datasets disagree on classes: {list(train.class_names)} vs {class_names}"
        )
    return train, val, class_names


def build_loaders(
    cfg: DictConfig, train_source: Any, val_source: CocoDataset, info: DistInfo, pin_memory: bool
) -> tuple[DataLoader, DataLoader | None, Any]:
    """Return (train loader, val loader or None off rank 0, the object whose set_epoch must be called)."""
    size = int(cfg.input_size)
    train_tf = build_transforms(cfg.augment.preset, size, train=True)
    val_tf = build_transforms("none", size, train=False)
    mosaic = build_mosaic(cfg.augment, size, train_tf.fill)  # None unless augment.mosaic_prob > 0
    workers = int(cfg.train.num_workers)
    # Dataset workers are not persistent (DataLoader's default): each epoch's must receive the dataset
    # with its new epoch. The synthetic stream's epoch is shared memory, so its workers are kept.
    common = dict(collate_fn=collate, num_workers=workers, pin_memory=pin_memory)

    if cfg.data.kind == "synthetic":
        from wildxray.xray.stream import SyntheticStream

        # the training stream alone is randomised (data.randomise): the validation set keeps the profile
        stream = SyntheticStream(training_synth_config(cfg.data), seed=int(cfg.seed), transform=train_tf,
                                 mosaic=mosaic)
        stream.prepare()  # before the workers fork: they share the physics instead of rebuilding it each epoch
        epoch_items = int(cfg.data.samples_per_epoch) // info.world_size
        # Workers forked once, before the first step, do not each keep a copy of the trainer's grown
        # heap (a Lite0 run at batch 16 held ~5.5 GB in its worker, forked anew each epoch).
        persistent = workers > 0 and bool(cfg.train.get("persistent_workers", True))
        train_loader = DataLoader(_Take(stream, epoch_items), batch_size=int(cfg.train.batch_size),
                                  persistent_workers=persistent, **common)
        epoch_setter = stream
    else:
        train_source = presized_train_source(cfg, train_source, info)
        dataset = DetectionDataset(train_source, train_tf, seed=int(cfg.seed), mosaic=mosaic)
        if cfg.train.get("class_balanced"):
            from wildxray.data.sampler import RepeatFactorSampler

            sampler = RepeatFactorSampler.from_targets(
                train_source.targets, num_replicas=info.world_size, rank=info.rank, seed=int(cfg.seed)
            )
        else:
            sampler = DistributedSampler(
                dataset, num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=int(cfg.seed), drop_last=True
            )
        train_loader = DataLoader(
            dataset, batch_size=int(cfg.train.batch_size), sampler=sampler, drop_last=True, **common
        )
        epoch_setter = _EpochSetter(sampler, dataset)

    val_loader = None
    if info.is_main:
        val_loader = DataLoader(
            DetectionDataset(val_source, val_tf),
            batch_size=int(cfg.train.get("val_batch_size", cfg.train.batch_size)),
            shuffle=False,
            collate_fn=collate,
            num_workers=min(workers, 2),
        )
    return train_loader, val_loader, epoch_setter


def presized_train_source(cfg: DictConfig, source: Any, info: DistInfo) -> Any:
    """``source`` shrunk to ``data.presize x input_size`` (long side) and cached per ``data.cache``.

    ``data.presize: null`` trains on the files' own resolution, as before. A RAM or disk cache is
    filled here, in the main process, so the forked workers share it (data/presize.py).
    """
    factor = cfg.data.get("presize")
    if factor is None:
        return source
    if float(factor) < 1.0:
        raise ValueError(f"data.presize must be >= 1 (a multiple of the input size) or null, got {factor}")
    from tqdm import tqdm

    from wildxray.data.presize import PresizedSource

    presized = PresizedSource(source, max_side=round(float(factor) * int(cfg.input_size)),
                              cache=cfg.data.get("cache"), cache_dir=cfg.data.get("cache_dir"))
    if presized.cache is not None:
        show = info.is_main and bool(cfg.train.get("progress", True))
        with tqdm(total=len(presized), desc=f"cache images ({presized.cache})", disable=not show) as bar:
            presized.prefill(threads=max(1, int(cfg.train.num_workers)), progress=bar.update)
    return presized


class _EpochSetter:
    def __init__(self, *targets: Any) -> None:
        self.targets = targets

    def set_epoch(self, epoch: int) -> None:
        for t in self.targets:
            t.set_epoch(epoch)


class _Take(torch.utils.data.IterableDataset):
    """The first ``n`` items (split over DataLoader workers) of an endless stream: one epoch."""

    def __init__(self, stream: torch.utils.data.IterableDataset, n: int) -> None:
        self.stream, self.n = stream, n

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        share = self.n if info is None else self.n // info.num_workers + (info.id < self.n % info.num_workers)
        it = iter(self.stream)
        for _ in range(share):
            yield next(it)
