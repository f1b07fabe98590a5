"""An activation's folder of files, swapped in whole (docs/activation.md#re-runs-and-kills).

The files are written into a hidden folder beside the target, then put in its place in one step:
a new folder is renamed into place, an existing one (a re-run at the same as-of) is exchanged with
it (Linux `renameat2(RENAME_EXCHANGE)`), so a reader or a kill sees the old folder whole or the new
one whole, never a folder half emptied nor no folder. Where the system or file system cannot
exchange two folders, the old one is renamed aside and the new one into its place: for the moment
between the two renames there is no folder, and a kill then leaves it missing until the next run
at that as-of writes it (its state is committed only after the swap). Leftovers of a killed write
are removed by the next one.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
from pathlib import Path

from blueprint_pipeline.core.faults import crash_point

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2  # <fcntl.h>, <linux/fs.h>


def _exchange(a: Path, b: Path) -> bool:
    """Swaps two existing paths in one step; False where the system cannot (then nothing moved)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not Linux, or a C library without renameat2
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def described(files: dict[str, bytes]) -> dict[str, dict]:
    """Each file's size and SHA-256, for the manifest."""
    return {n: {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in files.items()}


def write_folder(folder: Path, files: dict[str, bytes], manifest: dict) -> None:
    """`folder` holds exactly `files` and `manifest.json` (with the files' sizes and hashes)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    incoming = folder.parent / f".{folder.name}.incoming"
    aside = folder.parent / f".{folder.name}.old"
    for leftover in (incoming, aside):
        shutil.rmtree(leftover, ignore_errors=True)
    incoming.mkdir()
    for name, content in files.items():
        (incoming / name).write_bytes(content)
    manifest = manifest | {"files": described(files)}
    (incoming / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    crash_point("activation_files")
    if not folder.exists():
        os.replace(incoming, folder)
    elif _exchange(incoming, folder):
        shutil.rmtree(incoming, ignore_errors=True)  # it holds the old folder now
    else:
        os.replace(folder, aside)
        os.replace(incoming, folder)
        shutil.rmtree(aside, ignore_errors=True)
