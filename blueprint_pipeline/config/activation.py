"""Config section `activation`: the lists the platform hands to LinkedIn (docs/activation.md).

Each list is one definition: a company list from an account audience or from the accounts whose
buying groups miss required roles; a contact list from buying-group members (optionally some
roles) or from people who visited a form page without filling the form. LinkedIn's own rules are
settings: records and bytes per file, the minimum a list needs to match, hashed emails.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.base import StrictModel, checked_names


class CompanyList(StrictModel):
    """Exactly one: `audience` (its member accounts) or `missing_roles_of` (a solution interest:
    the accounts whose group misses a required role)."""

    audience: str | None = None
    missing_roles_of: str | None = None

    @model_validator(mode="after")
    def _one(self) -> CompanyList:
        if (self.audience is None) == (self.missing_roles_of is None):
            raise ValueError("give exactly one of audience or missing_roles_of")
        return self


class FormVisitors(StrictModel):
    """People who viewed a page whose URL contains `page_contains` in the last `within_days` days
    and filled no form in that time."""

    page_contains: str = Field(default="form", min_length=1)
    within_days: int = Field(default=30, gt=0, le=365)


class ContactList(StrictModel):
    """Exactly one: `members_of` (a solution interest's buying-group members, `roles` to narrow
    it) or `form_visitors`."""

    members_of: str | None = None
    roles: list[str] = Field(default_factory=list)
    form_visitors: FormVisitors | None = None

    @model_validator(mode="after")
    def _one(self) -> ContactList:
        if (self.members_of is None) == (self.form_visitors is None):
            raise ValueError("give exactly one of members_of or form_visitors")
        if self.roles and self.members_of is None:
            raise ValueError("roles narrow members_of")
        return self


class Targeting(StrictModel):
    job_functions: list[str] = Field(default_factory=list)
    seniorities: list[str] = Field(default_factory=list)


class LinkedIn(StrictModel):
    max_records_per_file: int = Field(default=300_000, ge=1, le=300_000)
    max_bytes_per_file: int = Field(default=20_000_000, ge=1_000, le=20_000_000)
    min_records: int = Field(default=300, ge=0, description="LinkedIn needs this many to match: fewer warns")
    hash_emails: bool = Field(default=False, description="SHA-256 of the trimmed, lower-cased email")
    company_lists: dict[str, CompanyList] = Field(default_factory=dict, description="`null` removes one")
    contact_lists: dict[str, ContactList] = Field(default_factory=dict, description="`null` removes one")
    role_targeting: dict[str, Targeting] = Field(
        default_factory=dict, description="role -> LinkedIn job functions and seniorities to target"
    )

    _company = field_validator("company_lists")(checked_names("company list"))
    _contact = field_validator("contact_lists")(checked_names("contact list"))


class StaticList(StrictModel):
    """Exactly one: `audience` (the persons whose primary account is in it) or `members_of` (a
    solution interest's buying-group members; `roles` narrows it)."""

    audience: str | None = None
    members_of: str | None = None
    roles: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one(self) -> StaticList:
        if (self.audience is None) == (self.members_of is None):
            raise ValueError("give exactly one of audience or members_of")
        if self.roles and self.members_of is None:
            raise ValueError("roles narrow members_of")
        return self


class Marketo(StrictModel):
    max_bytes_per_file: int = Field(
        default=10_000_000, ge=1_000, le=10_000_000, description="Marketo's import limit"
    )
    static_lists: dict[str, StaticList] = Field(default_factory=dict, description="`null` removes one")

    _names = field_validator("static_lists")(checked_names("static list"))


class Crm(StrictModel):
    """The Salesforce object buying groups are written back to, upserted by an external id."""

    object: str = Field(default="Buying_Group__c", pattern=r"[A-Za-z][A-Za-z0-9_]*")
    external_id_field: str = Field(default="Blueprint_Id__c", pattern=r"[A-Za-z][A-Za-z0-9_]*")
    fields: dict[str, str] = Field(
        default_factory=lambda: {
            "account_id": "Account__c",
            "solution_interest": "Solution_Interest__c",
            "stage": "Stage__c",
            "completeness": "Completeness__c",
            "engagement_score": "Engagement_Score__c",
            "roles_filled": "Roles_Filled__c",
            "roles_missing": "Roles_Missing__c",
            "last_stage_change": "Last_Stage_Change__c",
        },
        description="write-back column -> the CRM field's API name",
    )

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(WRITEBACK_COLUMNS))
        if unknown:
            raise ValueError(f"fields {unknown} are not write-back columns ({WRITEBACK_COLUMNS})")
        return value


WRITEBACK_COLUMNS = [
    "account_id",
    "solution_interest",
    "stage",
    "completeness",
    "engagement_score",
    "roles_filled",
    "roles_missing",
    "last_stage_change",
]


class ActivationConfig(StrictModel):
    linkedin: LinkedIn = Field(default_factory=LinkedIn)
    crm: Crm = Field(default_factory=Crm)
    marketo: Marketo = Field(default_factory=Marketo)
