"""A contact sheet of generated photos with their boxes drawn and labelled (for the README).

Contraband boxes are drawn in a colour per class with the class name; look-alikes, which carry
no box, get a small grey caption at their centre so a reader can see what the detector must ignore.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from wildxray.photo.dataset import iter_photos
from wildxray.photo.generator import PhotoSynthesizer, SynthPhoto
from wildxray.types import CLASS_NAMES

CLASS_COLOURS: dict[str, tuple[int, int, int]] = {  # RGB
    "ivory": (255, 60, 60),
    "horn": (255, 150, 0),
    "scales": (255, 230, 0),
    "skin": (0, 220, 90),
    "bone": (0, 190, 255),
    "live_animal": (220, 60, 255),
}


def draw_photo(photo: SynthPhoto, scale: float = 1.0) -> np.ndarray:
    """The photo (resized by ``scale``) with boxes and captions: uint8 [h, w, 3] RGB."""
    img = photo.image
    if scale != 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    img = np.ascontiguousarray(img)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for obj in photo.meta["objects"]:
        if obj["box"] is not None:
            continue
        ys, xs = np.nonzero(photo.meta["instance_map"] == photo.meta["objects"].index(obj))
        if len(xs):
            text = obj["kind"].split("/")[1].replace("_", " ")
            org = (int(xs.mean() * scale) - 4 * len(text), int(ys.mean() * scale))
            cv2.putText(img, text, org, font, 0.38, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(img, text, org, font, 0.38, (200, 200, 200), 1, cv2.LINE_AA)
    for box, label in zip(photo.target.boxes * scale, photo.target.labels):
        name = CLASS_NAMES[int(label)]
        colour = CLASS_COLOURS.get(name, (255, 255, 255))
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), colour, 2, cv2.LINE_AA)
        (tw, th), _ = cv2.getTextSize(name, font, 0.45, 1)
        ty = max(th + 4, y0)
        cv2.rectangle(img, (x0, ty - th - 4), (x0 + tw + 4, ty), colour, -1)
        cv2.putText(img, name, (x0 + 2, ty - 3), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def make_contact_sheet(
    out_path: str | Path, n: int = 9, seed: int = 0, cols: int = 3, size: tuple[int, int] = (480, 640), tile_width: int = 320
) -> Path:
    """Write a PNG grid of ``n`` photos of ``seed`` with boxes; returns ``out_path``."""
    synth = PhotoSynthesizer(size=size)
    scale = tile_width / size[1]
    tiles = [draw_photo(p, scale) for p in iter_photos(seed, synth, n)]
    th, tw = tiles[0].shape[:2]
    rows = -(-n // cols)
    gap = 6
    sheet = np.full((rows * (th + gap) + gap, cols * (tw + gap) + gap, 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[gap + r * (th + gap) : gap + r * (th + gap) + th, gap + c * (tw + gap) : gap + c * (tw + gap) + tw] = tile
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"could not write contact sheet {out}")
    return out
