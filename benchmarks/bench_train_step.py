"""What bounds a training step: on-the-fly synthesis, augmentation, or the model?

Measures, in one process, the time per image of (a) simulating a scan, (b) the X-ray augmentation
+ letterbox, (c) forward + backward + optimiser step of the model, and reports images/s for each
and which one limits training. On CUDA it also times AMP (bf16) and channels_last.

    python benchmarks/bench_train_step.py --model default --size 416 --batch 16 --steps 5
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from hydra.utils import instantiate

from wildxray.config import compose_config
from wildxray.data.augment import build_transforms
from wildxray.xray.synth import ScanSynthesizer


def time_per_item(fn, n: int) -> float:
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - t) / n


def model_step_time(model_name: str, size: int, batch: int, steps: int, device: torch.device,
                    amp: torch.dtype | None, channels_last: bool) -> float:
    cfg = compose_config("train", [f"model={model_name}"])
    model = instantiate(cfg.model.detector, num_classes=6).to(device).train()
    criterion = instantiate(cfg.model.criterion, num_classes=6).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    images = torch.randint(0, 255, (batch, 3, size, size), device=device).float()
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    box = torch.tensor([[size * 0.2, size * 0.2, size * 0.6, size * 0.5]], device=device)
    targets = [{"boxes": box, "labels": torch.tensor([i % 6], device=device)} for i in range(batch)]

    def step() -> None:
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            out = model(images)
        loss = criterion({k: v.float() if v.is_floating_point() else v for k, v in out.items()}, targets)["loss"]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / (steps * batch)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default")
    p.add_argument("--size", type=int, default=416)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--scans", type=int, default=40)
    args = p.parse_args()

    synth = ScanSynthesizer(compose_config("synth"))
    scans = []
    t_synth = time_per_item(lambda i: scans.append(synth.sample(np.random.default_rng([0, i]), image_id=i)), args.scans)
    tf = build_transforms("xray", args.size, train=True, seed=0)
    t_aug = time_per_item(lambda i: tf(scans[i].image, scans[i].target.boxes, scans[i].target.labels), args.scans)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = [("synthesise one scan (1 worker)", t_synth), ("augment + letterbox (1 worker)", t_aug)]
    rows.append((f"model step fp32 on {device.type}", model_step_time(args.model, args.size, args.batch, args.steps,
                                                                       device, None, False)))
    if device.type == "cuda":
        rows.append(("model step bf16 AMP + channels_last", model_step_time(
            args.model, args.size, args.batch, args.steps, device, torch.bfloat16, True)))
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"model={args.model} size={args.size} batch={args.batch}"
          + (f", GPU {torch.cuda.get_device_name()}" if device.type == "cuda" else ""))
    print(f"{'stage':<40} {'ms/image':>10} {'images/s':>10}")
    for name, t in rows:
        print(f"{name:<40} {1e3 * t:>10.1f} {1 / t:>10.1f}")
    data_rate = 1 / (t_synth + t_aug)
    model_rate = 1 / rows[-1][1]
    bound = "the model" if model_rate < data_rate else "data (synthesis + augmentation)"
    print(f"one data worker feeds {data_rate:.1f} images/s; the model consumes {model_rate:.1f} images/s: "
          f"the step is bound by {bound}; workers needed to keep up: {max(1, int(np.ceil(model_rate / data_rate)))}")


if __name__ == "__main__":
    main()
