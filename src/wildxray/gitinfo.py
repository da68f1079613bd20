"""The git commit of the running code, recorded in checkpoints and model cards."""

from __future__ import annotations

import subprocess

from wildxray.paths import repo_root


def git_commit() -> str | None:
    """``git rev-parse HEAD`` of the checkout this package runs from, or None outside a checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo_root(), capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
