"""wildxray.data.augment: letterbox geometry, boxes that stay on their object, hue kept by the X-ray preset."""

from __future__ import annotations

import numpy as np
import pytest

from wildxray.core.letterbox import boxes_to_original, letterbox
from wildxray.data.augment import PRESETS, ThicknessChange, build_transforms


def _scene(height: int, width: int, box: tuple[int, int, int, int], colour, background) -> np.ndarray:
    """HxWx3 uint8: ``background`` with a filled rectangle of ``colour`` covering pixels box[0]..box[2]-1
    (x) and box[1]..box[3]-1 (y), i.e. exactly the xyxy box ``box``."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = background
    x0, y0, x1, y1 = box
    img[y0:y1, x0:x1] = colour
    return img


def _tight_box(mask: np.ndarray) -> np.ndarray:
    """xyxy of the pixels set in ``mask`` (pixel-edge convention: a single pixel at x is [x, x+1])."""
    ys, xs = np.nonzero(mask)
    assert len(xs), "the object vanished"
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


@pytest.mark.parametrize(
    "shape", [(360, 640), (640, 360), (500, 500), (90, 120)], ids=["wide", "tall", "square", "upscaled"]
)
def test_letterbox_box_round_trip_within_one_pixel(shape: tuple[int, int]) -> None:
    h, w = shape
    box = (int(w * 0.31), int(h * 0.27), int(w * 0.74), int(h * 0.66))
    image = _scene(h, w, box, (20, 60, 220), (255, 255, 255))
    size = 320
    canvas, boxes, labels = build_transforms("none", size, train=False)(image, np.array([box], np.float32), [3])
    expected_canvas, r = letterbox(image, size)
    np.testing.assert_array_equal(canvas, expected_canvas)  # the station's own letterbox, nothing else
    assert labels.tolist() == [3] and r == size / max(h, w)
    # the box moved with the pixels: it encloses the rectangle in the canvas to within 1 canvas px
    drawn = _tight_box(canvas[:, :, 2].astype(int) - canvas[:, :, 0].astype(int) > 100)
    np.testing.assert_allclose(boxes[0], drawn, atol=1.0)
    # and maps back to the original pixels to within 1 px
    np.testing.assert_allclose(boxes_to_original(boxes, r, (h, w))[0], box, atol=1.0)
    # padding is placed bottom/right only (top-left placement)
    assert (canvas[round(h * r):, :] == 114).all() and (canvas[:, round(w * r):] == 114).all()


def _half_max(chroma: np.ndarray) -> np.ndarray:
    """Pixels above half the object's contrast: where a symmetric blur leaves the true edge."""
    return chroma > 0.5 * chroma.max()


def _blue_on_white(seed: int):
    image = _scene(300, 400, (150, 100, 250, 200), (40, 80, 200), (255, 255, 255))
    return image, lambda out: _half_max(out[:, :, 2].astype(int) - out[:, :, 0].astype(int))


def _red_on_grey(seed: int):
    image = _scene(300, 400, (150, 100, 250, 200), (220, 30, 30), (128, 128, 128))
    return image, lambda out: _half_max(out[:, :, 0].astype(int) - out[:, :, 1].astype(int))


@pytest.mark.parametrize("preset,scene", [("xray", _blue_on_white), ("photo", _red_on_grey)])
def test_augmented_box_still_tightly_encloses_the_object(preset: str, scene) -> None:
    transform = build_transforms(preset, 256, train=True, seed=1)
    image, object_mask = scene(0)
    outputs = set()
    for _ in range(40):
        out, boxes, labels = transform(image, np.array([[150, 100, 250, 200]], np.float32), np.array([4]))
        assert out.shape == (256, 256, 3) and out.dtype == np.uint8
        assert labels.tolist() == [4] and boxes.dtype == np.float32
        np.testing.assert_allclose(boxes[0], _tight_box(object_mask(out)), atol=3.0)
        outputs.add(tuple(np.round(boxes[0]).astype(int)))
    assert len(outputs) > 5  # the geometry really was augmented


def _hue_degrees(rgb: np.ndarray) -> np.ndarray:
    """HSV hue in degrees (float, not OpenCV's 0..179 bytes) of [N, 3] RGB values."""
    x = rgb.astype(np.float64)
    mx, mn = x.max(axis=1), x.min(axis=1)
    d = np.maximum(mx - mn, 1e-9)
    r, g, b = x.T
    hue = np.where(mx == r, (g - b) / d % 6, np.where(mx == g, (b - r) / d + 2, (r - g) / d + 4))
    return hue * 60.0


def _material_patches() -> tuple[np.ndarray, np.ndarray]:
    """Organic orange, mixed green and metal blue patches apart on an empty (white) belt."""
    colours = np.array([(230, 140, 40), (70, 170, 60), (50, 90, 210)], np.uint8)
    img = np.full((200, 320, 3), 255, np.uint8)
    for i, c in enumerate(colours):
        img[50:130, 20 + i * 100 : 100 + i * 100] = c
    return img, _hue_degrees(colours)


def _coloured_pixels(out: np.ndarray) -> np.ndarray:
    px = out.reshape(-1, 3).astype(int)
    return px[(px.max(axis=1) - px.min(axis=1)) >= 60]  # grey, white and padding have no hue; low chroma rounds badly


