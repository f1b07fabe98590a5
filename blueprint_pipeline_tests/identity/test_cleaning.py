"""A record's cleaning (prepare.clean_records), worked by hand on odd values: Python cleans each
distinct text once and Arrow spreads the answers, so a repeated value, a blank, a missing column
and a text that is no email must all come out as they would row by row. The phone numbers split
over worker processes give what one process gives."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from blueprint_pipeline.identity.matching import phones
from blueprint_pipeline.identity.matching.prepare import clean_records

COUNTRIES = {"us": "United States", "usa": "United States", "fr": "France", "deutschland": "Germany"}


def _nodes() -> pd.DataFrame:
    rows = [
        # source_key, email, first, last, company, title, city, country, phone
        (
            "a",
            " Bill.O'Neil@ACME.com ",
            "  Bill ",
            "O'Neil",
            "ACME Corp., Inc.",
            "Dir. of IT",
            "Paris",
            "FR",
            "01 23 45 67 89",
        ),
        (
            "b",
            "bill.oneil@acme.com",
            "Bill",
            "o neil",
            "acme",
            "Director of IT",
            " paris ",
            "fr",
            "(415) 555-0100",
        ),
        ("c", "no-at-sign", "", None, "  ", "CEO", None, "Deutschland", "12"),
        ("d", "1234@x.io", "José-Luis", "Núñez", None, None, "São Paulo", "Narnia", "+44 20 7946 0958"),
        ("e", "@", "bill", "O'NEIL", "acme", "Dir. of IT", "Paris", None, None),
        ("f", None, None, "   ", None, "   ", None, "usa", "(415) 555-0100"),
    ]
    columns = [
        "source_key",
        "email",
        "first_name",
        "last_name",
        "company",
        "title",
        "city",
        "country",
        "phone",
    ]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def test_each_field_is_cleaned_as_worked_out_by_hand():
    found = clean_records(_nodes(), COUNTRIES).to_pandas(types_mapper=None).set_index("unique_id")
    found = found.astype(object).where(found.notna(), None)
    a, b, c, d, e, f = (found.loc[k] for k in "abcdef")
    assert (a.first_name, a.last_name, a.full_name, a.first_name_canonical) == (
        "bill",
        "o neil",
        "bill o neil",
        "bill",
    )
    assert a.first_name_forms == "bill|robert|will|william|willis"
    assert (a.email, a.email_user, a.email_letters, a.email_domain) == (
        "bill.o'neil@acme.com",
        "bill.o'neil",
        "billoneil",
        "acme.com",
    )
    assert (a.company, a.city, a.country, a.title_job) == ("acme", "paris", "france", "it director")
    assert a.phone == "+33123456789"  # read in France, the record's country
    # A US-written number in a French record is read in France: ten digits after no trunk 0
    # are too many there, so it is no number (it must not match a stranger's).
    assert (b.city, b.country, b.phone, b.title_job) == ("paris", "france", None, "it director")
    # Blank texts are missing; a text with no @ is no email; "12" is no number anywhere.
    assert (c.first_name, c.last_name, c.full_name, c.first_name_forms) == (None, None, None, None)
    assert (c.email, c.email_user, c.email_letters, c.email_domain, c.company) == (None,) * 5
    assert (c.country, c.phone, c.title, c.title_job) == ("germany", None, "ceo", "executive c_level")
    # Accents folded; an unknown country kept as spelled (numbers then read as US); a user part
    # without letters has no letters.
    assert (d.first_name, d.last_name, d.city, d.country) == ("jose luis", "nunez", "sao paulo", "narnia")
    assert (d.email_user, d.email_letters, d.email_domain, d.phone) == ("1234", None, "x.io", "+442079460958")
    assert (e.email, e.email_user, e.email_letters, e.email_domain, e.country) == ("@", "", None, "", None)
    assert (e.first_name, e.last_name) == ("bill", "o neil")
    assert (f.last_name, f.title, f.country, f.phone, f.mobile) == (
        None,
        None,
        "united states",
        "+14155550100",
        None,
    )


def test_an_arrow_input_cleans_as_a_frame_does():
    frame = _nodes()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert clean_records(table, COUNTRIES).equals(clean_records(frame, COUNTRIES))


def test_numbers_split_over_worker_processes_are_parsed_as_in_one(monkeypatch):
    raws = ["(415) 555-0100", "01 23 45 67 89", None, "  ", "12", "+44 20 7946 0958", "415.555.0199 x12"] * 3
    regions = ["US", "FR", "US", None, "DE", None, "US"] * 3
    alone = [phones.to_e164(r, g) for r, g in zip(raws, regions, strict=True)]
    monkeypatch.setattr(phones, "PARALLEL_FROM", 5)
    monkeypatch.setattr(phones, "_cores", lambda: 3)
    assert phones.to_e164_all(raws, regions) == alone
    assert alone[:3] == ["+14155550100", "+33123456789", None]
