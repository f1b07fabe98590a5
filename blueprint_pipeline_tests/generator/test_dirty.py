"""The dirty-duplicates profile: the rates docs/identity.md gives, measured on the written files (not on the
generator's own labels), a truth that covers every person record, and the same files for a seed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rapidfuzz.distance import Levenshtein

from blueprint_pipeline.generator import dirty, vocab
from blueprint_pipeline.generator.dirty import RATES, one_edit
from blueprint_pipeline.generator.generate import generate
from blueprint_pipeline.generator.scales import Scale

SCALE = Scale(accounts=200, persons=3000, activities=0)


def build(root: Path, seed: int) -> Path:
    generate(root, SCALE, seed=seed, report=lambda _: None, profile="dirty-duplicates")
    return root


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("dirty") / "landing", seed=5)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def landed_records(root: Path) -> pd.DataFrame:
    """Every person record in the landing files, as source key, names, email and company."""
    accounts = read(root / "salesforce" / "Account.csv").set_index("Id")["Name"]
    contacts, leads = read(root / "salesforce" / "Contact.csv"), read(root / "salesforce" / "Lead.csv")
    marketo, linkedin = (
        read(root / "marketo" / "leads.csv"),
        read(root / "linkedin" / "lead_gen_form_7001.csv"),
    )
    columns = ["source_key", "first", "last", "email", "company"]
    parts = [
        pd.DataFrame(zip(contacts["Id"] + "@prod.Salesforce", contacts["FirstName"], contacts["LastName"],
                         contacts["Email"], contacts["AccountId"].map(accounts), strict=True), columns=columns),
        pd.DataFrame(zip(leads["Id"] + "@prod.Salesforce", leads["FirstName"], leads["LastName"],
                         leads["Email"], leads["Company"], strict=True), columns=columns),
        pd.DataFrame(zip(marketo["id"] + "@prod.Marketo", marketo["firstName"], marketo["lastName"],
                         marketo["email"], marketo["company"], strict=True), columns=columns),
        pd.DataFrame(zip(linkedin["lead_id"] + "@prod.LinkedIn", linkedin["First name"], linkedin["Last name"],
                         linkedin["Email address"], linkedin["Company name"], strict=True), columns=columns),
    ]  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    frame["email"] = frame["email"].str.strip().str.lower()
    frame["company"] = frame["company"].str.lower()
    return frame


@pytest.fixture(scope="module")
def copies(landing) -> pd.DataFrame:
    """Each copy beside its person's first (clean) record: the columns of both, `_first` suffixed."""
    truth = read(landing / dirty.TRUTH_FILE)
    records = truth.merge(landed_records(landing), on="source_key", validate="one_to_one")
    firsts = records[records["is_copy"] == "false"].set_index("person_id")
    found = records[records["is_copy"] == "true"]
    return found.join(firsts[["first", "last", "email", "company"]], on="person_id", rsuffix="_first")


def test_truth_covers_every_person_record_and_every_person(landing):
    truth = read(landing / dirty.TRUTH_FILE)
    assert truth["source_key"].is_unique
    assert set(truth["source_key"]) == set(landed_records(landing)["source_key"])
    assert truth["person_id"].nunique() == SCALE.persons
    assert (truth.groupby("person_id")["is_copy"].apply(lambda c: (c == "false").sum()) == 1).all()
    # No person has two records in one system: copies are in other systems.
    assert not truth.duplicated(["person_id", "system"]).any()


def test_the_truth_is_where_no_source_object_reads_it(landing):
    from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
    from blueprint_pipeline.sql_models.project import load_project

    systems = {obj.system for obj in load_project(SQL_PROJECT_DIR).sources.values()}
    assert dirty.TRUTH_FILE.parts[0] not in systems


def test_thirty_percent_of_persons_are_in_two_or_more_systems(landing):
    systems = read(landing / dirty.TRUTH_FILE).groupby("person_id")["system"].nunique()
    assert (systems >= 2).mean() == pytest.approx(RATES.multi_system, abs=0.001)
    assert systems.max() <= len(dirty.SYSTEMS)


def share(mask: pd.Series) -> float:
    return float(mask.mean())


def test_copies_carry_each_email_defect_at_its_rate(copies):
    local, local_first = copies["email"].str.split("@").str[0], copies["email_first"].str.split("@").str[0]
    domain, domain_first = copies["email"].str.split("@").str[1], copies["email_first"].str.split("@").str[1]
    assert (copies["email_first"] != "").all()  # a person's first record has the address
    assert share(copies["email"] == "") == pytest.approx(RATES.no_email, abs=0.01)
    assert not ((copies["email"] == "") & (copies["system"] == "linkedin_response")).any()
    one_edit_away = [
        Levenshtein.distance(a, b) == 1 for a, b in zip(local.fillna(""), local_first, strict=True)
    ]
    typo = (domain == domain_first) & pd.Series(one_edit_away, index=copies.index)
    assert share(typo) == pytest.approx(RATES.email_typo, abs=0.01)
    personal = domain.isin(vocab.PERSONAL_DOMAINS) & ~domain_first.isin(vocab.PERSONAL_DOMAINS)
    assert share(personal) == pytest.approx(RATES.personal_email, abs=0.01)
    untouched = copies["email"] == copies["email_first"]
    assert share(untouched) == pytest.approx(
        1 - RATES.no_email - RATES.email_typo - RATES.personal_email, abs=0.01
    )


