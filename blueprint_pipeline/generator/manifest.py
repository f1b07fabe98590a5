"""What the generator wrote, beside the landing files: its seed, the day its data ends, and the
rows it spoils on purpose (a real export's flaws), by the check each one fails.

A build reads it (when present) to say which failed checks are the generator's doing, and why.
It sits at the landing folder's top, where no source object looks for files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

MANIFEST_FILE = "generator.json"


@dataclass(frozen=True)
class DeliberateDefect:
    check: str  # "<asset>.<check name>", as the build summary names a check
    rows: int
    why: str


def write_manifest(
    landing: Path, seed: int, end: datetime, profile: str, defects: list[DeliberateDefect]
) -> Path:
    path = landing / MANIFEST_FILE
    body = {
        "written_by": "blueprint generate",
        "seed": seed,
        "profile": profile,
        "data_ends": end.isoformat(),
        "deliberate_defects": [asdict(d) for d in defects if d.rows],
    }
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return path


def deliberate_defects(landing: Path) -> dict[str, DeliberateDefect]:
    """The manifest's defects by check, or none when the landing folder holds no (readable) manifest:
    real data comes without one, and a summary never fails for want of it."""
    try:
        body = json.loads((landing / MANIFEST_FILE).read_text(encoding="utf-8"))
        found = [DeliberateDefect(d["check"], int(d["rows"]), d["why"]) for d in body["deliberate_defects"]]
        return {defect.check: defect for defect in found}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
