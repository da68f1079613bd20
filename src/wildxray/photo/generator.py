"""Procedural photos of seized goods with exact boxes: the photo modality's test-bed.

A photo is a background (tabletop, cloth, mat, cardboard, studio sweep) with 1-6 objects lit
from one side, casting soft shadows and partly overlapping, then camera effects (exposure,
colour cast, vignette, noise, mild blur, JPEG). Boxes are the tight footprint of each contraband
object's *visible* pixels (coverage > 0.5 after later objects are drawn over it). Look-alikes
(wood, resin, leather, plush, ceramics) are drawn but never boxed.

These photos are synthetic: they exercise the pipeline and give a detector a start, but real
listings and parcel photos need real, labelled data.

    >>> import numpy as np
    >>> from wildxray.photo.generator import PhotoSynthesizer
    >>> photo = PhotoSynthesizer(size=(480, 640)).sample(np.random.default_rng(0))
    >>> photo.image.shape, photo.image.dtype
    ((480, 640, 3), dtype('uint8'))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from wildxray.photo.backgrounds import render_background
from wildxray.photo.photo_catalogue import LOOKALIKES, ObjectType, contraband_of
from wildxray.photo.sprite import Sprite, shade, transform_sprite
from wildxray.types import CLASS_NAMES, Target

#: An object must keep at least this fraction of its footprint visible when others land on it.
MIN_VISIBLE = 0.6
#: An object may be cut by the photo's border by at most this fraction of its footprint.
MAX_CROPPED = 0.15


@dataclass
class SynthPhoto:
    """One generated photo.

    image:  uint8 [H, W, 3] RGB.
    target: boxes float32 [M, 4] xyxy in image pixels (pixel-edge convention: a box spanning
            columns 10..19 is x0=10, x1=20), labels int64 [M] 0-based in ``CLASS_NAMES`` order.
    meta:   ``background``, ``clean``, ``light`` (unit xyz), ``camera`` (effects applied),
            ``objects`` (one dict per drawn object, in drawing order: ``kind``, ``label``
            (int or None), ``class`` (name or None), ``box`` (xyxy or None), ``visible_fraction``),
            and ``instance_map`` int16 [H, W]: index into ``objects`` of the topmost object at each
            pixel (coverage > 0.5), -1 for background.
    """

    image: np.ndarray
    target: Target
    meta: dict = field(default_factory=dict)


@dataclass
class Placement:
    """A sprite (already rotated/scaled) at integer top-left ``(x, y)`` in the photo; ``label`` None = look-alike."""

    sprite: Sprite
    x: int
    y: int
    label: int | None


def _window(p: Placement, shape: tuple[int, int]) -> tuple[slice, slice, slice, slice] | None:
    """Overlapping slices (photo rows, photo cols, sprite rows, sprite cols), or None when outside."""
    h, w = p.sprite.alpha.shape
    y0, x0 = max(0, p.y), max(0, p.x)
    y1, x1 = min(shape[0], p.y + h), min(shape[1], p.x + w)
    if y1 <= y0 or x1 <= x0:
        return None
    return slice(y0, y1), slice(x0, x1), slice(y0 - p.y, y1 - p.y), slice(x0 - p.x, x1 - p.x)


def compose(
    background: np.ndarray, placements: list[Placement], light: np.ndarray, shadow_strength: float = 0.45
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``placements`` in order over ``background`` (float32 [H, W, 3] in [0, 1]).

    Each object first darkens what lies beneath with a soft shadow cast away from ``light``
    (unit xyz, z towards the camera), then is shaded and alpha-blended on top.
    Returns (image float32 [H, W, 3], instance_map int16 [H, W]: index of the topmost placement
    with coverage > 0.5 at each pixel, -1 for background).
    """
    canvas = background.astype(np.float32).copy()
    shape = canvas.shape[:2]
    instance = np.full(shape, -1, np.int16)
    for i, p in enumerate(placements):
        if shadow_strength > 0:
            # Taller objects cast longer shadows; the blur makes the penumbra soft.
            reach = float(p.sprite.height.max()) * 0.8 + 3.0
            dx, dy = -light[0] / max(light[2], 0.2) * reach, -light[1] / max(light[2], 0.2) * reach
            pad = int(abs(dx) + abs(dy) + 12)
            a = np.pad(p.sprite.alpha, pad)
            m = np.float32([[1, 0, dx], [0, 1, dy]])
            shadow = cv2.GaussianBlur(cv2.warpAffine(a, m, a.shape[::-1]), (0, 0), 2.0 + reach * 0.15)
            sp = Placement(Sprite(np.zeros(a.shape + (3,), np.float32), np.zeros_like(a), shadow), p.x - pad, p.y - pad, None)
            win = _window(sp, shape)
            if win is not None:
                ys, xs, sy, sx = win
                canvas[ys, xs] *= (1.0 - shadow_strength * shadow[sy, sx])[:, :, None]
        win = _window(p, shape)
        if win is None:
            continue
        ys, xs, sy, sx = win
        lit = shade(p.sprite, light)[sy, sx]
        a = p.sprite.alpha[sy, sx]
        canvas[ys, xs] = canvas[ys, xs] * (1.0 - a[:, :, None]) + lit * a[:, :, None]
        instance[ys, xs][a > 0.5] = i
    return canvas, instance


