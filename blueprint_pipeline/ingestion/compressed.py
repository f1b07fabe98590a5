"""Landing files that arrive gzip-compressed (`Contact.csv.gz`): real extracts often do.

A compressed file is the CSV it holds: it matches the patterns its uncompressed name matches, its
ledger checksum is the sha256 of the CSV's bytes (so `Contact.csv` and `Contact.csv.gz` holding the
same rows are one file to the ledger), and DuckDB reads it as it is. A file rewritten without a
forgotten person's rows stays compressed.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, TextIO

SUFFIX = ".gz"
# What reading a damaged or truncated gzip stream raises.
DAMAGED = (gzip.BadGzipFile, EOFError, zlib.error)
# Header flags DuckDB's gzip reader refuses ("Unsupported GZIP archive"); Python reads them.
FTEXT, FHCRC, FCOMMENT = 0x01, 0x02, 0x10


def is_compressed(path: Path | str) -> bool:
    return str(path).lower().endswith(SUFFIX)


def plain_name(name: str) -> str:
    """The name patterns are matched on: `Contact.csv.gz` -> `Contact.csv`."""
    return name[: -len(SUFFIX)] if is_compressed(name) else name


def is_gzip(path: Path) -> bool:
    """Whether the file starts as gzip does (its magic bytes)."""
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def duckdb_reads(path: Path) -> bool:
    """Whether DuckDB can read the compressed file itself: its first member's header has none of
    the flags DuckDB refuses (gzip and pigz never set them; some libraries do)."""
    with path.open("rb") as handle:
        header = handle.read(4)
    return len(header) < 4 or not header[3] & (FTEXT | FHCRC | FCOMMENT)


def open_bytes(path: Path) -> BinaryIO:
    """The file's CSV bytes, decompressed on the fly when it is compressed."""
    return gzip.open(path, "rb") if is_compressed(path) else path.open("rb")


def open_text(path: Path, encoding: str) -> TextIO:
    """The file's CSV text, lines as they are (newline=""), decompressed when it is compressed."""
    return io.TextIOWrapper(open_bytes(path), encoding=encoding, newline="")


def read_bytes(path: Path) -> bytes:
    with open_bytes(path) as handle:
        return handle.read()


def encoded_for(path: Path, content: bytes) -> bytes:
    """The bytes to write at `path` for this CSV content: compressed again for a `.gz` name, with no
    time stamp in the gzip header, so the same rows always give the same file."""
    return gzip.compress(content, mtime=0) if is_compressed(path) else content
