"""Named augmentation presets (albumentations) followed by THE letterbox.

``build_transforms(preset, size, train)`` returns a ``DetectionTransform``:
``(image HxWx3 uint8 RGB, boxes float32 [M, 4] xyxy original pixels, labels int64 [M])
-> (image SxSx3 uint8 RGB, boxes float32 [K, 4] xyxy in the S x S letterboxed frame, labels int64 [K])``.

``transform_with_map`` also moves a class map (``data.masks``: uint8 [H, W] bitmask) with the
pixels, nearest-neighbour, filled with 0 (no item) wherever the image is filled.

Pipeline: clip boxes to the image -> albumentations ``Compose`` (train only; boxes as pascal_voc,
moved with the pixels) -> ``wildxray.core.letterbox.letterbox`` + ``boxes_to_letterbox`` (the
station's own geometry, so training sees exactly what the scanner sees) -> boxes narrower or
lower than 1 px are dropped, with their labels. ``train=False`` is letterbox only, whatever the
preset. A clean image (M = 0) passes through.

Presets (``PRESETS``):
- ``xray``: flips, 90-degree turns, scale + translate (empty border is white: no material),
  thickness change and mild noise applied to the intensity only. Nothing alters hue: in a
  dual-energy pseudo-colour image hue encodes the material (effective Z), so colour jitter would
  teach the model that ivory may look like metal.
- ``photo``: flips, scale + translate, perspective, colour jitter, blur, JPEG compression.
- ``none``: nothing (letterbox only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import albumentations as A
import cv2
import numpy as np

from wildxray.core.letterbox import DEFAULT_PAD_VALUE, boxes_to_letterbox, letterbox

#: Boxes with less of their area left in the frame are dropped by albumentations: an item cut to a
#: sliver is unrecognisable, and teaching it as an object does more harm than leaving it unlabelled.
MIN_VISIBILITY = 0.25
#: Boxes narrower or lower than this (pixels, in the output frame) are dropped.
MIN_BOX_SIDE_PX = 1.0
#: Pseudo-colour of an empty belt (full transmission): the X-ray fill for pixels moved in from outside.
XRAY_EMPTY_FILL = 255


class ThicknessChange(A.ImageOnlyTransform):
    """Make every object look thicker or thinner without changing its material colour.

    Beer-Lambert: transmission T = exp(-mu * t), so scaling thickness t by k turns T into T**k.
    Applied to the intensity v = max(R, G, B) / 255 as ``v' = v ** k`` and to the pixel as
    ``rgb * v' / v``: channel ratios (hue and saturation) are kept exactly, and v' <= 1 never clips.
    """

    def __init__(self, exponent_range: tuple[float, float] = (0.7, 1.4), p: float = 0.5):
        super().__init__(p=p)
        if not 0 < exponent_range[0] <= exponent_range[1]:
            raise ValueError(f"exponent_range must be positive and ordered, got {exponent_range}")
        self.exponent_range = exponent_range

    def get_params(self) -> dict[str, float]:
        lo, hi = self.exponent_range
        # log-uniform so that thicker (k > 1) and thinner (1/k) are equally likely
        return {"exponent": float(np.exp(self.py_random.uniform(np.log(lo), np.log(hi))))}

    def apply(self, img: np.ndarray, exponent: float = 1.0, **params: Any) -> np.ndarray:
        # gain = v ** (k - 1) depends on the 8-bit intensity only: a 256-entry table avoids a
        # per-pixel power (6x faster at 1024x768). Black stays black (gain 1).
        v = np.maximum(np.maximum(img[..., 0], img[..., 1]), img[..., 2])
        lut = np.ones(256, np.float32)
        lut[1:] = (np.arange(1, 256, dtype=np.float64) / 255.0) ** (exponent - 1.0)
        out = img.astype(np.float32)
        out *= lut[v][..., None]
        return np.clip(np.rint(out, out=out), 0, 255).astype(np.uint8)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("exponent_range",)


def _xray_ops(pad_value: int) -> list[A.BasicTransform]:
    return [
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.RandomRotate90(p=0.5),
        A.Affine(scale=(0.75, 1.25), translate_percent=(-0.1, 0.1), rotate=0, border_mode=cv2.BORDER_CONSTANT,
                 fill=XRAY_EMPTY_FILL, fill_mask=0, p=0.5),
        ThicknessChange(exponent_range=(0.7, 1.4), p=0.5),
        # per_channel=False adds the same value to R, G and B: hue (a function of channel differences)
        # is unchanged, as quantum noise changes the brightness of a pixel, not its material.
        A.GaussNoise(std_range=(0.005, 0.02), per_channel=False, p=0.3),
    ]


def _photo_ops(pad_value: int) -> list[A.BasicTransform]:
    return [
        A.HorizontalFlip(p=0.5),
        A.Affine(scale=(0.8, 1.2), translate_percent=(-0.05, 0.05), rotate=0, border_mode=cv2.BORDER_CONSTANT,
                 fill=pad_value, fill_mask=0, p=0.5),
        A.Perspective(scale=(0.02, 0.06), keep_size=True, border_mode=cv2.BORDER_CONSTANT, fill=pad_value,
                      fill_mask=0, p=0.3),
        A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03, p=0.8),
        # allow_shifted=False: a shifted motion kernel would move the object away from its box.
        A.OneOf([A.GaussianBlur(sigma_limit=(0.3, 1.5)), A.MotionBlur(blur_limit=(3, 7), allow_shifted=False)], p=0.3),
        A.ImageCompression(quality_range=(40, 95), p=0.5),
    ]


#: Preset name -> builder of its albumentations ops (given the padding value).
PRESETS: dict[str, Callable[[int], list[A.BasicTransform]]] = {
    "xray": _xray_ops,
    "photo": _photo_ops,
    "none": lambda pad_value: [],
}


def border_fill(preset: str, pad_value: int = DEFAULT_PAD_VALUE) -> int:
    """The value a preset gives pixels it brings in from outside the image (``data.mosaic`` fills
    its empty quadrant corners with it): an empty belt for ``xray``, else the padding value."""
    return XRAY_EMPTY_FILL if preset == "xray" else pad_value


class DetectionTransform:
    """One preset at one input size; see the module docstring for the contract."""

    def __init__(self, preset: str, size: int, train: bool, pad_value: int = DEFAULT_PAD_VALUE,
                 seed: int | None = None):
        if preset not in PRESETS:
            raise ValueError(f"unknown augmentation preset {preset!r}; known presets: {sorted(PRESETS)}")
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        self.preset, self.size, self.train, self.pad_value = preset, size, train, pad_value
        self.fill = border_fill(preset, pad_value)
        ops = PRESETS[preset](pad_value) if train else []
        self.compose: A.Compose | None = None
        if ops:
            self.compose = A.Compose(
                ops,
                bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=MIN_VISIBILITY,
                                         min_area=1.0, clip=True),
                seed=seed,
            )

    def set_seed(self, seed: int) -> None:
        """Reseed the random ops (each DataLoader worker must draw its own stream)."""
        if self.compose is not None:
            self.compose.set_random_seed(seed)

    def __call__(
        self, image: np.ndarray, boxes: np.ndarray, labels: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        canvas, boxes, labels, _ = self.transform_with_map(image, boxes, labels, None)
        return canvas, boxes, labels

    def transform_with_map(
        self, image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, class_map: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """``__call__`` that also carries ``class_map`` (uint8 [H, W] or None) into the S x S frame."""
        if class_map is not None and class_map.shape != image.shape[:2]:
            raise ValueError(f"class map {class_map.shape} does not match the image {image.shape[:2]}")
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image.shape} {image.dtype}")
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if len(boxes) != len(labels):
            raise ValueError(f"{len(boxes)} boxes but {len(labels)} labels")
        boxes, labels = _clip_and_drop(boxes, labels, image.shape[1], image.shape[0])
        if self.compose is not None:
            extra = {"mask": class_map} if class_map is not None else {}
            out = self.compose(image=image, bboxes=boxes, labels=labels, **extra)
            image = out["image"]
            class_map = out.get("mask", class_map)
            boxes = np.asarray(out["bboxes"], dtype=np.float32).reshape(-1, 4)
            labels = np.asarray(out["labels"], dtype=np.int64).reshape(-1)
            boxes, labels = _clip_and_drop(boxes, labels, image.shape[1], image.shape[0])
        canvas, ratio = letterbox(np.ascontiguousarray(image), self.size, self.pad_value)
        boxes, labels = _clip_and_drop(boxes_to_letterbox(boxes, ratio), labels, self.size, self.size)
        if class_map is not None:
            class_map = letterbox(np.ascontiguousarray(class_map)[:, :, None], self.size, 0, cv2.INTER_NEAREST)[0][:, :, 0]
        return canvas, boxes, labels, class_map

    def __repr__(self) -> str:
        return (f"DetectionTransform(preset={self.preset!r}, size={self.size}, train={self.train}, "
                f"pad_value={self.pad_value})")


def _clip_and_drop(boxes: np.ndarray, labels: np.ndarray, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Clip xyxy boxes to ``width x height``; drop (explicitly) those narrower or lower than 1 px."""
    boxes = boxes.copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= MIN_BOX_SIDE_PX) & ((boxes[:, 3] - boxes[:, 1]) >= MIN_BOX_SIDE_PX)
    return boxes[keep], labels[keep]


def build_transforms(preset: str, size: int, train: bool, pad_value: int = DEFAULT_PAD_VALUE,
                     seed: int | None = None) -> DetectionTransform:
    """The transform for ``preset`` (a key of ``PRESETS``; an unknown name raises ValueError)."""
    return DetectionTransform(preset, size, train, pad_value, seed)