def footprint_box(mask: np.ndarray) -> list[float] | None:
    """Tight xyxy box (pixel-edge convention) around the True pixels of a bool [H, W] mask."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


class PhotoSynthesizer:
    """Generates :class:`SynthPhoto` samples; all randomness comes from the ``rng`` given to :meth:`sample`.

    size: (H, W) of the photos. clean_fraction: share of photos with look-alikes only.
    max_contraband / max_lookalikes: objects per photo (at least one contraband object in a
    non-clean photo, at least one look-alike in a clean one). shadows / camera: turn the cast
    shadows and the camera effects off (tests use this to compare against the bare background).
    """

    def __init__(
        self,
        size: tuple[int, int] = (480, 640),
        clean_fraction: float = 0.3,
        max_contraband: int = 3,
        max_lookalikes: int = 3,
        shadows: bool = True,
        camera: bool = True,
        backgrounds: tuple[str, ...] | None = None,
    ) -> None:
        if len(size) != 2 or min(size) < 64:
            raise ValueError(f"photo size must be (H, W) with both sides >= 64, got {size}")
        if not 0.0 <= clean_fraction <= 1.0:
            raise ValueError(f"clean_fraction must be in [0, 1], got {clean_fraction}")
        if max_contraband < 1 or max_lookalikes < 1:
            raise ValueError("max_contraband and max_lookalikes must be >= 1")
        self.size = (int(size[0]), int(size[1]))
        self.clean_fraction = clean_fraction
        self.max_contraband = max_contraband
        self.max_lookalikes = max_lookalikes
        self.shadows = shadows
        self.camera = camera
        self.backgrounds = backgrounds

    # -- scene planning -------------------------------------------------------------------
    def _pick_items(self, rng: np.random.Generator, clean: bool) -> list[ObjectType]:
        items: list[ObjectType] = []
        if not clean:
            for _ in range(int(rng.integers(1, self.max_contraband + 1))):
                # Class first, then a variant, so every class is equally frequent.
                variants = contraband_of(int(rng.integers(len(CLASS_NAMES))))
                items.append(variants[rng.integers(len(variants))])
        n_look = int(rng.integers(1 if clean else 0, self.max_lookalikes + 1))
        items += [LOOKALIKES[rng.integers(len(LOOKALIKES))] for _ in range(n_look)]
        order = rng.permutation(len(items))  # look-alikes may lie over or under contraband
        return [items[i] for i in order]

    def _make_sprite(self, rng: np.random.Generator, item: ObjectType, shrink: float) -> Sprite:
        short = min(self.size)
        long_side = max(12, int(short * rng.uniform(*item.size) * shrink))
        sprite = item.render(rng, long_side)
        sprite = transform_sprite(sprite, float(rng.uniform(0, 360)), 1.0, bool(rng.random() < 0.5))
        h, w = sprite.alpha.shape
        fit = min(1.0, 0.95 * self.size[0] / h, 0.95 * self.size[1] / w)
        if fit < 1.0:  # rotated long objects may not fit the photo
            sprite = transform_sprite(sprite, 0.0, fit)
        return sprite

    def _place(self, rng: np.random.Generator, sprite: Sprite, instance: np.ndarray, areas: list[int]) -> Placement | None:
        """Find a position that keeps every earlier object >= MIN_VISIBLE visible, or None."""
        H, W = self.size
        h, w = sprite.alpha.shape
        foot = sprite.alpha > 0.5
        total = int(foot.sum())
        if total == 0:
            return None
        mx, my = int(w * 0.25), int(h * 0.25)
        for _ in range(15):
            x = int(rng.integers(-mx, max(-mx + 1, W - w + mx)))
            y = int(rng.integers(-my, max(-my + 1, H - h + my)))
            p = Placement(sprite, x, y, None)
            win = _window(p, self.size)
            if win is None:
                continue
            ys, xs, sy, sx = win
            f = foot[sy, sx]
            if f.sum() < (1.0 - MAX_CROPPED) * total:
                continue
            under = instance[ys, xs][f]
            covered = np.bincount(under[under >= 0], minlength=len(areas))
            visible = np.bincount(instance[instance >= 0], minlength=len(areas))
            if np.all(visible - covered[: len(areas)] >= MIN_VISIBLE * np.asarray(areas)):
                instance[ys, xs][f] = len(areas)
                return p
        return None

    # -- camera -----------------------------------------------------------------------------
    def _camera(self, rng: np.random.Generator, img: np.ndarray) -> tuple[np.ndarray, dict]:
        """Exposure, colour cast, light fall-off, sensor noise, blur and JPEG: uint8 [H, W, 3]."""
        H, W = self.size
        # Exposure, light fall-off and vignette vary slowly: compute them on a coarse grid.
        gh, gw = max(2, H // 8), max(2, W // 8)
        yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
        yy, xx = (yy + 0.5) * H / gh, (xx + 0.5) * W / gw
        phi = rng.uniform(0, 2 * np.pi)
        ramp = ((xx - W / 2) * np.cos(phi) + (yy - H / 2) * np.sin(phi)) / max(H, W)
        vignette = 1.0 - rng.uniform(0.0, 0.35) * (((xx - W / 2) / W) ** 2 + ((yy - H / 2) / H) ** 2)
        gain = rng.uniform(0.82, 1.15) * (1.0 + rng.uniform(0.0, 0.4) * ramp) * vignette * 255.0
        gain = cv2.resize(gain.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
        cast = (1.0 + np.array([1.0, 0.0, -1.0], np.float32) * rng.uniform(-0.08, 0.08)).astype(np.float32)
        img = img * cast
        # Luminance noise only (one draw per pixel): chroma noise is mostly gone after JPEG anyway.
        noise = rng.standard_normal((H, W), dtype=np.float32) * np.float32(rng.uniform(0.5, 3.0))
        img = cv2.add(cv2.multiply(img, cv2.merge([gain, gain, gain])), cv2.merge([noise, noise, noise]))
        out = np.clip(img, 0, 255, out=img).astype(np.uint8)
        blur = float(rng.uniform(0.5, 1.1)) if rng.random() < 0.35 else 0.0
        if blur > 0:
            out = cv2.GaussianBlur(out, (0, 0), blur)
        quality = int(rng.integers(55, 96)) if rng.random() < 0.7 else None
        if quality is not None:
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise RuntimeError("OpenCV failed to encode a JPEG")
            out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return out, {"blur_sigma": blur, "jpeg_quality": quality}

    # -- public -------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, image_id: int = 0) -> SynthPhoto:
        """One photo with its target; deterministic given the state of ``rng``."""
        background, bg_name = render_background(rng, self.size, None if self.backgrounds is None else self.backgrounds[rng.integers(len(self.backgrounds))])
        az, el = rng.uniform(0, 2 * np.pi), np.deg2rad(rng.uniform(35, 65))
        light = np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)], np.float32)
        clean = bool(rng.random() < self.clean_fraction)
        planned = np.full(self.size, -1, np.int16)
        placements: list[Placement] = []
        kinds: list[str] = []
        areas: list[int] = []
        for item in self._pick_items(rng, clean):
            for shrink in (1.0, 0.75, 0.55):  # a smaller copy often fits where a big one does not
                sprite = self._make_sprite(rng, item, shrink)
                p = self._place(rng, sprite, planned, areas)
                if p is not None:
                    p.label = item.label
                    placements.append(p)
                    kinds.append(sprite.kind)
                    areas.append(int((planned == len(areas)).sum()))
                    break
        image, instance = compose(background, placements, light, 0.45 if self.shadows else 0.0)
        camera: dict = {}
        if self.camera:
            image_u8, camera = self._camera(rng, image)
        else:
            image_u8 = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
        objects, boxes, labels = [], [], []
        for i, (p, kind) in enumerate(zip(placements, kinds)):
            vis = instance == i
            box = footprint_box(vis) if p.label is not None else None
            if box is not None:
                boxes.append(box)
                labels.append(p.label)
            objects.append({
                "kind": kind,
                "label": p.label,
                "class": None if p.label is None else CLASS_NAMES[p.label],
                "box": box,
                "visible_fraction": float(vis.sum()) / max(1, areas[i]),
            })
        meta = {
            "modality": "photo",
            "background": bg_name,
            "clean": len(boxes) == 0,
            "light": light.tolist(),
            "camera": camera,
            "objects": objects,
            "instance_map": instance,
        }
        target = Target(np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(labels, np.int64), image_id, {"modality": "photo"})
        return SynthPhoto(image_u8, target, meta)
