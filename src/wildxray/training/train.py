"""``train(cfg)`` = ``fit(build_run(cfg))``: the composition root of training.

:func:`build_run` makes everything a run needs from the config in one place (data, model, loss,
optimiser, schedule, EMA, DDP, the resumed state); :func:`fit` runs the epochs, validates, writes
``last.pt``/``best.pt`` and the logs, and stops on the epochs, ``train.max_steps``, early stopping or
the time budget (``training.stopping``). Run it through ``wildxray train [overrides]`` (Hydra) or
``torchrun --nproc_per_node=N -m wildxray.cli.train [overrides]``; tests call it directly with a
composed config.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import random
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch.optim.swa_utils import update_bn
from torch.utils.tensorboard import SummaryWriter

from wildxray.evaluation.coco_metrics import coco_map
from wildxray.models.backbone import freeze_backbone_stages, unfreeze_backbone
from wildxray.training.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from wildxray.training.data import build_datasets, build_loaders
from wildxray.training.distributed import DistInfo, all_reduce_mean, barrier, cleanup, init_distributed
from wildxray.training.ema import ModelEMA
from wildxray.training.engine import StepContext, coco_from_targets, predict_loader, train_one_epoch
from wildxray.training.finetune import load_weights_remapping_classes
from wildxray.training.optim import build_optimizer
from wildxray.training.stopping import EarlyStopping, TimeBudget

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def parameter_digest(model: torch.nn.Module) -> str:
    """sha256 over every parameter: equal digests on two ranks mean identical weights.

    Buffers are left out on purpose: under DDP each rank's BatchNorm running statistics follow
    its own last batch until the next forward broadcasts rank 0's.
    """
    h = hashlib.sha256()
    for name, t in sorted(model.named_parameters()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _amp_dtype(setting, device: torch.device) -> torch.dtype | None:
    """AMP only on CUDA: ``bf16`` where supported, ``fp16`` with a GradScaler, ``false`` off."""
    if device.type != "cuda" or setting in (False, None, "false", "off"):
        return None
    if setting in (True, "auto", "bf16"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if setting == "fp16":
        return torch.float16
    raise ValueError(f"train.amp must be bf16, fp16, auto or false, got {setting!r}")


class MetricsLogger:
    """CSV (one row per epoch) and TensorBoard scalars in the run directory; rank 0 only."""

    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.csv_path = run_dir / "metrics.csv"
        self.writer = None
        if enabled:
            self.writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"))

    def step(self, step: int, values: dict[str, float]) -> None:
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(f"train/{k}", v, step)

    def epoch(self, row: dict[str, float]) -> None:
        if not self.enabled:
            return
        new = not self.csv_path.exists()
        with self.csv_path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)
        for k, v in row.items():
            if k != "epoch":
                self.writer.add_scalar(f"epoch/{k}", v, int(row["epoch"]))
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@torch.no_grad()
def recompute_batchnorm(model: torch.nn.Module, loader, batches: int, device: torch.device) -> None:
    """Precise BN: set BatchNorm running statistics from ``batches`` training batches.

    The running averages lag the weights (a CPU run is a few hundred steps), which left the
    evaluated model blind in eval mode (mAP 0 where the recomputed statistics gave 0.70 on the same
    weights). torch's ``update_bn`` resets the statistics and averages them over the batches.
    """
    update_bn((images.to(device).float() for images, _ in islice(loader, batches)), model)
    model.eval()


def validate(model, val_loader, cfg: DictConfig, class_names: list[str], device, show_progress: bool) -> dict:
    preds, gts = predict_loader(
        model, val_loader, device, float(cfg.eval.score_thresh), float(cfg.eval.iou_thresh), int(cfg.eval.max_det),
        show_progress=show_progress,
    )
    gt = coco_from_targets(gts, class_names, int(cfg.input_size))
    m = coco_map(gt, preds, class_names)
    return {"mAP": float(m["mAP"]), "mAP50": float(m["mAP50"])}


@dataclass
class TrainingRun:
    """A training run ready to :func:`fit`: what :func:`build_run` made from ``cfg``.

    ``model`` is the bare detector (checkpointed, evaluated); ``train_model`` what steps (``model``
    itself, or its DDP / ``torch.compile`` wrapper). ``frozen``: backbone stages still frozen.
    ``start_epoch``, ``best`` and ``history`` are a resumed run's (else 0, -1 and empty);
    ``ctx.step`` counts optimiser steps."""

    cfg: DictConfig
    run_dir: Path
    device: torch.device
    info: DistInfo
    class_names: list[str]
    model: torch.nn.Module
    train_model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler | None
    ema: ModelEMA | None
    ctx: StepContext
    train_loader: object
    val_loader: object
    epoch_setter: object
    steps_per_epoch: int
    total_steps: int
    frozen: int = 0
    start_epoch: int = 0
    best: float = -1.0
    history: list[dict] = field(default_factory=list)


def _prepare_run_dir(cfg: DictConfig, info: DistInfo) -> Path:
    """The run directory, rank 0's under DDP; rank 0 creates it and writes the resolved ``config.yaml``."""
    run_dir = Path(cfg.output_dir)
    if info.enabled:  # Hydra names run dirs by the second each rank started: use rank 0's
        box = [str(run_dir)]
        dist.broadcast_object_list(box, src=0)
        run_dir = Path(box[0])
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    return run_dir


