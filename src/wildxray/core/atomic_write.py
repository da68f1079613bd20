"""Write a file so that no reader (a station, a hot folder, the viewer) ever sees half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | Path, data: bytes, fsync: bool = False) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then ``os.replace`` it into place.

    The temporary name starts with a dot and ends in ``.part``, names a hot folder ignores.
    ``fsync=True`` also survives a power cut (the data is on disk before the rename).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
