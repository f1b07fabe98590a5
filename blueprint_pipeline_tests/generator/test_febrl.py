"""FEBRL's labelled records as landing files: every record lands once, in a system whose contract
carries it, under the truth's key; the truth groups a record with its duplicates."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from blueprint_pipeline.generator.dirty import TRUTH_FILE
from blueprint_pipeline.generator.febrl import FEBRL_DIR, read_febrl, write_febrl_landing


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_the_shipped_files_are_the_ones_the_readme_names():
    readme = (FEBRL_DIR / "README.md").read_text()
    for name in ("dataset1.csv", "dataset3.csv"):
        assert hashlib.sha256((FEBRL_DIR / name).read_bytes()).hexdigest() in readme
    assert "BSD" in (FEBRL_DIR / "README.md").read_text() and (FEBRL_DIR / "LICENSE").is_file()


def test_febrl1_lands_every_record_once_with_its_true_entity(tmp_path):
    counts = write_febrl_landing("febrl1", tmp_path, seed=1)
    assert counts == {"records": 1000, "persons": 500}
    truth = read(tmp_path / TRUTH_FILE)
    contacts, leads = (
        read(tmp_path / "salesforce" / "Contact.csv"),
        read(tmp_path / "salesforce" / "Lead.csv"),
    )
    marketo = read(tmp_path / "marketo" / "leads.csv")
    landed = pd.concat(
        [
            pd.DataFrame(
                {
                    "source_key": contacts["Id"] + "@prod.Salesforce",
                    "first": contacts["FirstName"],
                    "city": contacts["MailingCity"],
                }
            ),
            pd.DataFrame(
                {
                    "source_key": leads["Id"] + "@prod.Salesforce",
                    "first": leads["FirstName"],
                    "city": leads["City"],
                }
            ),
            pd.DataFrame(
                {
                    "source_key": marketo["id"] + "@prod.Marketo",
                    "first": marketo["firstName"],
                    "city": marketo["city"],
                }
            ),
        ]
    )
    assert truth["source_key"].is_unique and set(truth["source_key"]) == set(landed["source_key"])
    assert truth["rec_id"].is_unique and len(truth) == 1000
    assert set(truth["system"]) == {"salesforce_contact", "salesforce_lead", "marketo_lead"}
    # rec-10-org and rec-10-dup-0 are one person; the duplicate is the copy.
    ten = truth[truth["rec_id"].isin(["rec-10-org", "rec-10-dup-0"])].set_index("rec_id")
    assert ten.loc["rec-10-org", "person_id"] == ten.loc["rec-10-dup-0", "person_id"] == "febrl-10"
    assert (ten.loc["rec-10-org", "is_copy"], ten.loc["rec-10-dup-0", "is_copy"]) == ("false", "true")
    # The record's own values land under its key (FEBRL's rec-10-dup-0: kayla, coolaroo).
    row = landed.set_index("source_key").loc[truth.set_index("rec_id").loc["rec-10-dup-0", "source_key"]]
    assert (row["first"], row["city"]) == ("kayla", "coolaroo")


def test_febrl3_has_the_entities_its_description_gives():
    frame = read_febrl("febrl3")
    assert len(frame) == 5000 and frame["entity"].nunique() == 2000


def test_an_unknown_febrl_set_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown FEBRL set 'febrl2'; expected one of febrl1, febrl3"):
        write_febrl_landing("febrl2", tmp_path, seed=1)
