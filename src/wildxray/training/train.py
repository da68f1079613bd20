"""``train(cfg)``: the composition root. Builds data, model, loss, optimiser and loop in one place.

Run it through ``wildxray train [overrides]`` (Hydra) or ``torchrun --nproc_per_node=N -m
wildxray.cli.train [overrides]``; tests call it directly with a composed config.
"""

from __future__ import annotations

import csv
import logging
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from wildxray.evaluation.coco_metrics import coco_map
from wildxray.models.backbone import freeze_backbone_stages, unfreeze_backbone
from wildxray.training.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from wildxray.training.data import build_datasets, build_loaders
from wildxray.training.distributed import all_reduce_mean, barrier, cleanup, init_distributed
from wildxray.training.ema import ModelEMA
from wildxray.training.engine import StepContext, coco_from_targets, predict_loader, train_one_epoch
from wildxray.training.finetune import load_weights_remapping_classes
from wildxray.training.optim import build_optimizer, set_total_steps

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
    import hashlib

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
            from torch.utils.tensorboard import SummaryWriter

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
    from itertools import islice

    from torch.optim.swa_utils import update_bn

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


def train(cfg: DictConfig) -> dict:
    """Train a detector as ``cfg`` says; returns a summary (best metric, checkpoint paths)."""
    run_dir = Path(cfg.output_dir)
    device = resolve_device(cfg.device)
    info = init_distributed(device.type)
    if info.enabled and device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
    if info.enabled:  # Hydra names run dirs by the second each rank started: use rank 0's
        box = [str(run_dir)]
        dist.broadcast_object_list(box, src=0)
        run_dir = Path(box[0])
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    seed_everything(int(cfg.seed))  # same init on every rank; data streams differ per rank

    train_src, val_src, class_names = build_datasets(cfg, run_dir)
    num_classes = len(class_names)
    model = instantiate(cfg.model.detector, num_classes=num_classes)
    if cfg.train.init_from:
        init = load_checkpoint(cfg.train.init_from)
        weights = init["ema"] or init["model"]
        load_weights_remapping_classes(model, weights, list(init["class_names"]), class_names)
    frozen = int(cfg.train.freeze_backbone_stages or 0)
    if cfg.train.sync_bn and info.enabled:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    if cfg.train.channels_last:
        model.to(memory_format=torch.channels_last)
    criterion = instantiate(cfg.model.criterion, num_classes=num_classes).to(device)
    optimizer = build_optimizer(model, instantiate(cfg.optim.optimizer))

    pin = device.type == "cuda"
    train_loader, val_loader, epoch_setter = build_loaders(cfg, train_src, val_src, info, pin_memory=pin)
    accumulate = int(cfg.train.accumulate)
    steps_per_epoch = max(1, len(train_loader) // accumulate)
    epochs = int(cfg.train.epochs)
    total_steps = steps_per_epoch * epochs
    if cfg.train.max_steps:
        total_steps = min(total_steps, int(cfg.train.max_steps))
    scheduler = instantiate(cfg.optim.scheduler)(optimizer, total_steps=total_steps)
    amp_dtype = _amp_dtype(cfg.train.amp, device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    ema = ModelEMA(model, decay=float(cfg.train.ema.decay), tau=float(cfg.train.ema.tau)) if cfg.train.ema.enabled else None

    start_epoch, best, history = 0, -1.0, []
    ctx = StepContext(
        criterion=criterion, optimizer=optimizer, scheduler=scheduler, device=device, ema=ema, scaler=scaler,
        amp_dtype=amp_dtype, grad_clip=float(cfg.train.grad_clip) if cfg.train.grad_clip else None,
        accumulate=accumulate, channels_last=bool(cfg.train.channels_last),
        max_steps=int(cfg.train.max_steps) if cfg.train.max_steps else None,
        show_progress=bool(cfg.train.progress), log_every=int(cfg.train.log_every),
    )
    if cfg.train.resume:
        state = load_checkpoint(cfg.train.resume)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        if ema is not None and state.get("ema"):
            ema.module.load_state_dict(state["ema"])
            ema.updates = int(state["ema_updates"])
        start_epoch, ctx.step, best = int(state["epoch"]), int(state["step"]), float(state["best_metric"])
        history = list(state.get("history", []))
        set_rng_state(state["rng"])
        log.info("resumed from %s at epoch %d, step %d", cfg.train.resume, start_epoch, ctx.step)

    train_model = model
    if info.enabled:
        train_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    if cfg.train.compile:
        train_model = torch.compile(train_model)

    logger = MetricsLogger(run_dir, enabled=info.is_main)
    ctx.on_log = logger.step
    metric_name = str(cfg.train.early_stopping.metric)
    patience = int(cfg.train.early_stopping.patience)
    epochs_without_gain = 0
    stop_reason = "epochs"
    t0 = time.perf_counter()
    # The time budget's clock: wall time, or this process's CPU seconds (side-by-side comparisons on
    # a shared machine; with num_workers=0 they include the data pipeline).
    clock_name = cfg.train.get("time_limit_clock", "wall")
    if clock_name not in ("wall", "cpu"):
        raise ValueError(f"train.time_limit_clock must be wall or cpu, got {clock_name!r}")
    budget_clock = time.process_time if clock_name == "cpu" else time.perf_counter
    budget_t0 = budget_clock()
    try:
        for epoch in range(start_epoch, epochs):
            unfreeze_at = cfg.train.unfreeze_at_epoch
            if frozen and unfreeze_at is not None and epoch >= int(unfreeze_at):
                unfreeze_backbone(model.backbone)
                frozen = 0
            train_model.train()
            if frozen:  # after train(): frozen stages keep BatchNorm in eval mode
                freeze_backbone_stages(model.backbone, frozen)
            epoch_setter.set_epoch(epoch)
            t_epoch = time.perf_counter()
            seen_before = ctx.seen_images
            losses = train_one_epoch(train_model, train_loader, ctx, epoch, info.is_main)
            losses = all_reduce_mean(losses, info, device)
            row = {"epoch": epoch + 1, "step": ctx.step, **{f"train_{k}": v for k, v in losses.items()}}
            row["images_per_s"] = (ctx.seen_images - seen_before) * info.world_size / (time.perf_counter() - t_epoch)
            eval_model = ema.module if ema is not None else model
            if info.is_main and int(cfg.train.precise_bn_batches):
                recompute_batchnorm(eval_model, train_loader, int(cfg.train.precise_bn_batches), device)
            last_epoch = epoch + 1 == epochs or (ctx.max_steps is not None and ctx.step >= ctx.max_steps)
            evaluate_now = (epoch + 1) % int(cfg.train.eval_every) == 0 or last_epoch
            metrics = None
            if info.is_main and evaluate_now:
                metrics = validate(eval_model, val_loader, cfg, class_names, device, bool(cfg.train.progress))
                row.update({f"val_{k}": v for k, v in metrics.items()})
            elapsed = budget_clock() - budget_t0
            if info.enabled:  # every rank must take the same stopping decisions: rank 0's
                box = [metrics, elapsed]
                dist.broadcast_object_list(box, src=0)
                metrics, elapsed = box
            improved = metrics is not None and metrics[metric_name] > best
            if improved:
                best, epochs_without_gain = metrics[metric_name], 0
            elif metrics is not None:
                epochs_without_gain += int(cfg.train.eval_every)
            history.append(row)
            if info.is_main:
                logger.epoch(row)
                log.info("epoch %d: %s", epoch + 1, ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch"))
                state = {
                    "model": model.state_dict(), "ema": ema.module.state_dict() if ema else None,
                    "ema_updates": ema.updates if ema else 0,
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict() if scaler else None, "epoch": epoch + 1, "step": ctx.step,
                    "best_metric": best, "history": history, "rng": rng_state(),
                    "config": OmegaConf.to_container(cfg, resolve=True), "class_names": class_names,
                }
                save_checkpoint(run_dir / "last.pt", state)
                if improved:
                    save_checkpoint(run_dir / "best.pt", state)
            barrier(info)
            if ctx.max_steps is not None and ctx.step >= ctx.max_steps:
                stop_reason = "max_steps"
                break
            minutes = cfg.train.get("time_limit_minutes")
            if minutes:
                # Like Ultralytics' `time`: re-fit the epochs (and so the cosine schedule, which then
                # anneals) to the budget after every epoch, at the average pace so far, instead of
                # stopping mid-schedule. The run ends when the fitted count is reached.
                per_epoch = elapsed / (epoch + 1 - start_epoch)
                fit = min(int(cfg.train.epochs), max(epoch + 1, start_epoch + int(float(minutes) * 60 / per_epoch)))
                if fit != epochs:
                    # Another scheduler cannot be re-fitted: then the run only stops in time.
                    refitted = set_total_steps(scheduler, min(steps_per_epoch * fit, total_steps))
                    if refitted or fit < epochs:
                        log.info("time limit %s min: %d epochs fit (was %d)", minutes, fit, epochs)
                        epochs = fit
                if epoch + 1 >= epochs < int(cfg.train.epochs):
                    stop_reason = f"time limit of {minutes} min"
            if epoch + 1 >= epochs:  # the time limit may have shortened the run
                break
            if patience and epochs_without_gain >= patience:
                stop_reason = f"no {metric_name} gain for {patience} epochs"
                log.info("early stopping: %s", stop_reason)
                break
    finally:
        logger.close()
        cleanup(info)
    return {
        "param_digest": parameter_digest(model), "rank": info.rank, "world_size": info.world_size,
        "run_dir": str(run_dir), "best_metric": best, "metric": metric_name, "epochs_run": len(history),
        "steps": ctx.step, "stop_reason": stop_reason, "seconds": time.perf_counter() - t0,
        "best_checkpoint": str(run_dir / "best.pt"), "last_checkpoint": str(run_dir / "last.pt"),
        "class_names": class_names, "history": history,
    }
