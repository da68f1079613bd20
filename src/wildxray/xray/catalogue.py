"""Registries of item generators: contraband (with its class), clutter and decoys."""

from __future__ import annotations

from typing import Callable

import numpy as np

from wildxray.types import CLASS_NAMES
from wildxray.xray.content import hard_tissue as hard
from wildxray.xray.content import horn, scales, skins
from wildxray.xray.content import soft_tissue as soft
from wildxray.xray.content.builder import Item, ItemBuilder
from wildxray.xray.content.clutter import CLUTTER, CLUTTER_WEIGHTS
from wildxray.xray.content.decoys import DECOYS

Generator = Callable[[np.random.Generator, float], ItemBuilder]

#: class name -> {form: generator}. Every class comes in several forms (issue 2, section 3).
CONTRABAND: dict[str, dict[str, Generator]] = {
    "ivory": {
        "tusk": hard.tusk,
        "tusk_section": lambda rng, ppc: hard.tusk(rng, ppc, section=True),
        "carving": hard.figurine, "bangle": hard.bangle, "beads": hard.beads,
        "chopsticks": hard.chopsticks, "seals": hard.seals,
    },
    "horn": {"whole": horn.rhino_horn, "piece": horn.horn_piece, "antelope": horn.antelope_horn, "powder_vial": horn.powder_vial},
    "scales": {"sack": scales.scale_sack, "loose": scales.loose_scales},
    "skin": {"flat_hide": skins.flat_hide, "folded_hide": skins.folded_hide, "rolled_hide": skins.rolled_hide,
             "reptile_skin": skins.reptile_skin},
    "bone": {"long_bone": hard.long_bone, "skull": hard.skull,
             "claws": lambda rng, ppc: hard.claws(rng, ppc, "keratin"), "teeth": hard.teeth},
    "live_animal": {"tortoise": soft.tortoise, "lizard": soft.lizard, "snake": soft.snake,
                    "bird_in_tube": soft.bird_in_tube},
}
assert tuple(CONTRABAND) == CLASS_NAMES, "catalogue must cover the class taxonomy in order"

#: (class, form) drawn as one group box: the groups docs/internals.md defines ("Group boxes"). Their
#: generators set ``meta["group"] = True``; every other item is one object.
GROUP_FORMS = {("ivory", "beads"), ("ivory", "chopsticks"), ("scales", "sack"), ("scales", "loose")}


def make_contraband(class_name: str, rng: np.random.Generator, ppc: float, form: str | None = None) -> Item:
    """One contraband item of ``class_name`` (random form unless given), label = class index."""
    forms = CONTRABAND[class_name]
    form = form or str(rng.choice(sorted(forms)))
    return forms[form](rng, ppc).build(f"{class_name}/{form}", "contraband", CLASS_NAMES.index(class_name))


def make_clutter(rng: np.random.Generator, ppc: float, kind: str | None = None) -> Item:
    names = sorted(CLUTTER)
    if kind is None:
        w = np.array([CLUTTER_WEIGHTS.get(n, 1.0) for n in names])
        kind = names[int(rng.choice(len(names), p=w / w.sum()))]
    return CLUTTER[kind](rng, ppc).build(f"clutter/{kind}", "clutter")


def make_decoy(rng: np.random.Generator, ppc: float, kind: str | None = None) -> Item:
    kind = kind or str(rng.choice(sorted(DECOYS)))
    return DECOYS[kind](rng, ppc).build(f"decoy/{kind}", "decoy")
