"""Hydra composition of any config under ``configs/`` (``compose_config("train", [...])``) outside
``@hydra.main``: tests, notebooks, the demo, benchmarks. The simulator's config turned into objects
is ``xray.synth_config``."""

from __future__ import annotations

from omegaconf import DictConfig

from wildxray.paths import config_dir


def compose_config(config_name: str, overrides: list[str] | None = None) -> DictConfig:
    """Compose ``configs/<config_name>.yaml`` with overrides, inside or outside a running Hydra app."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        # Inside @hydra.main the search path is already ours; composing again is allowed.
        return compose(config_name=config_name, overrides=list(overrides or []))
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides or []))
