"""Threat image projection: multiplication in transmission space, placement, and agreement with
rendering parcel and threat together."""

from __future__ import annotations

import numpy as np
import pytest

from wildxray.xray.catalogue import make_contraband
from wildxray.xray.scene import PlacedItem, Scene
from wildxray.xray.tip import choose_position, crop_threat, parcel_extent, project_threat, projected_box


def test_projection_multiplies_transmissions_and_clips_to_image():
    parcel = np.full((20, 30, 2), 32768, np.uint16)
    threat = np.full((6, 8, 2), 65535, np.uint16)
    threat[2:4, 2:6] = (16384, 8192)  # T = 0.25, 0.125
    out = project_threat(parcel, threat, (26, 17))  # partly outside: kept only where it overlaps
    assert out[19, 28, 0] == pytest.approx(32768 * 0.25, abs=1) and out[19, 28, 1] == pytest.approx(32768 * 0.125, abs=1)
    assert out[18, 27, 0] == 32768  # air in the threat patch leaves the parcel unchanged
    assert projected_box(threat, (26, 17), parcel.shape) == [28.0, 19.0, 30.0, 20.0]
    with pytest.raises(ValueError, match="does not overlap"):
        project_threat(parcel, threat, (100, 100))
    with pytest.raises(ValueError, match="uint16"):
        project_threat(parcel.astype(np.float32), threat, (0, 0))


def test_tip_matches_rendering_both_together_within_noise(synthesizer):
    """A skull projected into a parcel vs parcel and skull rendered in one scene.

    Multiplying transmissions ignores that the parcel has already hardened the beam, so TIP
    over-attenuates slightly (measured over 5 parcels: median 0.04-0.7 sigma of one scan's quantum
    noise in the high channel, 0.1-1.7 sigma in the low channel; the tail is behind dense content).
    Bounds: high channel median < 1 sigma and >= 95 % of pixels within 3 sigma; low channel
    median < 2 sigma and >= 85 % within 3 sigma; median -ln T error < 3 %.
    """
    synth = synthesizer
    rng = np.random.default_rng(4)
    scene = synth.draw_scene(rng)
    while scene.contraband():  # a clean parcel to project into
        scene = synth.draw_scene(rng)
    skull = make_contraband("bone", np.random.default_rng(5), synth.ppc, "skull")
    at = (40, 30)
    placed = PlacedItem(skull, *at)
    parcel = synth.render(scene, None, noise=False)
    alone = synth.render(Scene(synth.width, synth.height, synth.ppc, [placed]), None, noise=False)
    both = synth.render(Scene(synth.width, synth.height, synth.ppc, scene.items + [placed]), None, noise=False)
    projected = project_threat(parcel, alone, (0, 0))
    mask = alone[..., 1] < 65000
    assert mask.sum() > 500
    t_both = both[mask].astype(np.float64) / 65535
    t_tip = projected[mask].astype(np.float64) / 65535
    for ch, quanta in enumerate((synth.profile.photons_high, synth.profile.photons_low)):
        sigma = np.sqrt(np.maximum(t_both[:, ch], 1e-6) / quanta)  # Poisson std of a transmission
        z = np.abs(t_tip[:, ch] - t_both[:, ch]) / sigma
        median_max, share_min = ((1.0, 0.95), (2.0, 0.85))[ch]
        assert np.median(z) < median_max and (z < 3).mean() >= share_min, (ch, np.median(z), (z < 3).mean())
        ok = t_both[:, ch] > 1e-3
        rel = np.log(t_tip[ok, ch]) / np.log(t_both[ok, ch])
        assert abs(np.median(rel) - 1) < 0.03  # measured 0.75 % (high), 2.4 % (low)


def test_threat_is_placed_inside_the_parcel_extent(synthesizer):
    rng = np.random.default_rng(1)
    parcel = synthesizer.sample(rng).raw
    item = make_contraband("ivory", rng, synthesizer.ppc, "bangle")
    raw = synthesizer.render(Scene(item.shape[1] + 10, item.shape[0] + 10, synthesizer.ppc,
                                   [PlacedItem(item, 5, 5)]), None, noise=False)
    threat = crop_threat(raw)
    assert threat.shape[0] < raw.shape[0] and (threat[0, 0] == 65535).all()
    x0, y0, x1, y1 = parcel_extent(parcel)
    for _ in range(10):
        at = choose_position(rng, parcel, threat)
        bx0, by0, bx1, by1 = projected_box(threat, at, parcel.shape)
        assert x0 <= bx0 and y0 <= by0 and bx1 <= x1 and by1 <= y1
