"""An activation's folder of files, swapped in whole (docs/activation.md#re-runs-and-kills).

The files are written into a hidden folder beside the target, then the target is moved aside and
the new folder renamed into its place: a reader (or a kill) sees the old folder whole or the new
one whole, never a folder half emptied. Leftovers of a killed write are removed by the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from blueprint_pipeline.faults import crash_point


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
    if folder.exists():
        os.replace(folder, aside)
    os.replace(incoming, folder)
    shutil.rmtree(aside, ignore_errors=True)
