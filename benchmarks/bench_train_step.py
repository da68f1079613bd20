"""What bounds a training step: on-the-fly synthesis, augmentation, or the model?

Measures, in one process, the time per image of (a) simulating a scan, (b) the X-ray augmentation
+ letterbox, (c) forward + backward + optimiser step of the model, and reports images/s for each
and which one limits training. It also times the channels_last (NHWC) memory format, on CUDA
bf16 AMP, and on request ``torch.compile`` and frozen first backbone stages (what
``train.compile`` and ``train.freeze_backbone_stages`` do); several ``--model`` configs can be
compared. All model variants run interleaved so their ratios hold on a shared machine.

    python benchmarks/bench_train_step.py --model default --size 416 --batch 16 --steps 5
    python benchmarks/bench_train_step.py --model default lite0 --compile --freeze 3 --steps 8
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from hydra.utils import instantiate

from wildxray.hydra_compose import compose_config
from wildxray.data.augment import build_transforms
from wildxray.models.backbone import freeze_backbone_stages
from wildxray.xray.synth import ScanSynthesizer


def time_per_item(fn, n: int) -> float:
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - t) / n


def make_step(model_name: str, size: int, batch: int, device: torch.device, amp: torch.dtype | None,
              channels_last: bool, compile: bool = False, freeze: int = 0):
    """A closure running one forward + backward + AdamW step of a fresh model on a fixed batch.

    ``freeze``: the first n backbone stages frozen as the trainer freezes them; ``compile``:
    ``torch.compile`` the model (its compilation happens in the warm-up step, untimed)."""
    cfg = compose_config("train", [f"model={model_name}"])
    torch.manual_seed(0)
    model = instantiate(cfg.model.detector, num_classes=6).to(device).train()
    criterion = instantiate(cfg.model.criterion, num_classes=6).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if freeze:
        freeze_backbone_stages(model.backbone, freeze)
    params = [p for p in model.parameters() if p.requires_grad]
    if compile:
        model = torch.compile(model)
    opt = torch.optim.AdamW(params, lr=1e-3)
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
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up (also lets oneDNN pick its kernels)
    return step


def interleaved_step_times(steps: dict, rounds: int, batch: int) -> dict[str, float]:
    """Seconds per image of each variant: median over ``rounds`` single steps, run round-robin in
    alternating order so that load changes on a shared machine hit every variant alike."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            t = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - t)
    return {name: float(np.median(v)) / batch for name, v in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", nargs="+", default=["default"], help="model configs to compare (configs/model/)")
    p.add_argument("--size", type=int, default=416)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=6, help="timed rounds per variant (median)")
    p.add_argument("--scans", type=int, default=40)
    p.add_argument("--compile", action="store_true", help="also time torch.compile (channels_last)")
    p.add_argument("--freeze", type=int, default=0, metavar="N", help="also time the first N backbone stages frozen")
    args = p.parse_args()

    synth = ScanSynthesizer(compose_config("synth"))
    scans = []
    t_synth = time_per_item(lambda i: scans.append(synth.sample(np.random.default_rng([0, i]), image_id=i)), args.scans)
    tf = build_transforms("xray", args.size, train=True, seed=0)
    t_aug = time_per_item(lambda i: tf(scans[i].image, scans[i].target.boxes, scans[i].target.labels), args.scans)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = [("synthesise one scan (1 worker)", t_synth), ("augment + letterbox (1 worker)", t_aug)]
    variants = {}  # name -> make_step keywords
    for m in args.model:
        variants[f"{m} fp32"] = dict(model_name=m, amp=None, channels_last=False)
        variants[f"{m} fp32 channels_last"] = dict(model_name=m, amp=None, channels_last=True)
        if args.compile:
            variants[f"{m} channels_last + compile"] = dict(model_name=m, amp=None, channels_last=True, compile=True)
        if args.freeze:
            variants[f"{m} channels_last + freeze {args.freeze}"] = dict(model_name=m, amp=None, channels_last=True, freeze=args.freeze)
        if device.type == "cuda":
            variants[f"{m} bf16 AMP + channels_last"] = dict(model_name=m, amp=torch.bfloat16, channels_last=True)
    steps = {name: make_step(size=args.size, batch=args.batch, device=device, **kw) for name, kw in variants.items()}
    rows += [(f"model step {name}", t) for name, t in interleaved_step_times(steps, args.steps, args.batch).items()]
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"models={','.join(args.model)} size={args.size} batch={args.batch} device={device.type}"
          + (f", GPU {torch.cuda.get_device_name()}" if device.type == "cuda" else ""))
    print(f"{'stage':<40} {'ms/image':>10} {'images/s':>10}")
    for name, t in rows:
        print(f"{name:<40} {1e3 * t:>10.1f} {1 / t:>10.1f}")
    data_rate = 1 / (t_synth + t_aug)
    model_rate = 1 / min(t for _, t in rows[2:])
    bound = "the model" if model_rate < data_rate else "data (synthesis + augmentation)"
    base = rows[2][1]
    for name, t in rows[3:]:
        print(f"{name}: {base / t:.2f}x the {args.model[0]} fp32 contiguous step")
    print(f"one data worker feeds {data_rate:.1f} images/s; the model consumes {model_rate:.1f} images/s: "
          f"the step is bound by {bound}; workers needed to keep up: {max(1, int(np.ceil(model_rate / data_rate)))}")


if __name__ == "__main__":
    main()
