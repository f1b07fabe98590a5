"""The one rule by which `forget` blanks persons in text (docs/governance.md#right-to-be-forgotten).

In a text (a row of a table, a record of a file, a part of a message):

- their **email addresses** become `[forgotten]` where they stand as a whole address
  (case-insensitive; no address character before, no domain character after: forgetting
  `ann@orion.com` leaves `joann@orion.com` and `ann@orion.com.au` alone);
- their **phone numbers** likewise, as written in their records, with no digit on either side
  (`555 010 2233` leaves `555 010 22334` alone); and any number whose digits hash to a forgotten
  phone's (a run of digit groups, as a re-run meets it after its records are gone);
- their **full name** (whole words, case-insensitive), in a text that held one of those contact
  points, or in any of the platform's own messages (`names=True`: journey emails, sales alerts,
  the mailbox); by its hash too, so a re-run that no longer has the name still finds it.

The same rule for the warehouse (rows are selected in SQL with a broad pattern, then rewritten
here) and for the files, so both say the same thing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

REDACTED = "[forgotten]"
MIN_PHONE_DIGITS = 7  # shorter values ("0", "n/a", an extension) would blank unrelated text

# An address is whole when no character of an address's local part stands before it and no
# character of a domain after it (a full stop ending a sentence is not a domain's).
_EMAIL_BEFORE = r"(?<![\w.%+\-])"
_EMAIL_AFTER = r"(?![\w\-]|\.[\w\-])"
# Runs of digit groups (a phone, a date, a price): candidates for the forgotten phones' hashes.
_NUMBER_RUN = re.compile(r"\d+(?:[ \t\u00a0\u202f().\-/]{1,3}\d+)*")
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_MAX_NAME_WORDS = 4


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def phone_hash(value: str) -> str:
    """SHA-256 of a phone number's digits: stored for a forgotten phone, never the number."""
    return hashlib.sha256(digits(value).encode()).hexdigest()


def name_hash(name: str) -> str:
    """SHA-256 of a full name, case-folded, spaces collapsed: stored for a forgotten name."""
    return hashlib.sha256(" ".join(name.casefold().split()).encode()).hexdigest()


def sql_literal_pattern(values: Iterable[str]) -> str:
    """A regular expression matching any of `values` literally, in DuckDB's (RE2) and PostgreSQL's
    syntax alike: ASCII punctuation is escaped, nothing else (RE2 refuses a backslash before a
    non-ASCII character such as `’` or a non-breaking space)."""

    def escape(c: str) -> str:
        return "\\" + c if c.isascii() and not c.isalnum() and c not in " _" else c

    return "|".join("".join(escape(c) for c in v) for v in values)