def _build_model(cfg: DictConfig, class_names: list[str], info: DistInfo, device: torch.device) -> torch.nn.Module:
    """``cfg.model.detector`` with ``train.init_from``'s weights (classes remapped by name), on ``device``."""
    model = instantiate(cfg.model.detector, num_classes=len(class_names))
    if cfg.train.init_from:
        init = load_checkpoint(cfg.train.init_from)
        weights = init["ema"] or init["model"]
        load_weights_remapping_classes(model, weights, list(init["class_names"]), class_names)
    if cfg.train.sync_bn and info.enabled:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    if cfg.train.channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def _resume(run: TrainingRun, path: str) -> None:
    """Load ``path``'s model, optimiser, schedule, scaler, EMA, counters, history and RNG state into ``run``."""
    state = load_checkpoint(path)
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    if run.scaler is not None and state.get("scaler"):
        run.scaler.load_state_dict(state["scaler"])
    if run.ema is not None and state.get("ema"):
        run.ema.module.load_state_dict(state["ema"])
        run.ema.updates = int(state["ema_updates"])
    run.start_epoch, run.ctx.step, run.best = int(state["epoch"]), int(state["step"]), float(state["best_metric"])
    run.history = list(state.get("history", []))
    set_rng_state(state["rng"])
    log.info("resumed from %s at epoch %d, step %d", path, run.start_epoch, run.ctx.step)


def _wrap_for_training(model: torch.nn.Module, cfg: DictConfig, info: DistInfo,
                       device: torch.device) -> torch.nn.Module:
    """DDP under torchrun, then ``torch.compile`` when ``train.compile``."""
    if info.enabled:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    if cfg.train.compile:
        model = torch.compile(model)
    return model


