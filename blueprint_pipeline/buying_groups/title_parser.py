"""A job title -> its function, seniority and level, whatever the word order, abbreviation or
language ("IT Director" = "Director of IT" = "Dir. IT" = "Leiter IT" = "Diretor de TI").

The words live in `title_words.yaml`; this module only reads them. A title is folded (case,
accents, dots, punctuation), then read left to right taking the longest listed phrase at each
point; a word not listed is tried as a compound ("einkaufsleiter" = einkauf + leiter) and without
a feminine ending. Seniority is the highest rank named (`individual` when none, and when the title
is an assistant's); function is the most specific department named, else what a role word implies
("engineer" -> engineering), else `other`. Level groups the seniorities.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import get_args

import yaml

from blueprint_pipeline.config.buying_groups import Function, Level, Seniority

WORDS_FILE = Path(__file__).with_name("title_words.yaml")
MAX_PHRASE_WORDS = 4
LEVELS = {
    "c_level": "executive",
    "vp": "executive",
    "head": "management",
    "director": "management",
    "manager": "management",
    "senior": "staff",
    "individual": "staff",
}
FEMININE_ENDINGS = (("in", ""), ("a", "o"), ("a", ""), ("e", ""))  # leiterin, directora, chargee


@dataclass(frozen=True)
class ParsedTitle:
    function: str
    seniority: str
    level: str


@dataclass
class _Meaning:
    ranks: set[str] = field(default_factory=set)
    departments: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    assistant: bool = False

    def add(self, other: _Meaning) -> None:
        self.ranks |= other.ranks
        self.departments |= other.departments
        self.roles |= other.roles
        self.assistant |= other.assistant


@dataclass(frozen=True)
class _Tables:
    words: dict[str, _Meaning]
    stems: tuple[str, ...]  # the single words a compound can start or end with
    seniority_order: tuple[str, ...]
    function_order: tuple[str, ...]


def fold(text: str) -> str:
    """Lower case, no accents, dots dropped (C.E.O. -> ceo), other punctuation a space."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text.replace(".", "")).strip()


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    raw = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    words: dict[str, _Meaning] = {}

    def meaning(phrase: str) -> _Meaning:
        key = fold(str(phrase))
        if not key or len(key.split()) > MAX_PHRASE_WORDS:
            raise ValueError(f"{WORDS_FILE.name}: {phrase!r} is not 1 to {MAX_PHRASE_WORDS} words")
        return words.setdefault(key, _Meaning())

    for rank, phrases in raw["ranks"].items():
        for phrase in phrases:
            meaning(phrase).ranks.add(rank)
    for function, phrases in raw["departments"].items():
        for phrase in phrases:
            meaning(phrase).departments.add(function)
    for function, phrases in raw["role_words"].items():
        for phrase in phrases:
            meaning(phrase).roles.add(function)
    for phrase in raw["assistant_of"]:
        meaning(phrase).assistant = True
    stems = tuple(w for w in words if " " not in w and len(w) >= 4)
    tables = _Tables(words, stems, tuple(raw["seniority_order"]), tuple(raw["function_order"]))
    unknown = {r for m in words.values() for r in m.ranks} - set(tables.seniority_order)
    unknown |= {f for m in words.values() for f in m.departments | m.roles} - set(tables.function_order)
    if unknown:
        raise ValueError(f"{WORDS_FILE.name}: {sorted(unknown)} are not in the vocabularies")
    if (
        not set(tables.seniority_order) == set(LEVELS) == set(get_args(Seniority))
        or set(tables.function_order) != set(get_args(Function)) - {"other"}
        or set(LEVELS.values()) != set(get_args(Level))
    ):
        raise ValueError(f"{WORDS_FILE.name}: seniority_order and function_order must list every value")
    return tables


def _masculine(word: str, words: dict[str, _Meaning]) -> str:
    """A word not listed, without its feminine ending when that form is listed ("leiterin",
    "directora", "compradora"), so phrases match too ("directora general")."""
    if word in words:
        return word
    return next((form for form in _forms(word)[1:] if form in words), word)


def _forms(word: str) -> list[str]:
    """The word, then the word without each feminine ending it may have."""
    return [word] + [word[: -len(end)] + back for end, back in FEMININE_ENDINGS if word.endswith(end)]


def _compound(word: str, tables: _Tables) -> _Meaning | None:
    """A word not listed, as listed stem + listed word (German and Dutch compounds:
    "einkaufsleiter", "softwareontwikkelaar", "systeembeheerder")."""
    if len(word) < 6:
        return None
    start = max((w for w in tables.stems if word.startswith(w) and w != word), key=len, default=None)
    ends = [w for form in _forms(word) for w in tables.stems if form.endswith(w) and w != form]
    end = max(ends, key=len, default=None)  # "einkaufsleiterin" ends with leiter(in)
    if start is None and end is None:
        return None
    found = _Meaning()
    for part in (start, end):
        if part is not None:
            found.add(tables.words[part])
    return found


def _meanings(folded: str, tables: _Tables) -> list[_Meaning]:
    words = tables.words
    tokens = [_masculine(t, words) for t in folded.split()]
    found, i = [], 0
    while i < len(tokens):
        for size in range(min(MAX_PHRASE_WORDS, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + size])
            if phrase in words:
                found.append(words[phrase])
                i += size
                break
        else:
            compound = _compound(tokens[i], tables)
            if compound is not None:
                found.append(compound)
            i += 1
    return found


@lru_cache(maxsize=200_000)
def parse_title(title: str | None) -> ParsedTitle:
    tables = _tables()
    meanings = _meanings(fold(str(title or "")), tables)
    ranks = {r for m in meanings for r in m.ranks}
    if any(m.assistant for m in meanings):
        ranks = set()
    seniority = next((s for s in tables.seniority_order if s in ranks), "individual")
    departments = {f for m in meanings for f in m.departments}
    roles = {f for m in meanings for f in m.roles}
    function = next(
        (f for f in tables.function_order if f in departments),
        next((f for f in tables.function_order if f in roles), "other"),
    )
    return ParsedTitle(function=function, seniority=seniority, level=LEVELS[seniority])
