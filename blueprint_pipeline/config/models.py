"""The config schema. Every model forbids unknown keys so that a typo is an error, not a no-op."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.activation import ActivationConfig
from blueprint_pipeline.config.alerts import AlertsConfig
from blueprint_pipeline.config.audiences import AudiencesConfig
from blueprint_pipeline.config.base import StrictModel
from blueprint_pipeline.config.buying_groups import BuyingGroupsConfig
from blueprint_pipeline.config.governance import GovernanceConfig
from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.config.journeys import JourneysConfig
from blueprint_pipeline.config.qualification import QualificationConfig
from blueprint_pipeline.config.reporting import ReportingConfig
from blueprint_pipeline.config.scoring import ScoringConfig
from blueprint_pipeline.config.stages import StagesConfig


class SourcesConfig(StrictModel):
    """How landing files map to source objects (see docs/sources.md)."""

    file_names: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description=(
            "Per system, extra file names (exact, case-insensitive) mapped to an object, for exports "
            "whose names do not follow `<Object>.csv`, e.g. the Data Loader's accountData.csv."
        ),
    )

    header_aliases: dict[str, dict[str, dict[str, list[str]]]] = Field(
        default_factory=dict,
        description=(
            "Per system and object, other header names for a contract field, e.g. the Marketo field "
            "that holds SMS consent, or a LinkedIn form's own label for the email question."
        ),
    )

    def aliases_for(self, system: str, obj: str) -> dict[str, list[str]]:
        return self.header_aliases.get(system, {}).get(obj, {})


PersonSource = Literal["salesforce_contact", "salesforce_lead", "marketo_lead", "linkedin_response"]
PERSON_SOURCES: tuple[str, ...] = PersonSource.__args__
PersonField = Literal[
    "email", "first_name", "last_name", "title", "department", "country", "phone", "company"
]
PERSON_FIELDS: tuple[str, ...] = PersonField.__args__
LinkMethod = Literal[
    "crm_account_id", "marketo_sfdc_account", "lead_conversion", "email_domain", "company_name"
]
LINK_METHODS: tuple[str, ...] = LinkMethod.__args__


def _no_repeats(values: list[str]) -> list[str]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"lists {repeated} more than once")
    return values


class PersonMergePolicy(StrictModel):
    """Which source record gives a unified person each field (docs/identity.md, merge policy)."""

    source_precedence: list[PersonSource] = Field(
        default=["salesforce_contact", "salesforce_lead", "marketo_lead", "linkedin_response"],
        description="Sources in order of trust for every field; sources left out come last, in this order.",
    )
    field_precedence: dict[PersonField, list[PersonSource]] = Field(
        default_factory=dict, description="Per field, another order (e.g. title: [linkedin_response, ...])."
    )

    _check_sources = field_validator("source_precedence")(_no_repeats)

    @field_validator("field_precedence")
    @classmethod
    def _check_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for order in value.values():
            _no_repeats(order)
        return value

    def order_for(self, field: str) -> list[str]:
        first = self.field_precedence.get(field, self.source_precedence)
        return list(dict.fromkeys([*first, *self.source_precedence, *PERSON_SOURCES]))


class AccountMergePolicy(StrictModel):
    """Which of two duplicate CRM accounts (same domain, different hierarchies) survives."""

    survivor: Literal["oldest", "most_recently_modified"] = Field(
        default="oldest",
        description="Among a domain's accounts (an account in a hierarchy always first): the earliest "
        "created, or the latest modified; ties go to the smallest account id.",
    )


class AccountLinkPolicy(StrictModel):
    """How persons link to accounts (docs/identity.md, matching rules)."""

    method_confidence: dict[LinkMethod, float] = Field(
        default={
            "crm_account_id": 1.0,
            "lead_conversion": 0.98,
            "marketo_sfdc_account": 0.95,
            "email_domain": 0.9,
            "company_name": 0.9,
        },
        description="Confidence of each method's link; for company_name, of an exact name match "
        "(a fuzzy match scales it by the similarity).",
    )
    related_domain_confidence: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="An email domain whose name matches an account domain's under another suffix "
        "(acme.co.uk ~ acme.com): below the default threshold, so it goes to review.",
    )
    threshold: float = Field(
        default=0.85, ge=0, le=1, description="Links at or above it are made; below it they go to review."
    )
    review_floor: float = Field(
        default=0.6, ge=0, le=1, description="Candidates below it are dropped, not reviewed."
    )
    min_name_similarity: float = Field(
        default=80,
        ge=0,
        le=100,
        description="rapidfuzz token_sort_ratio below which a company name is no match.",
    )
    decisions_file: str = Field(
        default="account_link_decisions.csv",
        description="CSV in the config directory: person_id, account_id, decision (approve/reject), "
        "decided_by, decided_at, note.",
    )
    personal_email_domains: list[str] = Field(
        default_factory=list,
        description="Personal email domains besides the maintained list (seeds/personal_email_domains.csv).",
    )
    min_linked_share: float = Field(
        default=0.5, ge=0, le=1, description="The linked-persons check warns below this share of persons."
    )

    @field_validator("method_confidence")
    @classmethod
    def _all_methods(cls, value: dict[str, float]) -> dict[str, float]:
        missing = sorted(set(LINK_METHODS) - set(value))
        if missing:
            raise ValueError(f"missing methods {missing}")
        bad = sorted(m for m, c in value.items() if not 0 <= c <= 1)
        if bad:
            raise ValueError(f"confidences of {bad} are not between 0 and 1")
        return value

    @field_validator("personal_email_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return [d.strip().lower() for d in value]

    @model_validator(mode="after")
    def _floor_below_threshold(self) -> AccountLinkPolicy:
        if self.review_floor > self.threshold:
            raise ValueError(f"review_floor {self.review_floor} is above threshold {self.threshold}")
        return self


class IdentityConfig(StrictModel):
    """Identity resolution: merge policies for persons and accounts, person-to-account linking."""

    person_merge: PersonMergePolicy = Field(default_factory=PersonMergePolicy)
    account_merge: AccountMergePolicy = Field(default_factory=AccountMergePolicy)
    account_links: AccountLinkPolicy = Field(default_factory=AccountLinkPolicy)
    person_matching: PersonMatchingPolicy = Field(default_factory=PersonMatchingPolicy)


class BlueprintConfig(StrictModel):
    """The whole config; each field is one YAML file `<field>.yaml` in the config directory."""

    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    audiences: AudiencesConfig = Field(default_factory=AudiencesConfig)
    buying_groups: BuyingGroupsConfig = Field(default_factory=BuyingGroupsConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    stages: StagesConfig = Field(default_factory=StagesConfig)
    journeys: JourneysConfig = Field(default_factory=JourneysConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    activation: ActivationConfig = Field(default_factory=ActivationConfig)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    qualification: QualificationConfig = Field(default_factory=QualificationConfig)

    def reference_errors(self) -> list[tuple[str, str, str]]:
        """(section, key path, message) for names one section uses and another must define."""
        interests = self.buying_groups.solution_interests.items()
        errors = (
            [
                (
                    "buying_groups",
                    f"solution_interests.{name}.audience",
                    f"{interest.audience!r} is not an audience in audiences.yaml "
                    f"({sorted(self.audiences.audiences)})",
                )
                for name, interest in interests
                if interest.audience not in self.audiences.audiences
            ]
            + [
                (
                    "buying_groups",
                    f"solution_interests.{name}.stage_model",
                    f"{interest.stage_model!r} is not a stage model in stages.yaml "
                    f"({sorted(self.stages.models)})",
                )
                for name, interest in interests
                if interest.stage_model not in self.stages.models
            ]
            + self._alert_reference_errors()
            + self._activation_reference_errors()
        )
        return errors

    def _activation_reference_errors(self) -> list[tuple[str, str, str]]:
        """Lists name audiences, solution interests and their template's roles."""
        activation, interests = self.activation, self.buying_groups.solution_interests
        audiences = self.audiences.audiences
        lists = [(f"linkedin.company_lists.{n}", d) for n, d in activation.linkedin.company_lists.items()]
        lists += [(f"linkedin.contact_lists.{n}", d) for n, d in activation.linkedin.contact_lists.items()]
        lists += [(f"marketo.static_lists.{n}", d) for n, d in activation.marketo.static_lists.items()]
        errors = []
        for key, definition in lists:
            audience = getattr(definition, "audience", None)
            if audience and audience not in audiences:
                errors.append((f"{key}.audience", f"{audience!r} is not an audience ({sorted(audiences)})"))
            for attribute in ("missing_roles_of", "members_of"):
                interest = getattr(definition, attribute, None)
                if interest and interest not in interests:
                    errors.append(
                        (
                            f"{key}.{attribute}",
                            f"{interest!r} is not a solution interest ({sorted(interests)})",
                        )
                    )
            if getattr(definition, "members_of", None) in interests:
                template = interests[definition.members_of].role_template
                roles = [r.name for r in self.buying_groups.role_templates[template].roles]
                errors += [
                    (f"{key}.roles", f"{r!r} is not a role of template {template!r} ({roles})")
                    for r in definition.roles
                    if r not in roles
                ]
        return [("activation", key, message) for key, message in errors]

    def _alert_reference_errors(self) -> list[tuple[str, str, str]]:
        interests = self.buying_groups.solution_interests
        stages = {s for model in self.stages.models.values() for s in model.stage_types}

        def unknown_interests(key: str, names) -> list[tuple[str, str, str]]:
            known = sorted(interests)
            return [
                ("alerts", key, f"{n!r} is not a solution interest ({known})")
                for n in names
                if n not in interests
            ]

        def unknown_stages(key: str, names) -> list[tuple[str, str, str]]:
            known = sorted(stages)
            return [
                ("alerts", key, f"{n!r} is not a stage of any stage model ({known})")
                for n in names
                if n not in stages
            ]

        errors = []
        for name, rule in self.alerts.rules.items():
            errors += unknown_interests(f"rules.{name}.solution_interests", rule.solution_interests)
            if rule.type == "stage_transition":
                errors += unknown_stages(f"rules.{name}", [rule.to_stage, *rule.from_stages])
        errors += unknown_stages("milestones.qualified_stages", self.alerts.milestones.qualified_stages)
        errors += unknown_interests("routing.solution_interests", self.alerts.routing.solution_interests)
        return errors