def build_run(cfg: DictConfig) -> TrainingRun:
    """Instantiate everything ``cfg`` describes (data, model, criterion, optimiser, schedule, AMP,
    EMA), resume from ``train.resume`` when set, and wrap the model for DDP/compile."""
    device = resolve_device(cfg.device)
    info = init_distributed(device.type)
    if info.enabled and device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
    run_dir = _prepare_run_dir(cfg, info)
    seed_everything(int(cfg.seed))  # same init on every rank; data streams differ per rank

    train_src, val_src, class_names = build_datasets(cfg, run_dir)
    model = _build_model(cfg, class_names, info, device)
    criterion = instantiate(cfg.model.criterion, num_classes=len(class_names)).to(device)
    optimizer = build_optimizer(model, instantiate(cfg.optim.optimizer))
    pin = device.type == "cuda"
    train_loader, val_loader, epoch_setter = build_loaders(cfg, train_src, val_src, info, pin_memory=pin)
    accumulate = int(cfg.train.accumulate)
    steps_per_epoch = max(1, len(train_loader) // accumulate)
    total_steps = steps_per_epoch * int(cfg.train.epochs)
    if cfg.train.max_steps:
        total_steps = min(total_steps, int(cfg.train.max_steps))
    scheduler = instantiate(cfg.optim.scheduler)(optimizer, total_steps=total_steps)
    amp_dtype = _amp_dtype(cfg.train.amp, device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    ema = ModelEMA(model, decay=float(cfg.train.ema.decay), tau=float(cfg.train.ema.tau)) if cfg.train.ema.enabled else None
    ctx = StepContext(
        criterion=criterion, optimizer=optimizer, scheduler=scheduler, device=device, ema=ema, scaler=scaler,
        amp_dtype=amp_dtype, grad_clip=float(cfg.train.grad_clip) if cfg.train.grad_clip else None,
        accumulate=accumulate, channels_last=bool(cfg.train.channels_last),
        max_steps=int(cfg.train.max_steps) if cfg.train.max_steps else None,
        show_progress=bool(cfg.train.progress), log_every=int(cfg.train.log_every),
    )
    run = TrainingRun(
        cfg=cfg, run_dir=run_dir, device=device, info=info, class_names=class_names, model=model,
        train_model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler, ema=ema, ctx=ctx,
        train_loader=train_loader, val_loader=val_loader, epoch_setter=epoch_setter,
        steps_per_epoch=steps_per_epoch, total_steps=total_steps, frozen=int(cfg.train.freeze_backbone_stages or 0),
    )
    if cfg.train.resume:
        _resume(run, cfg.train.resume)
    run.train_model = _wrap_for_training(model, cfg, info, device)
    return run


def _train_epoch(run: TrainingRun, epoch: int) -> dict[str, float]:
    """One epoch of steps (unfreezing the backbone when its epoch comes); the epoch's CSV row so far."""
    cfg, ctx, info = run.cfg, run.ctx, run.info
    unfreeze_at = cfg.train.unfreeze_at_epoch
    if run.frozen and unfreeze_at is not None and epoch >= int(unfreeze_at):
        unfreeze_backbone(run.model.backbone)
        run.frozen = 0
    run.train_model.train()
    if run.frozen:  # after train(): frozen stages keep BatchNorm in eval mode
        freeze_backbone_stages(run.model.backbone, run.frozen)
    run.epoch_setter.set_epoch(epoch)
    t_epoch = time.perf_counter()
    seen_before = ctx.seen_images
    losses = train_one_epoch(run.train_model, run.train_loader, ctx, epoch, info.is_main)
    losses = all_reduce_mean(losses, info, run.device)
    row = {"epoch": epoch + 1, "step": ctx.step, **{f"train_{k}": v for k, v in losses.items()}}
    row["images_per_s"] = (ctx.seen_images - seen_before) * info.world_size / (time.perf_counter() - t_epoch)
    return row


def _validate_epoch(run: TrainingRun, epoch: int, epochs: int) -> dict | None:
    """Rank 0's validation metrics when this epoch validates (every ``eval_every`` and the last), else None.

    The evaluated model is the EMA's when there is one, with precise BN first when asked."""
    cfg, ctx = run.cfg, run.ctx
    eval_model = run.ema.module if run.ema is not None else run.model
    if run.info.is_main and int(cfg.train.precise_bn_batches):
        recompute_batchnorm(eval_model, run.train_loader, int(cfg.train.precise_bn_batches), run.device)
    last_epoch = epoch + 1 == epochs or (ctx.max_steps is not None and ctx.step >= ctx.max_steps)
    if not (run.info.is_main and ((epoch + 1) % int(cfg.train.eval_every) == 0 or last_epoch)):
        return None
    return validate(eval_model, run.val_loader, cfg, run.class_names, run.device, bool(cfg.train.progress))


def _save_checkpoints(run: TrainingRun, epoch: int, best: float, improved: bool) -> None:
    """``last.pt`` after every epoch, ``best.pt`` when it improved: everything a resume needs."""
    ema = run.ema
    state = {
        "model": run.model.state_dict(), "ema": ema.module.state_dict() if ema else None,
        "ema_updates": ema.updates if ema else 0,
        "optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
        "scaler": run.scaler.state_dict() if run.scaler else None, "epoch": epoch + 1, "step": run.ctx.step,
        "best_metric": best, "history": run.history, "rng": rng_state(),
        "config": OmegaConf.to_container(run.cfg, resolve=True), "class_names": run.class_names,
    }
    save_checkpoint(run.run_dir / "last.pt", state)
    if improved:
        save_checkpoint(run.run_dir / "best.pt", state)


def fit(run: TrainingRun) -> dict:
    """Run ``run``'s epochs; returns a summary (best metric, why it stopped, checkpoint paths, history)."""
    cfg, ctx, info = run.cfg, run.ctx, run.info
    logger = MetricsLogger(run.run_dir, enabled=info.is_main)
    ctx.on_log = logger.step
    stopper = EarlyStopping(str(cfg.train.early_stopping.metric), int(cfg.train.early_stopping.patience),
                            int(cfg.train.eval_every), best=run.best)
    epochs = int(cfg.train.epochs)
    stop_reason = "epochs"
    t0 = time.perf_counter()
    budget = TimeBudget(cfg.train.get("time_limit_minutes"), cfg.train.get("time_limit_clock", "wall"),
                        max_epochs=epochs, start_epoch=run.start_epoch)
    try:
        for epoch in range(run.start_epoch, epochs):
            row = _train_epoch(run, epoch)
            metrics = _validate_epoch(run, epoch, epochs)
            if metrics is not None:
                row.update({f"val_{k}": v for k, v in metrics.items()})
            elapsed = budget.elapsed()
            if info.enabled:  # every rank must take the same stopping decisions: rank 0's
                box = [metrics, elapsed]
                dist.broadcast_object_list(box, src=0)
                metrics, elapsed = box
            improved = stopper.update(metrics)
            run.history.append(row)
            if info.is_main:
                logger.epoch(row)
                log.info("epoch %d: %s", epoch + 1, ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch"))
                _save_checkpoints(run, epoch, stopper.best, improved)
            barrier(info)
            if ctx.max_steps is not None and ctx.step >= ctx.max_steps:
                stop_reason = "max_steps"
                break
            fitted = budget.refit(epoch + 1, elapsed, epochs, run.scheduler, run.steps_per_epoch, run.total_steps)
            if fitted != epochs:
                log.info("time limit %s min: %d epochs fit (was %d)", budget.minutes, fitted, epochs)
                epochs = fitted
            if budget.ran_out(epoch + 1, epochs):
                stop_reason = budget.reason
            if epoch + 1 >= epochs:  # the time limit may have shortened the run
                break
            if stopper.should_stop:
                stop_reason = stopper.reason
                log.info("early stopping: %s", stop_reason)
                break
    finally:
        logger.close()
        cleanup(info)
    run_dir = run.run_dir
    return {
        "param_digest": parameter_digest(run.model), "rank": info.rank, "world_size": info.world_size,
        "run_dir": str(run_dir), "best_metric": stopper.best, "metric": stopper.metric,
        "epochs_run": len(run.history), "steps": ctx.step, "stop_reason": stop_reason,
        "seconds": time.perf_counter() - t0,
        "best_checkpoint": str(run_dir / "best.pt"), "last_checkpoint": str(run_dir / "last.pt"),
        "class_names": run.class_names, "history": run.history,
    }


def train(cfg: DictConfig) -> dict:
    """Train a detector as ``cfg`` says; returns :func:`fit`'s summary (best metric, checkpoint paths)."""
    return fit(build_run(cfg))
