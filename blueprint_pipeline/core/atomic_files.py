"""Files that readers see whole: the new bytes go to a temporary file of a unique name beside the
target and are renamed over it, so a kill leaves the old file or the new one, and two processes
writing the same file (two builds sharing an output folder) never rename each other's half."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def replace_file(path: Path, content: bytes, *, times_of: Path | None = None) -> None:
    """Write `content` to `path` atomically; `times_of` lends its times and mode to the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        if times_of is not None:
            shutil.copystat(times_of, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
