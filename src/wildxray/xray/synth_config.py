"""The simulator's config: ``load_synth_config`` composes ``configs/synth.yaml`` (+ its
``configs/scanner/*`` profile); ``profile_of`` and ``randomiser_of`` turn a composed one (DictConfig or
plain dict) into its ``ScannerProfile`` and ``Randomiser``; the shipped and held-out profiles by name.
Composing any other config is ``wildxray.hydra_compose``."""

from __future__ import annotations

import functools
from typing import Any

import yaml

from wildxray.paths import config_dir
from wildxray.xray.scanner import ScannerProfile, profile_from_config


def load_synth_config(overrides: list[str] | None = None) -> Any:
    """Compose ``synth`` with Hydra's compose API (struct mode: a misspelt key raises)."""
    from wildxray.hydra_compose import compose_config

    return compose_config("synth", overrides)


def plain_node(node: Any) -> Any:
    """A DictConfig/ListConfig as plain dicts and lists (anything else as it is)."""
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(node):
            return OmegaConf.to_container(node, resolve=True)
    except ImportError:
        pass
    return node


def profile_of(cfg: Any) -> ScannerProfile:
    """The scanner profile of a composed synth config (DictConfig or plain dict)."""
    return profile_from_config(plain_node(cfg["scanner"]))


def randomiser_of(cfg: Any):
    """The composed config's ``Randomiser``, or None when ``randomise`` is false (or absent)."""
    flag = cfg.get("randomise", False)
    if not isinstance(flag, bool):
        raise ValueError(f"randomise: expected true or false, got {flag!r}")
    if not flag:
        return None
    from wildxray.xray.randomise import Randomiser

    profile = profile_of(cfg)
    if profile.held_out:
        raise ValueError(f"scanner={profile.name} is a held-out profile (evaluation only): it cannot be "
                         "the scanner of a randomised (training) stream; use randomise=false")
    if "randomisation" not in cfg:
        raise ValueError("randomise: true needs a randomisation node (configs/synth.yaml)")
    return Randomiser(plain_node(cfg["randomisation"]), scanner_profile, held_out_profiles())


def scanner_profile(name: str) -> ScannerProfile:
    """A shipped profile by name, read straight from ``configs/scanner/<name>.yaml``."""
    path = config_dir() / "scanner" / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ValueError(f"unknown scanner profile '{name}' ({path} missing); known: {known}")
    return profile_from_config(yaml.safe_load(path.read_text()))


def default_profile() -> ScannerProfile:
    return scanner_profile("default")


def shipped_profiles() -> list[str]:
    """Names of the profiles under ``configs/scanner/``."""
    return sorted(p.stem for p in (config_dir() / "scanner").glob("*.yaml"))


@functools.lru_cache(maxsize=1)
def _held_out() -> tuple[tuple[str, ScannerProfile], ...]:
    return tuple((n, scanner_profile(n)) for n in shipped_profiles() if scanner_profile(n).held_out)


def held_out_profiles() -> dict[str, ScannerProfile]:
    """The evaluation-only profiles: those whose YAML says ``held_out: true`` (the one place that
    decides it; configs/scanner/README.md lists them and a test keeps the two in step)."""
    return dict(_held_out())
