"""The per-class contact sheet draws each form of the class in a parcel, boxed in its class colour."""

from __future__ import annotations

import numpy as np
import pytest

from wildxray.types import CLASS_NAMES
from wildxray.xray.contact_sheet import BOX_COLOURS, class_sheet


def test_class_sheet_shows_each_form_boxed_in_the_class_colour():
    sheet = class_sheet("horn", 4, 0, 2, ["image.width=320", "image.height=240"])
    assert sheet.shape == (2 * 246, 2 * 326, 3) and sheet.dtype == np.uint8
    colour = np.array(BOX_COLOURS[CLASS_NAMES.index("horn")])
    for r in range(2):
        for c in range(2):  # every tile holds a box drawn in horn's colour
            tile = sheet[r * 246:(r + 1) * 246, c * 326:(c + 1) * 326]
            assert (np.abs(tile.astype(int) - colour).sum(-1) == 0).sum() > 50, (r, c)
    with pytest.raises(ValueError, match="unknown class"):
        class_sheet("unicorn", 1, 0, 1, [])
