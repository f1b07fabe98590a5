"""Cleaned records kept between builds (identity/matching/cleaned.py), on both warehouses: a build
cleans only new and changed live records, and the records the warehouse builds from the kept
cleaning (records.py) are exactly what cleaning them all again gives (the same frame, so the same
fingerprints: no record looks changed by the round trip).

Hand-worked cases, int_identity_nodes:
  m1 Bill Watson, "(415) 555-0100" in USA, BILL@Acme.com   (nickname forms, phone, casing)
  m2 all fields missing or blank                            (nulls and empty text clean the same)
  m3 " José-Luis " O'Neil, Paris, France, info@acme.fr      (accents, punctuation; a shared mailbox)
  m4 not live                                                (never cleaned, never kept)
Build 1: nothing kept, m1-m3 cleaned. Build 2, nothing changed: all three kept, none cleaned.
Build 3: m3's city changes, m5 arrives, m1 stops being live: m3 and m5 cleaned, m2 kept; the
table then holds m2, m3, m5. A new country alias (another cleaning key) cleans every record again.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from blueprint_pipeline.identity.matching import cleaned, records
from blueprint_pipeline.identity.matching.incremental import fingerprints
from blueprint_pipeline.identity.matching.model import as_arrow
from blueprint_pipeline.identity.matching.prepare import clean_records, cleaning_key, prepare

COUNTRIES = {"usa": "United States", "us": "United States", "france": "France", "fr": "France"}
PERSONAL = {"gmail.com"}
SHARED = frozenset({"info@acme.fr"})
NODES = [
    ("m1", "BILL@Acme.com", "Bill", "Watson", "Acme Inc.", "VP of IT", "Boston", "USA", "(415) 555-0100", None, True),
    ("m2", None, "", None, None, " ", None, None, None, "", True),
    ("m3", "info@acme.fr", " José-Luis ", "O'Neil", "Acme SAS", "Directeur", "Paris", "France", None, "06 12 34 56 78", True),
    ("m4", "gone@x.com", "Ann", "Old", None, None, None, None, None, None, False),
]  # fmt: skip
COLUMNS = ("source_key", "email", "first_name", "last_name", "company", "title", "city", "country",
           "phone", "mobile_phone", "is_live")  # fmt: skip


def _nodes(session, rows, labels: list[str] | None = None) -> None:
    """int_identity_nodes of `rows` (COLUMNS), with a column `label` when `labels` are given."""
    session.execute("drop table if exists int_identity_nodes")
    session.execute(
        "create table int_identity_nodes ("
        + ", ".join(f"{c} varchar" for c in COLUMNS[:-1])
        + ", is_live boolean"
        + (", label varchar)" if labels else ")")
    )
    for row, label in zip(rows, labels or [None] * len(rows), strict=True):
        values = (*row, label) if labels else row
        names = ", ".join(f"$v{i}" for i in range(len(values)))
        session.execute(
            f"insert into int_identity_nodes values ({names})", {f"v{i}": v for i, v in enumerate(values)}
        )


def _build(
    warehouse, rows, countries=COUNTRIES, full_refresh=False
) -> tuple[pa.Table, pd.DataFrame, list[str]]:
    """One matching build's cleaning: (the records the warehouse then builds from the kept
    cleaning, what prepare() on every live record gives, the keys cleaned)."""
    with warehouse.transaction() as session:
        _nodes(session, rows)
        session.replace_table(
            "identity_shared_mailboxes", pd.DataFrame({"email": sorted(SHARED)}, dtype=object)
        )
        session.replace_table(
            "identity_personal_domains", pd.DataFrame({"domain": sorted(PERSONAL)}, dtype=object)
        )
        key = cleaning_key(countries)
        rebuild = cleaned.rebuilt(session, full_refresh)
        to_clean = cleaned.to_clean(session, key, rebuild)
        fresh = clean_records(to_clean, countries).append_column("input_hash", to_clean["input_hash"])
        records.build(session, 50, cleaned.write(session, fresh, rebuild))
        found = as_arrow(records.read_all(session))
    live = pd.DataFrame([r for r in rows if r[-1]], columns=COLUMNS)
    direct = prepare(live, countries, PERSONAL, SHARED, 50)
    return found, direct, sorted(fresh["unique_id"].to_pylist())


def _same(found: pa.Table, direct: pd.DataFrame, engine: str) -> None:
    """The warehouse's records (Arrow, as Splink reads them) hold prepare()'s values, column by
    column, the first name's forms as lists. prepare() runs in DuckDB: its hashes are the
    warehouse's on DuckDB only (PostgreSQL's hash() is another function, compared only with
    itself), so there the fingerprints must tell the same records apart."""
    assert found.column_names == list(direct.columns)
    hashes = {"cleaned_hash", "fingerprint"} if engine == "postgres" else set()
    assert [{k: v for k, v in r.items() if k not in hashes} for r in found.to_pylist()] == [
        {k: v for k, v in r.items() if k not in hashes} for r in direct.to_dict("records")
    ]
    if engine == "postgres":
        assert len(set(fingerprints(found))) == len(set(fingerprints(direct))) == len(direct)
    else:
        assert fingerprints(found).equals(fingerprints(direct))


def test_only_new_and_changed_records_are_cleaned(warehouse):
    found, direct, cleaned_now = _build(warehouse, NODES)
    assert cleaned_now == ["m1", "m2", "m3"]
    _same(found, direct, warehouse.dialect)
    row = direct.set_index("unique_id").loc["m1"]
    assert (row.first_name, row.first_name_forms, row.phone, row.email, row.work_domain) == (
        "bill",
        ["bill", "robert", "will", "william", "willis"],
        "+14155550100",
        "bill@acme.com",
        "acme.com",
    )
    m3 = direct.set_index("unique_id").loc["m3"]
    assert (m3.first_name, m3.last_name, m3.email, m3.work_domain, m3.mobile) == (
        "jose luis",
        "o neil",
        None,
        "acme.fr",
        "+33612345678",
    )

    found, direct, cleaned_now = _build(warehouse, NODES)
    assert cleaned_now == []
    _same(found, direct, warehouse.dialect)

    moved = [
        ("m1", *NODES[0][1:-1], False),
        NODES[1],
        ("m3", *NODES[2][1:6], "Lyon", *NODES[2][7:]),
        NODES[3],
        ("m5", "kathy@gmail.com", "Kathy", "Lee", None, None, None, "us", "+1 617 555 0199", None, True),
    ]
    found, direct, cleaned_now = _build(warehouse, moved)
    assert cleaned_now == ["m3", "m5"]
    _same(found, direct, warehouse.dialect)
    assert sorted(r[0] for r in warehouse.fetchall(f"select source_key from {cleaned.CLEANED}")) == [
        "m2",
        "m3",
        "m5",
    ]
    assert direct.set_index("unique_id").loc["m5"].work_domain is None  # a personal domain

    # A new cleaning key (a country alias no record uses) cleans every record again, and no
    # fingerprint moves: the cleaned values are the same, so nothing is scored again.
    found_again, _, cleaned_now = _build(warehouse, moved, {**COUNTRIES, "u.s.": "United States"})
    assert cleaned_now == ["m2", "m3", "m5"]
    assert fingerprints(found_again).equals(fingerprints(found))

    # A full refresh cleans every record and leaves one row per live record.
    _, _, cleaned_now = _build(warehouse, moved, full_refresh=True)
    assert cleaned_now == ["m2", "m3", "m5"]
    assert sorted(r[0] for r in warehouse.fetchall(f"select source_key from {cleaned.CLEANED}")) == [
        "m2",
        "m3",
        "m5",
    ]


def test_a_kept_table_of_another_shape_is_rebuilt(warehouse):
    """An older release's table (no cleaned_hash) is a cache: rebuilt, not read."""
    _build(warehouse, NODES)
    with warehouse.transaction() as session:
        session.execute(f"alter table {cleaned.CLEANED} drop column cleaned_hash")
    found, direct, cleaned_now = _build(warehouse, NODES)
    assert cleaned_now == ["m1", "m2", "m3"]
    _same(found, direct, warehouse.dialect)