class Blanker:
    """The rule above for a set of persons' contact points and names, plus forgotten phones' and
    names' hashes."""

    def __init__(
        self,
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        names: Iterable[str] = (),
        phone_hashes: Iterable[str] = (),
        name_hashes: Iterable[str] = (),
    ) -> None:
        longest = lambda values: sorted({v.strip() for v in values if v and v.strip()}, key=len, reverse=True)  # noqa: E731
        self.emails = longest(emails)
        self.phones = [p for p in longest(phones) if len(digits(p)) >= MIN_PHONE_DIGITS]
        self.names = longest(names)
        self.phone_hashes = set(phone_hashes)
        self.name_hashes = set(name_hashes)
        alternatives = [_EMAIL_BEFORE + re.escape(e) + _EMAIL_AFTER for e in self.emails]
        alternatives += [r"(?<!\d)" + re.escape(p) + r"(?!\d)" for p in self.phones]
        self._points = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None
        # The same values unanchored: a quick test that spares most texts the anchored pattern.
        plain = "|".join(re.escape(v) for v in self.emails + self.phones)
        self._plain = re.compile(plain, re.IGNORECASE) if plain else None
        spelled = [r"\s+".join(re.escape(w) for w in n.split()) for n in self.names]
        self._names = (
            re.compile("|".join(rf"(?<!\w){n}(?!\w)" for n in spelled), re.IGNORECASE) if spelled else None
        )

    def __bool__(self) -> bool:
        return bool(self._points or self._names or self.phone_hashes or self.name_hashes)

    def sql_pattern(self, *, names: bool = False) -> str | None:
        """A broad pattern (unanchored, for `regexp_matches(..., 'i')`) selecting every text this
        blanker may change; the rows it selects are rewritten by `scrub`. Hashes cannot be searched
        in SQL: they serve the files (see docs/governance.md)."""
        values = self.emails + self.phones + (self.names if names else [])
        return sql_literal_pattern(values) if values else None

    def scrub(self, text: str, *, names: bool = False) -> str:
        """The text with the contact points blanked, and the names where the rule says so."""
        cleaned, hit = self._contact_points(text)
        if hit or names:
            cleaned = self._blank_names(cleaned)
        return cleaned

    def scrub_all(self, texts: list[str | None], *, names: bool = False) -> list[str | None]:
        """Several texts of one record (the columns of a row): a contact point in any of them
        blanks the names in all of them."""
        results = [self._contact_points(t) if t is not None else (None, False) for t in texts]
        named = names or any(hit for _, hit in results)
        return [self._blank_names(t) if named and t is not None else t for t, _ in results]

    def _contact_points(self, text: str) -> tuple[str, bool]:
        cleaned = text
        if self._points is not None and self._plain.search(text):
            cleaned = self._points.sub(REDACTED, text)
        if self.phone_hashes:
            cleaned = _blank_spans(cleaned, self._hashed_phones(cleaned))
        return cleaned, cleaned != text

    def _blank_names(self, text: str) -> str:
        cleaned = self._names.sub(REDACTED, text) if self._names is not None else text
        if self.name_hashes:
            cleaned = _blank_spans(cleaned, self._hashed_names(cleaned))
        return cleaned

    def _hashed_phones(self, text: str) -> list[tuple[int, int]]:
        """Spans of digit groups whose digits hash to a forgotten phone (longest first)."""
        spans = []
        for run in _NUMBER_RUN.finditer(text):
            if sum(ch.isdigit() for ch in run.group()) < MIN_PHONE_DIGITS:
                continue  # too few digits for any phone (most numbers of a record: counts, times)
            groups = [(m.start() + run.start(), m.end() + run.start()) for m in _DIGITS.finditer(run.group())]
            spans += _windows(text, groups, self.phone_hashes)
        return spans

    def _hashed_names(self, text: str) -> list[tuple[int, int]]:
        """Spans of 2 to 4 words, separated by spaces only, whose case-folded text hashes to a
        forgotten name."""
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        spans = []
        for i in range(len(words)):
            for j in range(i + 1, min(i + _MAX_NAME_WORDS, len(words))):
                if text[words[j - 1][1] : words[j][0]].strip():
                    break  # only whitespace between the words of a name
                start, end = words[i][0], words[j][1]
                if name_hash(text[start:end]) in self.name_hashes:
                    spans.append((start, end))
        return spans


def _windows(text: str, groups: list[tuple[int, int]], hashes: set[str]) -> list[tuple[int, int]]:
    """The spans of consecutive digit groups whose digits hash into `hashes` (a leading `+` kept
    with them)."""
    spans = []
    for i in range(len(groups)):
        for j in range(len(groups) - 1, i - 1, -1):
            start, end = groups[i][0], groups[j][1]
            part = text[start:end]
            if len(digits(part)) >= MIN_PHONE_DIGITS and phone_hash(part) in hashes:
                if start and text[start - 1] == "+":
                    start -= 1
                spans.append((start, end))
                break
    return spans


def _blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span (overlapping ones merged) replaced by REDACTED."""
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [text[last:start], REDACTED]
        last = end
    return "".join(out + [text[last:]])
