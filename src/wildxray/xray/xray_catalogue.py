"""What an X-ray scene can hold (the photo generator's is ``photo/photo_catalogue.py``): registries of
item generators for contraband (with its class and forms), clutter and decoys.

Each contraband generator draws ONE object, except the defined groups (``GROUP_FORMS``; see
docs/internals.md, "Item forms and group boxes"), so the box the scene computes around an item's
mask is one object's box. Generators are ``fn(rng, ppc) -> ItemBuilder``; the catalogue builds them.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from wildxray.types import CLASS_NAMES
from wildxray.xray.content import bone, horn, ivory, live_animals, scales, skins
from wildxray.xray.content.builder import Item, ItemBuilder
from wildxray.xray.content.clutter import CLUTTER, CLUTTER_WEIGHTS
from wildxray.xray.content.decoys import DECOYS

Generator = Callable[[np.random.Generator, float], ItemBuilder]

#: class name -> {form: generator}. Every class comes in several forms, as seizures show them.
CONTRABAND: dict[str, dict[str, Generator]] = {
    "ivory": {"tusk": ivory.tusk, "tusk_section": ivory.tusk_section, "carving": ivory.carving, "bangle": ivory.bangle,
              "beads": ivory.beads, "chopsticks": ivory.chopsticks, "seal": ivory.seal},
    "horn": {"whole": horn.rhino_horn, "piece": horn.horn_piece, "antelope": horn.antelope_horn,
             "powder_vial": horn.powder_vial},
    "scales": {"sack": scales.scale_sack, "loose": scales.loose_scales},
    "skin": {"flat_hide": skins.flat_hide, "folded_hide": skins.folded_hide, "rolled_hide": skins.rolled_hide,
             "reptile_skin": skins.reptile_skin},
    "bone": {"long_bone": bone.long_bone, "skull": bone.skull, "vertebrae": bone.vertebrae, "ribs": bone.ribs,
             "paw": bone.paw, "canine": bone.canine},
    "live_animal": {"tortoise": live_animals.tortoise, "lizard": live_animals.lizard, "snake": live_animals.snake,
                    "bird": live_animals.bird},
}
assert tuple(CONTRABAND) == CLASS_NAMES, "catalogue must cover the class taxonomy in order"

#: relative weight of a form within its class (default 1). A lone vial of powder or a single tooth
#: is seized, but carries few cues of its class: drawn less often so the class is learnt from the
#: forms that show it.
FORM_WEIGHTS: dict[str, dict[str, float]] = {
    "horn": {"powder_vial": 0.3, "whole": 1.5},
    "ivory": {"tusk": 1.5},
    "bone": {"canine": 0.5},
}

#: (class, form) drawn as one group box: the groups docs/internals.md defines. Their generators set
#: ``meta["group"] = True``; every other item is one object.
GROUP_FORMS = {("ivory", "beads"), ("ivory", "chopsticks"), ("scales", "sack"), ("scales", "loose")}


def pick_form(class_name: str, rng: np.random.Generator) -> str:
    """A form of ``class_name`` drawn by ``FORM_WEIGHTS``."""
    names = sorted(CONTRABAND[class_name])
    w = np.array([FORM_WEIGHTS.get(class_name, {}).get(n, 1.0) for n in names])
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def cropped(item: Item, margin_px: int = 1) -> Item:
    """``item`` on the smallest patch that holds its footprint (plus ``margin_px``).

    Generators leave room round a shape for its tilt, claws or tail; the composer fits items by
    their patch, so a loose patch would keep a hide or a tusk out of parcels it fits in."""
    fp = item.footprint()
    rows, cols = np.flatnonzero(fp.any(1)), np.flatnonzero(fp.any(0))
    if len(rows) == 0:
        return item
    r0, r1 = max(rows[0] - margin_px, 0), min(rows[-1] + 1 + margin_px, fp.shape[0])
    c0, c1 = max(cols[0] - margin_px, 0), min(cols[-1] + 1 + margin_px, fp.shape[1])
    parts = {k: np.ascontiguousarray(v[r0:r1, c0:c1]) for k, v in item.parts.items()}
    return Item(parts, item.kind, item.role, item.label, dict(item.meta))


def make_contraband(class_name: str, rng: np.random.Generator, ppc: float, form: str | None = None) -> Item:
    """One contraband item of ``class_name`` (random form unless given), label = class index,
    on a patch cropped to its footprint."""
    forms = CONTRABAND[class_name]
    form = form or pick_form(class_name, rng)
    return cropped(forms[form](rng, ppc).build(f"{class_name}/{form}", "contraband", CLASS_NAMES.index(class_name)))


def make_clutter(rng: np.random.Generator, ppc: float, kind: str | None = None) -> Item:
    names = sorted(CLUTTER)
    if kind is None:
        w = np.array([CLUTTER_WEIGHTS.get(n, 1.0) for n in names])
        kind = names[int(rng.choice(len(names), p=w / w.sum()))]
    return CLUTTER[kind](rng, ppc).build(f"clutter/{kind}", "clutter")


def decoy_probabilities(weights: Mapping[str, float]) -> np.ndarray:
    """``content.decoy_weights`` as probabilities over ``sorted(DECOYS)``; an unlisted kind weighs 1.0.
    Raises ValueError naming an unknown kind or a negative weight, or when every weight is zero."""
    names = sorted(DECOYS)
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"content.decoy_weights: unknown decoy kind(s) {unknown}; known: {names}")
    w = np.array([float(weights.get(n, 1.0)) for n in names])
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"content.decoy_weights must be finite, >= 0 and not all zero, got {dict(weights)}")
    return w / w.sum()


def make_decoy(rng: np.random.Generator, ppc: float, kind: str | None = None,
               probabilities: np.ndarray | None = None) -> Item:
    """A look-alike of kind ``kind``, else drawn uniformly, or by ``probabilities`` (see
    ``decoy_probabilities``; the uniform draw is kept separate so default scans stay byte-identical)."""
    if kind is None:
        names = sorted(DECOYS)
        kind = str(rng.choice(names)) if probabilities is None else names[int(rng.choice(len(names), p=probabilities))]
    return cropped(DECOYS[kind](rng, ppc).build(f"decoy/{kind}", "decoy"))  # placed like the contraband
