"""Overlay drawing: detection boxes with "class score" labels on the scan (RGB in, RGB out).

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies), one
per class index; a black outline under each box keeps it visible on orange/green/blue X-ray
pseudo-colour.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from wildxray.types import Detections

#: Okabe-Ito colours (RGB), in class-index order (ivory, horn, scales, skin, bone, live_animal, ...).
OKABE_ITO_RGB: tuple[tuple[int, int, int], ...] = (
    (86, 180, 233),   # sky blue
    (230, 159, 0),    # orange
    (0, 158, 115),    # bluish green
    (240, 228, 66),   # yellow
    (204, 121, 167),  # reddish purple
    (213, 94, 0),     # vermillion
    (0, 114, 178),    # blue
)


def class_colour(label: int) -> tuple[int, int, int]:
    """RGB colour of a 0-based class index (cycles after seven classes)."""
    return OKABE_ITO_RGB[int(label) % len(OKABE_ITO_RGB)]


def draw_overlay(image: np.ndarray, detections: Detections, class_names: Sequence[str],
                 alarm_classes: Sequence[str] = ()) -> np.ndarray:
    """Draw boxes on a copy of ``image`` (HxWx3 uint8 RGB); boxes xyxy in the image's pixels.

    Boxes of classes that raised the alarm are drawn thicker. Returns a new HxWx3 uint8 RGB array.
    """
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    # Line width and font grow with the image so labels stay legible on large scans.
    scale = max(h, w) / 800.0
    thick = max(1, int(round(2 * scale)))
    font_scale = max(0.35, 0.5 * scale)
    alarm = set(alarm_classes)
    for box, score, label in zip(detections.boxes, detections.scores, detections.labels):
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        name = class_names[label] if 0 <= label < len(class_names) else f"class{int(label)}"
        colour = class_colour(int(label))
        t = thick * 2 if name in alarm else thick
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 0, 0), t + 2)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, t)
        text = f"{name} {float(score):.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        ty = y1 - 3 if y1 - th - base - 3 >= 0 else min(h - 1, y2 + th + 3)
        cv2.rectangle(out, (x1, ty - th - 2), (min(w - 1, x1 + tw + 2), ty + base - 1), colour, -1)
        cv2.putText(out, text, (x1 + 1, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), 1, cv2.LINE_AA)
    return out
