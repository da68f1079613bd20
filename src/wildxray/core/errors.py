"""Errors raised by image reading and dataset validation.

numpy-free and torch-free: the station imports ``ImageReadError`` through ``wildxray.core.image_io``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Every ``ImageReadError.code`` that ``wildxray.core.image_io`` raises, with what it means.
IMAGE_ERROR_CODES: dict[str, str] = {
    "missing_file": "the path does not exist or is not a regular file",
    "empty_file": "the file has zero bytes",
    "not_an_image": "the bytes are not PNG, JPEG, TIFF or DICOM",
    "unsupported_format": "a recognised container with content wildxray does not decode",
    "truncated": "the file ends before the image data does",
    "corrupt": "the structure is complete but the data does not decode",
    "too_large": "the header declares more pixels than allowed (decompression-bomb guard)",
    "wrong_channels": "a channel count or layout that is neither RGB/grey 8-bit nor 16-bit dual energy",
}


class ImageReadError(Exception):
    """An image file that cannot be turned into pixels.

    Attributes: ``path`` (the file), ``code`` (a key of ``IMAGE_ERROR_CODES``), ``message``
    (what is wrong, in words).
    """

    def __init__(self, path: str | Path, code: str, message: str) -> None:
        if code not in IMAGE_ERROR_CODES:
            raise ValueError(f"unknown ImageReadError code {code!r}; known: {sorted(IMAGE_ERROR_CODES)}")
        self.path = Path(path)
        self.code = code
        self.message = message
        super().__init__(f"{self.path}: {code}: {message}")

    def __reduce__(self):  # keep the three fields through pickling (DataLoader workers)
        return (type(self), (self.path, self.code, self.message))


@dataclass(frozen=True)
class Problem:
    """One invalid record of a dataset file.

    ``kind`` is the record kind (``image``, ``annotation``, ``category``, ``file``, ``label row`` ...),
    ``record`` says which one (``id=7``, ``line 3``), ``context`` names the image file when known.
    """

    file: str
    kind: str
    record: str
    problem: str
    context: str | None = None

    def __str__(self) -> str:
        where = " ".join(part for part in (self.kind, self.record) if part)
        ctx = f" ({self.context})" if self.context else ""
        return f"{self.file}: {where}{ctx}: {self.problem}"


class DatasetError(Exception):
    """A dataset file with one or more invalid records; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("DatasetError needs at least one problem")
        self.problems = list(problems)
        files = sorted({p.file for p in self.problems})
        head = f"{len(self.problems)} invalid record(s) in {', '.join(files)}:"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))

    def __reduce__(self):
        return (type(self), (self.problems,))
