"""Shared, module-cheap fixtures: the composed synth config at a small image size."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_cfg():
    from wildxray.xray.synth_config import load_synth_config

    return load_synth_config(["image.width=320", "image.height=240"])


@pytest.fixture(scope="session")
def synthesizer(small_cfg):
    from wildxray.xray.synth import ScanSynthesizer

    return ScanSynthesizer(small_cfg)


@pytest.fixture(scope="session")
def profile():
    from wildxray.xray.synth_config import default_profile

    return default_profile()
