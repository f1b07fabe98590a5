"""Which role each person holds in each role template: personas, conditions, priority.

A person fits a role when every condition list the role gives matches (within a list, any entry
matches): personas (the parsed title has one of the persona's functions and seniorities, or the
normalised title equals or contains one of its spellings), title patterns (words in the
normalised title), functions, seniorities and levels (of the parsed title, title_parser.py),
departments, countries (departments and countries compare ignoring case and surrounding
spaces). A role without conditions takes nobody by rule (only by manual assignment). Among the
roles a person fits, the lowest priority wins: one role per person per template. Titles are
worked out once per distinct title, so a million persons cost a few thousand parses.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from blueprint_pipeline.buying_groups.title_parser import parse_title
from blueprint_pipeline.buying_groups.titles import contains_phrase, normalise_title
from blueprint_pipeline.config.buying_groups import BuyingGroupsConfig, Persona, Role

ROLE_COLUMNS = ["role_template", "person_id", "role", "priority", "matched_condition"]


def _folded(values: list) -> set[str]:
    # YAML reads `yes` / `true` as booleans: compare them as the text a CSV cell holds.
    return {(str(v).lower() if isinstance(v, bool) else str(v)).strip().lower() for v in values}


def _is_persona(persona: Persona, title: str | None, normalised: str) -> bool:
    parsed = parse_title(title)
    if (persona.functions or persona.seniorities) and (
        (not persona.functions or parsed.function in persona.functions)
        and (not persona.seniorities or parsed.seniority in persona.seniorities)
    ):
        return True
    spellings = (normalise_title(t) for t in persona.titles)
    return any(normalised == s or contains_phrase(normalised, s) for s in spellings)


def _role_matches(role: Role, persons: pd.DataFrame, personas: dict[str, Persona]) -> pd.DataFrame:
    """The persons fitting `role`, with a readable reason."""
    c = role.conditions
    given = (c.personas, c.title_patterns, c.departments, c.functions, c.seniorities, c.levels)
    if not any((*given, c.countries, c.custom_fields)):
        return persons.iloc[0:0].assign(matched_condition=pd.Series(dtype="string"))
    titles = persons[["title", "norm_title"]].drop_duplicates("title")
    fits = pd.Series(True, index=persons.index)
    reasons: list[pd.Series] = []
    if c.personas:
        persona_of = {
            title: next((p for p in c.personas if _is_persona(personas[p], title, normalised)), None)
            for title, normalised in zip(titles["title"], titles["norm_title"], strict=True)
        }
        persona = persons["title"].map(persona_of).astype("string")
        fits &= persona.notna()
        reasons.append("persona " + persona.fillna(""))
    if c.title_patterns:
        patterns = [normalise_title(p) for p in c.title_patterns]
        pattern_of = {
            title: next((p for p in patterns if contains_phrase(title, p)), None)
            for title in titles["norm_title"]
        }
        pattern = persons["norm_title"].map(pattern_of).astype("string")
        fits &= pattern.notna()
        reasons.append("title has '" + pattern.fillna("") + "'")
    for column, wanted, label in (
        ("department", c.departments, "department"),
        ("country", c.countries, "country"),
        ("title_function", c.functions, "function"),
        ("title_seniority", c.seniorities, "seniority"),
        ("title_level", c.levels, "level"),
    ):
        if wanted:
            value = persons[column].astype("string").fillna("").str.strip().str.lower()
            fits &= value.isin(_folded(list(wanted)))
            reasons.append(f"{label} " + persons[column].astype("string").fillna("").str.strip())
    for name, accepted in c.custom_fields.items():
        key, wanted = name.strip().lower(), _folded(accepted)
        hit = persons["custom"].map(
            lambda fields, k=key, w=wanted: next(iter(sorted(fields.get(k, set()) & w)), None)
        )
        fits &= hit.notna()
        reasons.append(f"{name} " + hit.fillna(""))
    matched = persons[fits]
    reason = reasons[0][fits]
    for more in reasons[1:]:  # column-wise concatenation: a row-wise join costs seconds per role
        reason = reason + "; " + more[fits]
    title_note = " (title '" + matched["title"].astype("string").fillna("") + "')"
    return matched.assign(matched_condition=(reason + title_note).astype("string"))


def parsed_titles(persons: pd.DataFrame) -> pd.DataFrame:
    """`persons`: person_id, title -> person_id, title_function, title_seniority, title_level
    (title_parser.py; parsed once per distinct title, spread to the persons by position)."""
    codes, titles = pd.factorize(persons["title"].astype("string").fillna(""))
    parsed = [parse_title(t) for t in titles]

    def spread(part: str) -> pd.Series:
        values = np.array([getattr(p, part) for p in parsed], dtype=object)
        return pd.Series(values[codes], index=persons.index, dtype="string")

    return pd.DataFrame(
        {
            "person_id": persons["person_id"],
            "title_function": spread("function"),
            "title_seniority": spread("seniority"),
            "title_level": spread("level"),
        }
    ).drop_duplicates("person_id")


def uses_custom_fields(config: BuyingGroupsConfig) -> bool:
    return any(r.conditions.custom_fields for t in config.role_templates.values() for r in t.roles)


def custom_fields_by_person(rows: pd.DataFrame) -> dict[str, dict[str, set[str]]]:
    """`rows`: person_id, fields (a JSON object per source record) -> per person, each field name
    (lower case) with every value any record gives it (lower case, trimmed; empties left out)."""
    found: dict[str, dict[str, set[str]]] = {}
    for person_id, text in zip(rows["person_id"], rows["fields"], strict=True):
        try:
            fields = json.loads(text)
        except (TypeError, ValueError):
            continue  # checked as JSON at load; a non-object here is no field
        if not isinstance(fields, dict):
            continue
        mine = found.setdefault(person_id, {})
        for name, value in fields.items():
            value = "" if value is None else str(value).strip().lower()
            if value:
                mine.setdefault(str(name).strip().lower(), set()).add(value)
    return found


def assign_roles(
    persons: pd.DataFrame, config: BuyingGroupsConfig, titles: pd.DataFrame | None = None
) -> pd.DataFrame:
    """`persons`: person_id, title, department, country (and `custom`: custom_fields_by_person's
    value, when roles test custom fields) -> ROLE_COLUMNS, one row per person and template they
    fit (the role with the lowest priority). `titles`: parsed_titles(persons), when the caller
    has it already."""
    persons = persons.copy()
    persons["title"] = persons["title"].astype("string").fillna("")  # one key per title, None too
    if "custom" not in persons.columns:
        persons["custom"] = [{} for _ in range(len(persons))]
    norm = {t: normalise_title(t) for t in persons["title"].unique()}
    persons["norm_title"] = persons["title"].map(norm)
    titles = parsed_titles(persons) if titles is None else titles
    persons = persons.merge(titles, on="person_id", how="left")
    found = []
    for template_name, template in config.role_templates.items():
        for role in template.roles:
            matched = _role_matches(role, persons, config.personas)
            found.append(
                matched[["person_id", "matched_condition"]].assign(
                    role_template=template_name, role=role.name, priority=role.priority
                )
            )
    if not found:
        return pd.DataFrame(columns=ROLE_COLUMNS)
    roles = pd.concat(found, ignore_index=True).sort_values(["role_template", "person_id", "priority"])
    return roles.drop_duplicates(["role_template", "person_id"])[ROLE_COLUMNS].reset_index(drop=True)