def test_copies_carry_each_name_defect_at_its_rate(copies):
    swapped = (copies["first"] == copies["last_first"]) & (copies["last"] == copies["first_first"])
    swapped &= copies["first"] != copies["last"]
    assert share(swapped) == pytest.approx(RATES.swapped_names, abs=0.01)
    nickname = copies["first"] == copies["first_first"].map(vocab.NICKNAMES)
    assert share(nickname) == pytest.approx(RATES.nickname, abs=0.01)
    edits = [
        Levenshtein.distance(a, b) + Levenshtein.distance(c, d)
        for a, b, c, d in zip(
            copies["first"], copies["first_first"], copies["last"], copies["last_first"], strict=True
        )
    ]
    assert share(pd.Series(edits, index=copies.index) == 1) == pytest.approx(RATES.name_typo, abs=0.01)
    same = (copies["first"] == copies["first_first"]) & (copies["last"] == copies["last_first"])
    assert share(same) == pytest.approx(1 - RATES.swapped_names - RATES.nickname - RATES.name_typo, abs=0.01)


def test_five_percent_of_accounts_have_a_role_mailbox_two_people_share(landing):
    truth = read(landing / dirty.TRUTH_FILE)
    records = truth.merge(landed_records(landing), on="source_key")
    firsts = records[records["is_copy"] == "false"]
    role = firsts[firsts["email"].str.split("@").str[0].isin(vocab.ROLE_MAILBOXES)]
    accounts = round(RATES.role_mailbox_accounts * SCALE.accounts)
    assert len(role) == 2 * accounts
    people_per_address = role.groupby("email")["person_id"].nunique()
    assert (people_per_address >= 2).all()
    assert set(role["person_id"]) == set(truth.loc[truth["role_mailbox"] == "true", "person_id"])


def test_two_percent_of_persons_share_their_full_name_with_someone_at_another_company(landing):
    truth = read(landing / dirty.TRUTH_FILE)
    records = truth.merge(landed_records(landing), on="source_key")
    firsts = records[records["is_copy"] == "false"]
    flagged = firsts[firsts["shared_name"] == "true"]
    assert len(flagged) == pytest.approx(RATES.shared_full_name * SCALE.persons, abs=3)
    same_name = flagged.merge(firsts, on=["first", "last"], suffixes=("", "_other"))
    elsewhere = same_name[
        (same_name["person_id"] != same_name["person_id_other"])
        & (same_name["company"] != same_name["company_other"])
    ]
    assert elsewhere["person_id"].nunique() >= 0.95 * len(flagged)


def test_same_seed_same_files_other_seed_other_files(landing, tmp_path):
    def digest(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.csv"))
        }

    assert digest(build(tmp_path / "again", seed=5)) == digest(landing)
    assert digest(build(tmp_path / "other", seed=6)) != digest(landing)


def test_one_edit_is_one_edit_away():
    rng = np.random.default_rng(0)
    for word in ("ann", "robert", "o'brien", "jo", "ab.cd"):
        for _ in range(50):
            assert Levenshtein.distance(one_edit(rng, word), word) == 1


def test_an_unknown_profile_is_refused(tmp_path):
    with pytest.raises(
        ValueError, match="unknown profile 'messy'; expected one of standard, dirty-duplicates"
    ):
        generate(tmp_path / "x", SCALE, seed=1, report=lambda _: None, profile="messy")


def test_only_role_mailboxes_are_shared_by_two_people(landing):
    """No typo or private address lands on another person's address by chance: every false join
    by email the bench counts is a role mailbox."""
    records = read(landing / dirty.TRUTH_FILE).merge(landed_records(landing), on="source_key")
    held = records[records["email"] != ""].groupby("email")["person_id"].nunique()
    shared = held[held > 1].index.str.split("@").str[0]
    assert set(shared) <= set(vocab.ROLE_MAILBOXES)
    assert len(shared) == round(RATES.role_mailbox_accounts * SCALE.accounts)


def test_a_typo_that_lands_on_a_colleagues_address_gets_a_digit():
    # Person 0 (jsmith) typed asmith, person 1's address; person 2's private address is person
    # 3's; person 4's typo is free. Records: person of each, the addresses as spoiled.
    work = pd.Series(
        ["jsmith@acme.com", "asmith@acme.com", "kim@beta.io", "johnsmith42@gmail.com", "lee@x.io"]
    )
    person = np.array([0, 1, 2, 3, 4])
    email = np.array(
        ["asmith@acme.com", "asmith@acme.com", "johnsmith42@gmail.com", "", "le@x.io"], dtype=object
    )
    dirty.keep_spoiled_addresses_own(email, person, np.array([0, 2, 4]), work)
    assert list(email) == ["asmith0@acme.com", "asmith@acme.com", "johnsmith422@gmail.com", "", "le@x.io"]


def test_two_private_addresses_alike_become_each_persons_own():
    # Persons 1 and 11 both drew kcook55@gmail.com: a suffix that ends alike (1 % 10 == 11 % 10)
    # would keep them together.
    work = pd.Series([f"p{i}@acme.com" for i in range(12)])
    person = np.array([1, 11])
    email = np.array(["kcook55@gmail.com", "kcook55@gmail.com"], dtype=object)
    dirty.keep_spoiled_addresses_own(email, person, np.array([0, 1]), work)
    assert email[0] != email[1]
