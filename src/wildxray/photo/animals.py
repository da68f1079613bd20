"""Live animals as smuggled and photographed: tortoises (top view), snakes and lizards, birds.

Renderers follow :mod:`wildxray.photo.carvings`: ``render(rng, size) -> Sprite``, head towards +x.
"""

from __future__ import annotations

import numpy as np

from wildxray.photo import shapes
from wildxray.photo.noise import fractal_noise
from wildxray.photo.sprite import Sprite, build_sprite, dome
from wildxray.photo.textures import fur, mix, reptile_scales, rgb


def tortoise(rng: np.random.Generator, size: int) -> Sprite:
    ht = int(size * 0.78) + 6
    canvas = (ht, size + 6)
    cx, cy = size * 0.48 + 3, ht / 2
    ra, rb = size * 0.36, size * 0.29
    limbs = shapes.blank(canvas)
    shapes.ellipse(limbs, (cx + ra + size * 0.06, cy), (size * 0.09, size * 0.065))  # head
    for sx in (-1, 1):
        for sy in (-1, 1):
            shapes.ellipse(limbs, (cx + sx * ra * 0.62, cy + sy * rb * 0.92), (size * 0.075, size * 0.06), sx * sy * 30)
    shapes.ellipse(limbs, (cx - ra - size * 0.02, cy), (size * 0.04, size * 0.025))
    shell = shapes.ellipse(shapes.blank(canvas), (cx, cy), (ra, rb))
    tone, bump, groove = reptile_scales(rng, canvas, spacing=size * 0.16)
    star = rng.random() < 0.5
    if star:  # star tortoise: dark scutes with pale rays from each scute centre
        rays = np.clip((np.sin(bump * 9.0) - 0.4) * 2, 0, 1)
        shell_alb = mix(rays, rgb((44, 34, 24), rng, 0.1), rgb((222, 190, 96), rng, 0.06))
    else:  # growth rings parallel to each scute edge
        rings = 0.5 + 0.5 * np.sin(bump * 14.0)
        shell_alb = mix(rings * 0.5 + tone * 0.3, rgb((140, 100, 56), rng, 0.1), rgb((70, 48, 28), rng, 0.1))
    shell_alb *= (1 - 0.6 * groove)[:, :, None]
    skin_tone, skin_bump, skin_groove = reptile_scales(rng, canvas, spacing=max(3.0, size * 0.025))
    skin = mix(skin_tone * 0.4, rgb((124, 110, 84), rng, 0.1), rgb((90, 78, 58)))
    skin *= (1 - 0.4 * skin_groove)[:, :, None]
    s = (shell > 0)[:, :, None]
    alb = np.where(s, shell_alb, skin)
    height = np.maximum(dome(shell, size * 0.28, 0.5) + bump * 2.0, dome(limbs, size * 0.05) + skin_bump)
    return build_sprite(alb, height, shell | limbs, 0.2, 16, "live_animal/tortoise")


def _reptile_body(rng: np.random.Generator, size: int, legs: bool) -> tuple[np.ndarray, np.ndarray]:
    """Sinuous body (snake) or body with legs (lizard): (mask, centreline ``[P, 2]``)."""
    n = 60
    t = np.linspace(0, 1, n)
    amp = size * (rng.uniform(0.06, 0.14) if not legs else rng.uniform(0.02, 0.05))
    waves = rng.uniform(1.0, 2.2)
    w = size * (rng.uniform(0.035, 0.05) if not legs else rng.uniform(0.06, 0.08))
    ht = int(2 * amp + 8 * w) + 6
    centre = np.stack([3 + w + t * (size - 2 * w), ht / 2 + amp * np.sin(2 * np.pi * waves * t + rng.uniform(0, 6.28))], 1)
    if legs:  # long tapering tail, fat body, head
        widths = w * np.interp(t, [0, 0.45, 0.6, 0.85, 0.9, 1.0], [0.08, 0.5, 1.0, 0.8, 0.55, 0.6])
    else:
        widths = w * np.interp(t, [0, 0.25, 0.9, 0.95, 1.0], [0.15, 1.0, 0.9, 1.15, 0.7])
    mask = shapes.tube(shapes.blank((ht, size + 6)), centre, widths)
    if legs:
        for tt in (0.62, 0.84):
            i = int(tt * (n - 1))
            for side in (-1, 1):
                root = centre[i]
                foot = root + [rng.uniform(-0.3, 0.3) * w * 2, side * w * 2.2]
                shapes.tube(mask, np.linspace(root, foot, 6), np.full(6, w * 0.22))
    return mask, centre


