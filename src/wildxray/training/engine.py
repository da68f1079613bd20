"""One training epoch and one validation pass. The composition root is ``training.train``."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from wildxray.data.coco import coco_annotation, make_coco
from wildxray.models.postprocess import decode_and_nms
from wildxray.types import Detections


class NonFiniteLossError(RuntimeError):
    """Training produced NaN/inf: stop loudly rather than learn from garbage."""


@dataclass
class StepContext:
    """What a training epoch needs besides the model and data."""

    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    device: torch.device
    ema: object | None = None
    scaler: torch.amp.GradScaler | None = None
    amp_dtype: torch.dtype | None = None  # None: full precision
    grad_clip: float | None = None
    accumulate: int = 1
    channels_last: bool = False
    max_steps: int | None = None
    show_progress: bool = True
    log_every: int = 10
    on_log: object | None = None  # callable(step, dict) for CSV/TensorBoard
    step: int = 0
    seen_images: int = 0
    history: list = field(default_factory=list)


def images_to_device(images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
    """uint8 [B,3,S,S] -> float [B,3,S,S] in 0..255 on the device (the detector normalises)."""
    images = images.to(ctx.device, non_blocking=True).float()
    if ctx.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    return images


def targets_to_device(targets: list[dict], device: torch.device) -> list[dict]:
    return [{k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in t.items()} for t in targets]


def _check_finite(losses: dict[str, torch.Tensor], step: int, targets: list[dict]) -> None:
    bad = {k: float(v) for k, v in losses.items() if not torch.isfinite(v).all()}
    if bad:
        ids = [int(t.get("image_id", -1)) for t in targets]
        raise NonFiniteLossError(
            f"non-finite loss at optimiser step {step}: {bad} (image ids in batch: {ids}). "
            "Check the data (boxes, labels) and the learning rate; training stopped."
        )


def train_one_epoch(model: nn.Module, loader, ctx: StepContext, epoch: int, is_main: bool) -> dict[str, float]:
    """Train for one pass over ``loader``; returns the mean of each named loss.

    The caller puts the model in train mode (and re-freezes frozen stages) before calling.
    """
    sums: dict[str, float] = {}
    count = 0
    autocast = (
        torch.autocast(device_type=ctx.device.type, dtype=ctx.amp_dtype) if ctx.amp_dtype is not None else nullcontext()
    )
    bar = tqdm(loader, desc=f"epoch {epoch}", disable=not (is_main and ctx.show_progress), leave=False, dynamic_ncols=True)
    ctx.optimizer.zero_grad(set_to_none=True)
    for i, (images, targets) in enumerate(bar):
        images = images_to_device(images, ctx)
        targets = targets_to_device(targets, ctx.device)
        last_micro = (i + 1) % ctx.accumulate == 0
        # Under DDP, skip the gradient all-reduce on all but the last micro-batch.
        sync = model.no_sync() if (hasattr(model, "no_sync") and not last_micro) else nullcontext()
        with sync:
            with autocast:
                outputs = model(images)
            losses = ctx.criterion({k: v.float() if torch.is_tensor(v) and v.is_floating_point() else v
                                    for k, v in outputs.items()}, targets)
            _check_finite(losses, ctx.step, targets)
            loss = losses["loss"] / ctx.accumulate
            if ctx.scaler is not None:
                ctx.scaler.scale(loss).backward()
            else:
                loss.backward()
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
        count += 1
        ctx.seen_images += images.shape[0]
        if not last_micro:
            continue
        if ctx.scaler is not None:
            ctx.scaler.unscale_(ctx.optimizer)
        if ctx.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), ctx.grad_clip)
        if ctx.scaler is not None:
            ctx.scaler.step(ctx.optimizer)
            ctx.scaler.update()
        else:
            ctx.optimizer.step()
        ctx.optimizer.zero_grad(set_to_none=True)
        ctx.scheduler.step()
        ctx.step += 1
        if ctx.ema is not None:
            ctx.ema.update(model.module if hasattr(model, "module") else model)
        if is_main:
            bar.set_postfix(loss=f"{sums['loss'] / count:.3f}", lr=f"{ctx.optimizer.param_groups[0]['lr']:.2e}")
            if ctx.on_log is not None and ctx.step % ctx.log_every == 0:
                ctx.on_log(ctx.step, {k: float(v.detach()) for k, v in losses.items()} | {"lr": ctx.optimizer.param_groups[0]["lr"]})
        if ctx.max_steps is not None and ctx.step >= ctx.max_steps:
            break
    return {k: v / max(1, count) for k, v in sums.items()}


@torch.no_grad()
def predict_loader(
    model: nn.Module,
    loader,
    device: torch.device,
    score_thresh: float,
    iou_thresh: float,
    max_det: int,
    show_progress: bool = True,
) -> tuple[dict[int, Detections], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Run the PyTorch model over a letterboxed loader.

    Returns predictions and ground truth per image id, both in the letterboxed S x S frame
    (IoU is scale-invariant, so AP computed there equals AP in original pixels).
    """
    model.eval()
    preds: dict[int, Detections] = {}
    gts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for images, targets in tqdm(loader, desc="validate", disable=not show_progress, leave=False, dynamic_ncols=True):
        outputs = model(images.to(device).float())
        boxes, scores, labels, num = decode_and_nms(outputs, score_thresh, iou_thresh, max_det)
        for b, t in enumerate(targets):
            n = int(num[b])
            image_id = int(t["image_id"])
            preds[image_id] = Detections(boxes[b, :n].cpu().numpy(), scores[b, :n].cpu().numpy(), labels[b, :n].cpu().numpy())
            gts[image_id] = (t["boxes"].numpy(), t["labels"].numpy())
    return preds, gts


def coco_from_targets(gts: dict[int, tuple[np.ndarray, np.ndarray]], class_names: list[str], size: int) -> dict:
    """A COCO ground-truth dict from (boxes xyxy, labels) per image id, all images size x size."""
    images, annotations = [], []
    for image_id, (boxes, labels) in gts.items():
        images.append({"id": image_id, "width": size, "height": size, "file_name": f"{image_id}.png"})
        for box, label in zip(boxes, labels):
            x1, y1, x2, y2 = (float(v) for v in box)
            xywh = [x1, y1, x2 - x1, y2 - y1]
            annotations.append(coco_annotation(len(annotations) + 1, image_id, int(label) + 1, xywh))
    return make_coco(images, annotations, class_names)

