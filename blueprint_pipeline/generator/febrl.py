"""FEBRL's labelled person records (generator/external/febrl/, see its README) as landing files.

The landing contracts carry what FEBRL has as a CRM or Marketo export would: given name and
surname as the contract's name fields; the address, suburb, state, postcode and date of birth
under the export's own field names (Salesforce MailingStreet / MailingCity / MailingState /
MailingPostalCode / Birthdate, Lead Street / City / State / PostalCode, Marketo address / city /
state / postalCode / dateOfBirth), which the contracts do not name yet, so the loader packs them
into the records' custom fields. FEBRL has no email, phone or company; its national id
(soc_sec_id) is left out, as no B2B export holds one. LinkedIn forms cannot carry a record
without an email (it is their key), so the records are split at random, for a seed, between
Salesforce contacts, Salesforce leads and Marketo leads. The truth: `rec-<N>-org` and
`rec-<N>-dup-<K>` are entity N.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from blueprint_pipeline.generator import dirty
from blueprint_pipeline.generator.generate import sf_ids

FEBRL_DIR = Path(__file__).parent / "external" / "febrl"
FEBRL_SETS = {"febrl1": "dataset1.csv", "febrl3": "dataset3.csv"}
SYSTEMS = ("salesforce_contact", "salesforce_lead", "marketo_lead")


def read_febrl(name: str) -> pd.DataFrame:
    if name not in FEBRL_SETS:
        raise ValueError(f"unknown FEBRL set {name!r}; expected one of {', '.join(FEBRL_SETS)}")
    frame = pd.read_csv(FEBRL_DIR / FEBRL_SETS[name], dtype=str, keep_default_na=False, skipinitialspace=True)
    entity = frame["rec_id"].str.extract(r"^rec-(\d+)-(?:org|dup-\d+)$")[0]
    if entity.isna().any():
        bad = frame.loc[entity.isna(), "rec_id"].iloc[0]
        raise ValueError(f"{FEBRL_SETS[name]}: rec_id {bad!r} is not rec-<N>-org or rec-<N>-dup-<K>")
    return frame.assign(entity=entity)


def _street(frame: pd.DataFrame) -> pd.Series:
    parts = (frame["street_number"] + " " + frame["address_1"]).str.strip() + ", " + frame["address_2"]
    return parts.str.strip(", ")


def _birthdate(frame: pd.DataFrame) -> pd.Series:
    """YYYYMMDD -> YYYY-MM-DD; a value that is no date (FEBRL corrupts some) stays as it is."""
    parsed = pd.to_datetime(frame["date_of_birth"], format="%Y%m%d", errors="coerce")
    return parsed.dt.strftime("%Y-%m-%d").fillna(frame["date_of_birth"])


def write_febrl_landing(name: str, out: Path, seed: int) -> dict[str, int]:
    """Write FEBRL set `name` into the landing directory `out` (replacing its system folders) with
    its truth in `truth/persons.csv`; returns the number of records and true persons."""
    frame = read_febrl(name)
    for folder in ("salesforce", "marketo", "linkedin", "sales", dirty.TRUTH_FILE.parts[0]):
        shutil.rmtree(out / folder, ignore_errors=True)
    system = np.random.default_rng(seed).integers(0, len(SYSTEMS), len(frame))
    street, birthdate = _street(frame), _birthdate(frame)
    keys = pd.Series("", index=frame.index)

    contacts = frame[system == 0]
    ids = sf_ids("003", 0, len(contacts))
    _write(out / "salesforce" / "Contact.csv", {
        "Id": ids, "FirstName": contacts["given_name"], "LastName": contacts["surname"], "Email": "",
        "MailingStreet": street[contacts.index], "MailingCity": contacts["suburb"],
        "MailingState": contacts["state"], "MailingPostalCode": contacts["postcode"],
        "Birthdate": birthdate[contacts.index], "IsDeleted": "false",
    })  # fmt: skip
    keys[contacts.index] = ids + "@prod.Salesforce"

    leads = frame[system == 1]
    ids = sf_ids("00Q", 0, len(leads))
    _write(out / "salesforce" / "Lead.csv", {
        "Id": ids, "FirstName": leads["given_name"], "LastName": leads["surname"], "Email": "",
        "Company": "", "Street": street[leads.index], "City": leads["suburb"], "State": leads["state"],
        "PostalCode": leads["postcode"], "IsConverted": "false", "IsDeleted": "false",
    })  # fmt: skip
    keys[leads.index] = ids + "@prod.Salesforce"

    marketo = frame[system == 2]
    ids = (1_000_000 + np.arange(len(marketo))).astype(str)
    _write(out / "marketo" / "leads.csv", {
        "id": ids, "email": "", "firstName": marketo["given_name"], "lastName": marketo["surname"],
        "address": street[marketo.index], "city": marketo["suburb"], "state": marketo["state"],
        "postalCode": marketo["postcode"], "dateOfBirth": birthdate[marketo.index],
    })  # fmt: skip
    keys[marketo.index] = pd.Series(ids, index=marketo.index) + "@prod.Marketo"

    truth = pd.DataFrame(
        {
            "source_key": keys,
            "person_id": "febrl-" + frame["entity"],
            "system": np.asarray(SYSTEMS, dtype=object)[system],
            "is_copy": np.where(frame["rec_id"].str.endswith("-org"), "false", "true"),
            "defects": "",  # FEBRL does not say which errors a duplicate carries
            "rec_id": frame["rec_id"],
        }
    )
    _write(out / dirty.TRUTH_FILE, truth)
    return {"records": len(frame), "persons": int(frame["entity"].nunique())}


def _write(path: Path, columns) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = (
        columns
        if isinstance(columns, pd.DataFrame)
        else pd.DataFrame({k: (v.to_numpy() if isinstance(v, pd.Series) else v) for k, v in columns.items()})
    )
    frame.to_csv(path, index=False)