def snake_or_lizard(rng: np.random.Generator, size: int) -> Sprite:
    legs = rng.random() < 0.45
    mask, centre = _reptile_body(rng, size, legs)
    spacing = max(2.5, size * (0.012 if not legs else 0.018))
    tone, bump, groove = reptile_scales(rng, mask.shape, spacing)
    palette = [((72, 120, 52), (190, 200, 70)), ((200, 110, 50), (150, 40, 30)), ((120, 96, 64), (60, 44, 30))]
    a, b = palette[rng.integers(len(palette))]
    x = np.arange(mask.shape[1], dtype=np.float32)[None, :] * np.ones((mask.shape[0], 1), np.float32)
    bands = np.clip((np.sin(x * 2 * np.pi / (size * rng.uniform(0.06, 0.12))) + fractal_noise(rng, mask.shape, 6, 2) - 0.9) * 3, 0, 1)
    alb = mix(bands, rgb(a, rng, 0.08), rgb(b, rng, 0.08)) * (0.85 + 0.3 * tone)[:, :, None]
    alb *= (1 - 0.35 * groove)[:, :, None]
    head = tuple(centre[-4])
    eye = shapes.ellipse(shapes.blank(mask.shape), (head[0] + 2, head[1] - 2), (1.6, 1.6))
    alb[eye > 128] = rgb((15, 12, 10))
    kind = "live_animal/lizard" if legs else "live_animal/snake"
    return build_sprite(alb, dome(mask, size * 0.04) + bump * 0.8, mask, 0.3, 20, kind)


def bird(rng: np.random.Generator, size: int) -> Sprite:
    ht = int(size * 0.62) + 6
    canvas = (ht, size + 6)
    cy = ht * 0.55
    body = shapes.blank(canvas)
    shapes.ellipse(body, (size * 0.5, cy), (size * 0.26, size * 0.16), rng.uniform(-10, 10))
    head = shapes.ellipse(shapes.blank(canvas), (size * 0.77, cy - size * 0.1), (size * 0.1, size * 0.095))
    tail = shapes.polygon(shapes.blank(canvas), np.array([[size * 0.3, cy - size * 0.05], [3, cy - size * 0.12], [3, cy + size * 0.1], [size * 0.3, cy + size * 0.06]]))
    beak = shapes.polygon(shapes.blank(canvas), np.array([[size * 0.85, cy - size * 0.14], [size * 0.97, cy - size * 0.08], [size * 0.85, cy - size * 0.05]]))
    wing = shapes.ellipse(shapes.blank(canvas), (size * 0.45, cy - size * 0.02), (size * 0.2, size * 0.09), rng.uniform(-15, 5))
    palettes = [  # body, head, wing, tail
        ((70, 160, 60), (210, 50, 40), (40, 90, 170), (60, 120, 50)),  # parrot
        ((150, 150, 150), (170, 170, 170), (110, 110, 115), (200, 40, 40)),  # grey parrot
        ((140, 100, 60), (120, 80, 50), (90, 64, 40), (80, 60, 40)),  # songbird
        ((240, 220, 60), (240, 230, 90), (200, 180, 40), (60, 160, 200)),  # yellow / blue
    ]
    pal = [rgb(c, rng, 0.06) for c in palettes[rng.integers(len(palettes))]]
    feathers, _, groove = reptile_scales(rng, canvas, spacing=max(3.0, size * 0.03), stretch=1.6)
    alb = mix(feathers * 0.3, pal[0], pal[0] * 0.8)
    for part, colour in ((tail, pal[3]), (wing, pal[2]), (head, pal[1])):
        alb = np.where((part > 0)[:, :, None], colour * (0.85 + 0.3 * feathers[:, :, None]), alb)
    alb *= (1 - 0.25 * groove)[:, :, None] * (0.9 + 0.2 * fur(rng, canvas, 1.5))[:, :, None]
    alb = np.where((beak > 0)[:, :, None], rgb((60, 55, 50)) if pal[1][0] > 0.6 else rgb((230, 160, 60)), alb)
    eye = shapes.ellipse(shapes.blank(canvas), (size * 0.8, cy - size * 0.12), (size * 0.018, size * 0.018))
    alb[eye > 128] = rgb((10, 10, 10))
    mask = body | head | tail | beak
    height = np.maximum(dome(body, size * 0.15), dome(head, size * 0.09)) + dome(wing, size * 0.03)
    return build_sprite(alb, height, shapes.ragged_alpha(mask, rng, 0.7), 0.05, 8, "live_animal/bird")
