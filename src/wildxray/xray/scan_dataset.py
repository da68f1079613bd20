"""``write_scan_dataset``: the one call behind ``wildxray synth`` (the CLI parses, the notebooks and
tests call this): a synthetic scan set, or threats projected into your own clean parcel scans."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, which a container or taskset narrows)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity (macOS, Windows)
        return os.cpu_count() or 1


def write_scan_dataset(out: Path | str, n: int, seed: int, cfg: Any, *, clean_parcels: Path | str | None = None,
                       threats: Path | str | None = None, workers: int | None = None,
                       progress: bool = True) -> dict:
    """Write a COCO scan set to ``out`` from a composed synth config ``cfg``; returns its summary.

    Without ``clean_parcels``: ``n`` simulated scans (``xray.synth.write_dataset``) drawn by
    ``workers`` processes (default: every usable core; the files are the same for any number).
    With ``clean_parcels`` and ``threats`` (``DIR/<class>/*.tiff``): ``n`` scans of those threats
    projected into those parcels (``xray.tip_dataset.write_projected_dataset``, one process).
    Same seed and config, byte-identical files.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if workers is not None and workers <= 0:
        raise ValueError(f"workers must be positive, got {workers}")
    if (clean_parcels is None) != (threats is None):
        raise ValueError("clean_parcels and threats go together")
    # imported here, not at the top: `wildxray synth --help` stays fast (usable_cores is all it needs)
    if clean_parcels is not None:
        from wildxray.xray.tip_dataset import write_projected_dataset

        return write_projected_dataset(out, clean_parcels, threats, n, seed, cfg, progress=progress)
    from wildxray.xray.synth import write_dataset

    return write_dataset(out, n, seed, cfg, progress=progress, workers=workers or usable_cores())
