"""Where shipped resources live, for an editable checkout and for an installed wheel alike."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent
_REPO = _PKG.parent.parent


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.exists():
            return c
    return candidates[-1]


def config_dir() -> Path:
    """The Hydra config tree (``configs/`` in a checkout, ``wildxray/configs`` in a wheel)."""
    return _first_existing(_PKG / "configs", _REPO / "configs")


def schema_dir() -> Path:
    """JSON Schemas (``schemas/`` in a checkout, ``wildxray/schemas`` in a wheel)."""
    return _first_existing(_PKG / "schemas", _REPO / "schemas")


def repo_root() -> Path:
    """The checkout root (only meaningful in a development checkout)."""
    return _REPO
