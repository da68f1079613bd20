"""Composing the synthesis config (``configs/synth.yaml`` + ``configs/scanner/*``) with Hydra."""

from __future__ import annotations

from typing import Any

import yaml

from wildxray.paths import config_dir
from wildxray.xray.scanner import ScannerProfile, profile_from_config


def load_synth_config(overrides: list[str] | None = None) -> Any:
    """Compose ``synth`` with Hydra's compose API (struct mode: a misspelt key raises)."""
    from wildxray.config import compose_config

    return compose_config("synth", overrides)


def profile_of(cfg: Any) -> ScannerProfile:
    """The scanner profile of a composed synth config (DictConfig or plain dict)."""
    node = cfg["scanner"]
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(node):
            node = OmegaConf.to_container(node, resolve=True)
    except ImportError:
        pass
    return profile_from_config(node)


def scanner_profile(name: str) -> ScannerProfile:
    """A shipped profile by name, read straight from ``configs/scanner/<name>.yaml``."""
    path = config_dir() / "scanner" / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ValueError(f"unknown scanner profile '{name}' ({path} missing); known: {known}")
    return profile_from_config(yaml.safe_load(path.read_text()))


def default_profile() -> ScannerProfile:
    return scanner_profile("default")