def _worst_hue_error(preset: str, draws: int) -> tuple[float, float]:
    """(largest hue error in degrees, largest change of mean intensity) over ``draws`` augmentations."""
    image, hues = _material_patches()
    transform = build_transforms(preset, 256, train=True, seed=7)
    baseline = _coloured_pixels(build_transforms("none", 256, train=False)(image, np.zeros((0, 4)), [])[0])
    baseline_value = baseline.max(axis=1).mean()
    worst, value_change = 0.0, 0.0
    for _ in range(draws):
        out, _, _ = transform(image, np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
        coloured = _coloured_pixels(out)
        diff = np.abs(_hue_degrees(coloured)[:, None] - hues[None, :])
        worst = max(worst, float(np.minimum(diff, 360 - diff).min(axis=1).max()))
        value_change = max(value_change, abs(float(coloured.max(axis=1).mean() - baseline_value)))
    return worst, value_change


def test_xray_preset_never_changes_hue() -> None:
    worst, value_change = _worst_hue_error("xray", draws=30)
    assert worst < 4.0, f"the xray preset moved a hue by {worst:.1f} degrees"
    assert value_change > 10  # thickness/noise did change intensities: hue held through real changes


def test_hue_check_detects_colour_jitter() -> None:
    # The same measurement on the photo preset (hue jitter) must see the shift, or the test above proves nothing.
    worst, _ = _worst_hue_error("photo", draws=30)
    assert worst > 6.0


def test_thickness_change_keeps_channel_ratios_and_follows_beer_lambert() -> None:
    rgb = np.array([[[200, 100, 50], [100, 50, 25], [0, 0, 0], [255, 255, 255]]], np.uint8)
    op = ThicknessChange(exponent_range=(2.0, 2.0), p=1.0)
    out = op.apply(rgb, exponent=2.0).astype(float)
    v = rgb.max(axis=2) / 255.0
    np.testing.assert_allclose(out.max(axis=2), np.rint(255 * v**2))  # T -> T**k for k times the thickness
    np.testing.assert_allclose(out[0, 0] / out[0, 0, 0], [1, 0.5, 0.25], atol=0.02)  # same material colour
    assert out[0, 2].tolist() == [0, 0, 0] and out[0, 3].tolist() == [255, 255, 255]


def test_unknown_preset_raises_with_the_known_names() -> None:
    with pytest.raises(ValueError, match=r"unknown augmentation preset 'xary'.*\['none', 'photo', 'xray'\]"):
        build_transforms("xary", 256, train=True)
    assert set(PRESETS) == {"xray", "photo", "none"}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_clean_image_passes_through(preset: str) -> None:
    image = _scene(100, 140, (10, 10, 20, 20), (0, 0, 0), (200, 200, 200))
    out, boxes, labels = build_transforms(preset, 128, train=True, seed=0)(image, np.zeros((0, 4)), np.zeros(0))
    assert out.shape == (128, 128, 3) and boxes.shape == (0, 4) and labels.shape == (0,)
    assert boxes.dtype == np.float32 and labels.dtype == np.int64


def test_degenerate_boxes_are_dropped_with_their_labels_and_overhangs_clipped() -> None:
    image = np.full((100, 200, 3), 255, np.uint8)
    boxes = np.array([[10, 10, 10.5, 50], [-5, 20, 40, 120], [100, 30, 100.4, 30.2], [150, 60, 190, 70]], np.float32)
    out, kept, labels = build_transforms("none", 100, train=False)(image, boxes, np.array([0, 1, 2, 3]))
    assert labels.tolist() == [1, 3]  # 0.5 px wide and 0.4 x 0.2 px boxes are gone, not their neighbours
    np.testing.assert_allclose(kept, [[0, 10, 20, 50], [75, 30, 95, 35]])
    # a box that shrinks below 1 px only in the letterboxed frame is dropped too
    _, kept, labels = build_transforms("none", 50, train=False)(image, np.array([[0, 0, 3, 30]]), np.array([5]))
    assert labels.tolist() == [] and kept.shape == (0, 4)


def test_eval_mode_ignores_the_preset_and_seeds_reproduce() -> None:
    image, _ = _material_patches()
    box = np.array([[20, 50, 100, 130]], np.float32)
    eval_out = build_transforms("xray", 160, train=False)(image, box, [0])
    np.testing.assert_array_equal(eval_out[0], letterbox(image, 160)[0])
    a = [build_transforms("xray", 160, train=True, seed=3)(image, box, [0])[1] for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])
    t = build_transforms("xray", 160, train=True, seed=3)
    first = [t(image, box, [0])[1].tolist() for _ in range(8)]
    t.set_seed(3)
    assert [t(image, box, [0])[1].tolist() for _ in range(8)] == first


def test_bad_input_is_refused() -> None:
    t = build_transforms("none", 64, train=False)
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        t(np.zeros((10, 10), np.uint8), np.zeros((0, 4)), np.zeros(0))
    with pytest.raises(ValueError, match="2 boxes but 1 labels"):
        t(np.zeros((10, 10, 3), np.uint8), np.ones((2, 4)), np.zeros(1))
