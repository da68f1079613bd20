"""Hot-folder polling: which files in the watch folder are complete and ready to take.

A file is *ready* when it is a regular file (symlinks and folders are ignored), its name is not a
temporary one (dotfiles, ``*.part``, ``*.tmp``, ``*~`` ...), and its modification time is at least
``settle_s`` old - writers touch mtime with every write, so an unchanged mtime means the writer has
stopped. Zero-byte files wait ``empty_settle_s`` (a writer may have created the file and not yet
written). Polling (not inotify) works the same on local disks, SMB and NFS shares.

The settle rule is a guess - a writer may pause longer than ``settle_s`` - so the station checks
after reading (see ``service``):

- a file that changed while it was being predicted is predicted again;
- a file that reads as ``truncated`` (every format does when cut short) is re-read whenever it
  changes, and its error stands only once it has stayed unchanged for ``incomplete_wait_s``
  (``--incomplete-wait-ms``, default 5 s). The claim renamed the file, not its open handle, so a
  writer that pauses mid-file and goes on writing completes the claimed file.

Writers that write ``name.part`` and rename it when done are always safe, whatever their pauses.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

#: Name endings that mark a file still being written or a temporary file.
TEMP_SUFFIXES = (".part", ".tmp", ".temp", ".partial", ".crdownload", ".filepart", ".swp", "~")


def is_temporary_name(name: str) -> bool:
    """True for names a scanner or copier uses while writing (never processed)."""
    low = name.lower()
    return name.startswith((".", "~$")) or low.endswith(TEMP_SUFFIXES)


@dataclass(frozen=True)
class ReadyFile:
    """A complete file in the watch folder: its path, size (bytes) and mtime (ns)."""

    path: Path
    size: int
    mtime_ns: int


class HotFolder:
    """Lists ready files of one folder (non-recursive), oldest modification first."""

    def __init__(self, folder: str | Path, settle_s: float = 0.1, empty_settle_s: float = 2.0) -> None:
        self.folder = Path(folder)
        self.settle_s = float(settle_s)
        self.empty_settle_s = max(float(empty_settle_s), self.settle_s)

    def ready(self, now: float | None = None) -> list[ReadyFile]:
        """Ready files right now (``now``: wall-clock seconds, for tests); OSError if the folder cannot be listed."""
        now = time.time() if now is None else now
        out: list[ReadyFile] = []
        # A folder that is gone or unreadable raises: the station must see a share that went away
        # (it reports a stuck watcher), not an empty folder.
        entries = list(os.scandir(self.folder))
        for e in entries:
            if is_temporary_name(e.name):
                continue
            try:
                if not e.is_file(follow_symlinks=False):
                    continue
                st = e.stat(follow_symlinks=False)
            except FileNotFoundError:  # renamed away between listing and stat
                continue
            age = now - st.st_mtime_ns / 1e9
            if age < (self.settle_s if st.st_size > 0 else self.empty_settle_s):
                continue
            out.append(ReadyFile(Path(e.path), st.st_size, st.st_mtime_ns))
        out.sort(key=lambda f: (f.mtime_ns, f.path.name))
        return out
