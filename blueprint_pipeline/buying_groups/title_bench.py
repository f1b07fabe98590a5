"""`blueprint bench --titles`: the title parser against the labelled title set
(blueprint_pipeline_tests/fixtures/titles: a development half and a held-out half written and
committed before the parser, never tuned on). A title counts as right when both its function and
its seniority are."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from blueprint_pipeline.buying_groups.title_parser import parse_title
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import PROJECT_DIR

LABELLED_TITLES = PROJECT_DIR / "blueprint_pipeline_tests" / "fixtures" / "titles"
HALVES = ("development", "held_out")
COLUMNS = ("title", "function", "seniority", "language")


@dataclass
class TitleScores:
    half: str
    titles: int = 0
    function_right: int = 0
    seniority_right: int = 0
    both_right: int = 0
    by_language: Counter = field(default_factory=Counter)  # titles per language
    both_by_language: Counter = field(default_factory=Counter)
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # title, expected, parsed

    def share(self, count: int) -> float:
        return count / self.titles if self.titles else 0.0

    @property
    def accuracy(self) -> float:
        """Function and seniority both right."""
        return self.share(self.both_right)


def read_labelled(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ConfigError(f"{path}: columns {reader.fieldnames}; expected {list(COLUMNS)}")
        rows = list(reader)
    for number, row in enumerate(rows, start=2):
        empty = [c for c in COLUMNS if not (row[c] or "").strip()]
        if empty:
            raise ConfigError(f"{path} row {number}: field {empty[0]} is empty")
    return rows


def score_titles(half: str, folder: Path = LABELLED_TITLES) -> TitleScores:
    scores = TitleScores(half)
    for row in read_labelled(folder / f"{half}.csv"):
        parsed = parse_title(row["title"])
        function_ok = parsed.function == row["function"]
        seniority_ok = parsed.seniority == row["seniority"]
        scores.titles += 1
        scores.function_right += function_ok
        scores.seniority_right += seniority_ok
        scores.both_right += function_ok and seniority_ok
        scores.by_language[row["language"]] += 1
        scores.both_by_language[row["language"]] += function_ok and seniority_ok
        if not (function_ok and seniority_ok):
            expected = f"{row['function']}/{row['seniority']}"
            scores.misses.append((row["title"], expected, f"{parsed.function}/{parsed.seniority}"))
    return scores


def render(scores: list[TitleScores]) -> str:
    lines = ["title parser against the labelled title set (function and seniority)"]
    for s in scores:
        languages = ", ".join(
            f"{lang} {s.both_by_language[lang]}/{n}" for lang, n in sorted(s.by_language.items())
        )
        lines += [
            f"  {s.half}: {s.titles} titles; function {s.share(s.function_right):.1%}, "
            f"seniority {s.share(s.seniority_right):.1%}, both {s.accuracy:.1%}",
            f"    both right per language: {languages}",
            *(f"    miss: {title!r} expected {want}, parsed {got}" for title, want, got in s.misses),
        ]
    return "\n".join(lines)


def run_title_bench() -> str:
    return render([score_titles(half) for half in HALVES])
