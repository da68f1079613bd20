"""Surfaces that seized goods are photographed on: wooden tabletop, cloth, woven market mat,
cardboard, plain studio sweep. Each returns float32 ``[h, w, 3]`` RGB in [0, 1], unlit (the
generator applies the scene lighting to the whole photo).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from wildxray.photo.noise import fractal_noise, streak_noise
from wildxray.photo.textures import mix, rgb, wood_grain


def tabletop(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    light, dark = (((176, 120, 70), (120, 74, 40)), ((206, 170, 120), (160, 120, 80)), ((110, 70, 44), (70, 42, 26)))[rng.integers(3)]
    plank = int(rng.uniform(0.2, 0.45) * h)
    out = np.empty((h, w, 3), np.float32)
    for y0 in range(0, h, plank):  # each plank its own grain and tone
        y1 = min(h, y0 + plank)
        tone = 1 + rng.uniform(-0.08, 0.08)
        out[y0:y1] = mix(wood_grain(rng, (y1 - y0, w), period=rng.uniform(6, 14)), rgb(light, rng, 0.04), rgb(dark, rng, 0.04)) * tone
        out[y0 : y0 + 2] *= 0.55  # the seam between planks
    return out


def cloth(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    base = rgb(((40, 50, 90), (150, 30, 40), (230, 228, 220), (60, 90, 60), (30, 30, 30), (200, 170, 120))[rng.integers(6)], rng, 0.06)
    # Row and column vectors broadcast to the full grid: separable patterns stay cheap.
    yy, xx = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    period = rng.uniform(2.5, 4.0)
    weave = 0.9 + 0.05 * (np.sin(xx * 2 * np.pi / period) + np.sin(yy * 2 * np.pi / period))
    folds = fractal_noise(rng, shape, cells=3, octaves=2)
    out = base * (weave * (0.75 + 0.45 * folds))[:, :, None]
    if rng.random() < 0.4:  # checked or striped fabric
        second = rgb(((240, 240, 240), (20, 20, 20), (220, 180, 60))[rng.integers(3)], rng, 0.05)
        band = rng.uniform(20, 60)
        check = ((xx // band + yy // band) % 2 if rng.random() < 0.5 else (yy // band) % 2).astype(np.float32) * 0.5
        out = out * (1 - check[:, :, None]) + second * (check * (0.75 + 0.45 * folds))[:, :, None]
    return out.astype(np.float32)


def market_mat(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Woven straw mat: basket-weave blocks of strands alternating direction, with dyed bands."""
    h, w = shape
    block = int(rng.uniform(14, 26))
    strands = streak_noise(rng, (h, w), across=h / 3, along=w / 40)
    strands_t = streak_noise(rng, (w, h), across=w / 3, along=h / 40).T
    yy, xx = np.arange(h)[:, None], np.arange(w)[None, :]
    horiz = ((xx // block + yy // block) % 2 == 0)
    field = np.where(horiz, strands, strands_t).astype(np.float32)
    straw = mix(field, rgb((170, 140, 80), rng, 0.08), rgb((222, 196, 130), rng, 0.06))
    gaps = ((xx % block < 1) | (yy % block < 1)).astype(np.float32)
    straw *= (1 - 0.35 * gaps)[:, :, None]
    if rng.random() < 0.6:
        dye = rgb(((170, 40, 40), (40, 110, 60), (60, 50, 140))[rng.integers(3)], rng, 0.1)
        band = ((yy // (block * int(rng.integers(3, 6)))) % 3 == 0).astype(np.float32)[:, :, None] * 0.6
        straw = straw * (1 - band) + dye * band * (0.8 + 0.4 * field[:, :, None])
    return straw.astype(np.float32)


def cardboard(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    base = rgb((184, 142, 96), rng, 0.06)
    fibres = streak_noise(rng, shape, across=h / 2, along=w / 8)
    x = np.arange(w, dtype=np.float32)[None, :]
    flutes = 0.5 + 0.5 * np.sin(x * 2 * np.pi / rng.uniform(7, 10))
    out = base * (0.88 + 0.12 * fibres + 0.04 * flutes)[:, :, None] * np.ones((h, 1, 1), np.float32)
    if rng.random() < 0.6:  # a strip of parcel tape
        y0 = int(rng.uniform(0, 0.8) * h)
        t = int(rng.uniform(0.08, 0.14) * h)
        out[y0 : y0 + t] = out[y0 : y0 + t] * 0.8 + rgb((200, 170, 110)) * 0.25
    if rng.random() < 0.5:  # printed handling marks
        for _ in range(int(rng.integers(1, 4))):
            x0, y0 = int(rng.uniform(0, 0.9) * w), int(rng.uniform(0, 0.9) * h)
            cv2.rectangle(out, (x0, y0), (x0 + int(rng.uniform(20, 60)), y0 + int(rng.uniform(6, 14))), tuple(float(v) for v in rgb((50, 40, 35))), -1)
    return out.astype(np.float32)


def studio_sweep(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A seamless paper backdrop: one colour with a soft top-to-bottom light fall-off."""
    h, w = shape
    base = rgb(((245, 245, 245), (200, 200, 200), (40, 40, 44), (90, 130, 170), (230, 220, 200))[rng.integers(5)], rng, 0.04)
    ramp = np.linspace(rng.uniform(0.75, 0.9), rng.uniform(1.0, 1.1), h, dtype=np.float32)[:, None]
    grain = fractal_noise(rng, shape, cells=4, octaves=2) * 0.04
    return (base * (ramp + grain)[:, :, None]).astype(np.float32)


BACKGROUNDS: dict[str, Callable[[np.random.Generator, tuple[int, int]], np.ndarray]] = {
    "tabletop": tabletop,
    "cloth": cloth,
    "market_mat": market_mat,
    "cardboard": cardboard,
    "studio": studio_sweep,
}


def render_background(rng: np.random.Generator, shape: tuple[int, int], name: str | None = None) -> tuple[np.ndarray, str]:
    """A background of ``shape`` (h, w): (float32 ``[h, w, 3]`` RGB in [0, 1], its name).

    ``name`` picks one of :data:`BACKGROUNDS`; ``None`` draws one at random. Unknown names raise.
    """
    if name is None:
        name = list(BACKGROUNDS)[rng.integers(len(BACKGROUNDS))]
    if name not in BACKGROUNDS:
        raise ValueError(f"unknown photo background {name!r}; choose from {sorted(BACKGROUNDS)}")
    return np.clip(BACKGROUNDS[name](rng, shape), 0.0, 1.2).astype(np.float32), name
