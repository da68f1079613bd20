"""What the photo generator can draw: every renderer, its label and its size range.

Sizes are the object's long side as a fraction of the photo's shorter side. Labels are 0-based
indices into :data:`wildxray.types.CLASS_NAMES`; look-alikes have ``label=None`` and never get a box.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from wildxray.photo import animals, carvings, hides, lookalikes
from wildxray.photo.sprite import Sprite
from wildxray.types import CLASS_NAMES

Renderer = Callable[[np.random.Generator, int], Sprite]


@dataclass(frozen=True)
class ObjectType:
    """One kind of object: ``render(rng, long_side_px) -> Sprite`` drawn at ``size`` x the photo's short side."""

    name: str
    render: Renderer
    label: int | None
    size: tuple[float, float]


def _label(name: str) -> int:
    return CLASS_NAMES.index(name)


CONTRABAND: tuple[ObjectType, ...] = (
    ObjectType("ivory/bangle", carvings.ivory_bangle, _label("ivory"), (0.2, 0.34)),
    ObjectType("ivory/beads", carvings.ivory_beads, _label("ivory"), (0.25, 0.4)),
    ObjectType("ivory/chopsticks", carvings.ivory_chopsticks, _label("ivory"), (0.4, 0.7)),
    ObjectType("ivory/tusk_section", carvings.ivory_tusk, _label("ivory"), (0.45, 0.8)),
    ObjectType("ivory/carving", carvings.ivory_carving, _label("ivory"), (0.25, 0.45)),
    ObjectType("ivory/slice", carvings.ivory_slice, _label("ivory"), (0.15, 0.28)),
    ObjectType("horn/whole", carvings.rhino_horn, _label("horn"), (0.3, 0.55)),
    ObjectType("horn/pieces", carvings.horn_pieces, _label("horn"), (0.28, 0.45)),
    ObjectType("scales/pile", hides.scale_pile, _label("scales"), (0.35, 0.62)),
    ObjectType("skin/fur", hides.flat_fur, _label("skin"), (0.5, 0.85)),
    ObjectType("skin/reptile", hides.reptile_hide, _label("skin"), (0.5, 0.9)),
    ObjectType("skin/rolled", hides.rolled_skin, _label("skin"), (0.35, 0.6)),
    ObjectType("bone/long_bone", carvings.long_bone, _label("bone"), (0.35, 0.6)),
    ObjectType("bone/skull", carvings.skull, _label("bone"), (0.3, 0.45)),
    ObjectType("bone/claws", carvings.claws, _label("bone"), (0.28, 0.42)),
    ObjectType("bone/teeth", carvings.teeth, _label("bone"), (0.24, 0.36)),
    ObjectType("live_animal/tortoise", animals.tortoise, _label("live_animal"), (0.25, 0.45)),
    ObjectType("live_animal/reptile", animals.snake_or_lizard, _label("live_animal"), (0.4, 0.75)),
    ObjectType("live_animal/bird", animals.bird, _label("live_animal"), (0.25, 0.4)),
)

LOOKALIKES: tuple[ObjectType, ...] = (
    ObjectType("lookalike/wood_carving", lookalikes.wood_carving, None, (0.25, 0.45)),
    ObjectType("lookalike/bangle", lookalikes.bangle, None, (0.2, 0.34)),
    ObjectType("lookalike/leather", lookalikes.leather_goods, None, (0.3, 0.55)),
    ObjectType("lookalike/plush", lookalikes.plush_toy, None, (0.25, 0.45)),
    ObjectType("lookalike/ceramic", lookalikes.ceramic, None, (0.2, 0.4)),
)


def contraband_of(label: int) -> tuple[ObjectType, ...]:
    """The contraband object types drawn for one class label."""
    found = tuple(t for t in CONTRABAND if t.label == label)
    if not found:
        raise ValueError(f"no photo renderer for label {label} ({CLASS_NAMES[label] if 0 <= label < len(CLASS_NAMES) else '?'})")
    return found