def test_the_warehouse_hash_of_a_record_tells_its_fields_apart(warehouse):
    """The input hash the warehouse computes (cleaned.to_clean): a missing field hashes as empty
    text (it cleans the same); values that a plain join of the fields would run together
    (separators inside them, a value moved to the next field) hash apart; odd text (decomposed
    accents, an emoji, a newline, a formula) hashes alike every time, on both warehouses."""
    odd = (
        "k",
        "a|b@x.com",
        "Jose\u0301",
        "Ng\n",
        "=SUM(A1)",
        "1:2",
        "Zürich 🏔",
        None,
        "+1 (415) 555",
        "",
        True,
    )
    rows = {
        "odd": odd,
        "odd, empty for missing": (*odd[:7], "", "+1 (415) 555", None, True),
        "names a|b c": ("k", None, "a|b", "c", None, None, None, None, None, None, True),
        "names a b|c": ("k", None, "a", "b|c", None, None, None, None, None, None, True),
        "names 1: 2": ("k", None, "1:", "2", None, None, None, None, None, None, True),
        "names 1 :2": ("k", None, "1", ":2", None, None, None, None, None, None, True),
        "first only": ("k", None, "ab", None, None, None, None, None, None, None, True),
        "last only": ("k", None, None, "ab", None, None, None, None, None, None, True),
    }
    key = cleaning_key(COUNTRIES)

    def hashes() -> dict[str, str]:
        """Label -> hash; every row has the same source key (it is hashed too)."""
        with warehouse.transaction() as session:
            _nodes(session, list(rows.values()), labels=list(rows))
            return dict(
                session.fetchall(
                    f"select n.label, {cleaned._input_hash('n')} from int_identity_nodes as n",
                    {"cleaning_key": key},
                )
            )

    found = hashes()
    assert found["odd"] == found["odd, empty for missing"]
    others = [v for k, v in found.items() if k != "odd, empty for missing"]
    assert len(set(others)) == len(others) == len(rows) - 1
    assert all(isinstance(v, str) for v in others)
    assert hashes() == found
