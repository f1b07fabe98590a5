"""Job titles as people type them -> one normalised form, for matching persona spellings and title
patterns word by word (the parsed function and seniority are title_parser.py's).

"V.P. Eng", "VP of Engineering" and "Vice President, Engineering" all become
"vice president engineering": accents and case folded, dots dropped (C.E.O. -> ceo), other
punctuation a space, abbreviations expanded, a few common forms in German, French and Spanish
translated, and filler words (of, the, and, for) dropped. Persona spellings and title patterns in
the config go through the same function, so they compare like with like.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Whole-word replacements, applied once, left to right (their output is not rescanned).
ABBREVIATIONS = {
    "ceo": "chief executive officer",
    "cfo": "chief financial officer",
    "cio": "chief information officer",
    "cto": "chief technology officer",
    "ciso": "chief information security officer",
    "cso": "chief security officer",
    "cmo": "chief marketing officer",
    "coo": "chief operating officer",
    "cdo": "chief data officer",
    "cro": "chief revenue officer",
    "vp": "vice president",
    "svp": "senior vice president",
    "evp": "executive vice president",
    "avp": "assistant vice president",
    "gm": "general manager",
    "md": "managing director",
    "dir": "director",
    "mgr": "manager",
    "mngr": "manager",
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "eng": "engineering",
    "engr": "engineer",
    "swe": "software engineer",
    "it": "information technology",
    "ict": "information technology",
    "infosec": "information security",
    "info": "information",
    "hr": "human resources",
    "mktg": "marketing",
    "ops": "operations",
    "bi": "business intelligence",
    "admin": "administrator",
    "asst": "assistant",
    "tech": "technology",
    "ai": "artificial intelligence",
    # German, French, Spanish: the forms that show up most in B2B data.
    "geschaftsfuhrer": "managing director",
    "geschaftsfuhrerin": "managing director",
    "leiter": "head",
    "leiterin": "head",
    "abteilungsleiter": "head",
    "vorstand": "executive board member",
    "ingenieur": "engineer",
    "entwickler": "developer",
    "informatik": "information technology",
    "einkauf": "procurement",
    "directeur": "director",
    "directrice": "director",
    "responsable": "head",
    "informatique": "information technology",
    "achats": "procurement",
    "ingeniero": "engineer",
    "director": "director",
    "jefe": "head",
    "gerente": "manager",
    "compras": "procurement",
}
PHRASES = (  # multi-word forms, replaced before the word pass
    ("directeur general", "chief executive officer"),
    ("director general", "chief executive officer"),
    ("pdg", "chief executive officer"),
    ("head of", "head"),
    ("v p", "vice president"),
)
RANKS = frozenset(
    {
        "vp",
        "svp",
        "evp",
        "avp",
        "vice",
        "president",
        "dir",
        "director",
        "head",
        "of",
        "chief",
        "mgr",
        "manager",
    }
)
FILLER = frozenset({"of", "the", "and", "for", "de", "des", "du", "la", "le", "y", "und", "fur"})


@lru_cache(maxsize=200_000)
def normalise_title(title: str | None) -> str:
    if not title:
        return ""
    text = unicodedata.normalize("NFKD", str(title)).encode("ascii", "ignore").decode().lower()
    text = text.replace(".", "")
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    for phrase, replacement in PHRASES:
        text = re.sub(rf"\b{phrase}\b", replacement, text)
    tokens = text.split()
    words = " ".join(_expand(w, tokens[i - 1] if i else None) for i, w in enumerate(tokens)).split()
    return " ".join(w for w in words if w not in FILLER)


def _expand(word: str, before: str | None) -> str:
    # "Eng" is engineering after a rank or first ("VP Eng", "Eng. Manager"), else the engineer
    # ("Sr Software Eng.").
    if word == "eng":
        return "engineering" if before is None or before in RANKS else "engineer"
    return ABBREVIATIONS.get(word, word)


def contains_phrase(normalised: str, phrase: str) -> bool:
    """Whether the normalised title holds the normalised phrase as whole words; "president" is
    not in "vice president" (a vice president is not the president)."""
    if not phrase:
        return False
    return re.search(rf"(?<!\bvice )\b{re.escape(phrase)}\b", normalised) is not None
