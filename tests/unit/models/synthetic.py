"""Tiny synthetic detection data for the model tests: coloured rectangles and ellipses on noise.

Also a COCO AP50 helper (pycocotools) so the overfit test measures what evaluation measures.
"""

from __future__ import annotations

import contextlib
import io

import cv2
import numpy as np
import torch

#: One fixed colour per class (RGB), far apart so the classes are learnable in a few steps.
CLASS_COLOURS = ((230, 60, 40), (40, 200, 60), (50, 80, 230))


def make_shapes_batch(n: int, size: int, seed: int, max_objects: int = 3) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """``n`` images ``float [n, 3, size, size]`` in 0..255 with their targets (xyxy pixels, labels 0..2).

    Class 0: filled rectangles, class 1: filled ellipses, class 2: rectangle outlines; sizes 16..size/2.
    """
    rng = np.random.default_rng(seed)
    images, targets = [], []
    for _ in range(n):
        img = rng.normal(110, 25, (size, size, 3)).clip(0, 255).astype(np.uint8)
        boxes, labels = [], []
        for _ in range(int(rng.integers(1, max_objects + 1))):
            label = int(rng.integers(0, 3))
            w, h = (int(v) for v in rng.integers(16, size // 2, 2))
            x, y = int(rng.integers(0, size - w)), int(rng.integers(0, size - h))
            colour = CLASS_COLOURS[label]
            if label == 0:
                cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), colour, -1)
            elif label == 1:
                cv2.ellipse(img, (x + w // 2, y + h // 2), (w // 2, h // 2), 0, 0, 360, colour, -1)
            else:
                cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), colour, 3)
            boxes.append([x, y, x + w, y + h])
            labels.append(label)
        images.append(torch.from_numpy(img).permute(2, 0, 1).float())
        targets.append({"boxes": torch.tensor(boxes, dtype=torch.float32), "labels": torch.tensor(labels, dtype=torch.int64)})
    return torch.stack(images), targets


def coco_map50(
    preds: list[tuple[np.ndarray, np.ndarray, np.ndarray]], targets: list[dict[str, torch.Tensor]], num_classes: int, size: int
) -> float:
    """COCO AP at IoU 0.5 (pycocotools) of ``preds[i] = (boxes xyxy [K,4], scores [K], labels [K])``."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, anns, dets = [], [], []
    for i, (t, (pb, ps, pl)) in enumerate(zip(targets, preds)):
        images.append({"id": i + 1, "width": size, "height": size})
        for b, lab in zip(t["boxes"].tolist(), t["labels"].tolist()):
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": lab + 1, "iscrowd": 0,
                         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "area": (b[2] - b[0]) * (b[3] - b[1])})
        for b, s, lab in zip(pb.tolist(), ps.tolist(), pl.tolist()):
            dets.append({"image_id": i + 1, "category_id": int(lab) + 1, "score": float(s),
                         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": c + 1, "name": str(c)} for c in range(num_classes)]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        if not dets:
            return 0.0
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[1])


def recalibrate_batchnorm(model: torch.nn.Module, images: torch.Tensor) -> None:
    """Set every BatchNorm's running statistics to the exact statistics of ``images`` (precise BN).

    After a few dozen aggressive steps the running averages lag the weights; a real run is long
    enough for them to settle, a unit test is not.
    """
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: one pass = the batch statistics
    model.train()
    with torch.no_grad():
        model(images)
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    model.eval()


def train_steps(model: torch.nn.Module, criterion: torch.nn.Module, images: torch.Tensor, targets: list[dict], steps: int, lr: float = 3e-3) -> list[float]:
    """Full-batch AdamW with a one-cycle schedule; returns the total loss per step."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    history = []
    model.train()
    for _ in range(steps):
        losses = criterion(model(images), targets)
        opt.zero_grad()
        losses["loss"].backward()
        opt.step()
        sched.step()
        history.append(float(losses["loss"].detach()))
    return history
