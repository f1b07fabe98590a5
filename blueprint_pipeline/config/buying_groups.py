"""Config section `buying_groups`: personas, role templates, solution interests, completeness
(docs/buying-groups.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.base import StrictModel, checked_names

# The suites' named weights; a number between 0 and 100 works too.
WEIGHT_BANDS: dict[str, int] = {"trivial": 20, "minor": 40, "normal": 60, "important": 80, "vital": 100}
MAX_ROLES = 20  # the suites' limit per role template
# The parsed title's vocabularies (blueprint_pipeline/buying_groups/title_parser.py, docs/buying-groups.md).
Seniority = Literal["c_level", "vp", "head", "director", "manager", "senior", "individual"]
Function = Literal[
    "executive", "it", "engineering", "data", "security", "finance", "procurement", "marketing",
    "sales", "product", "hr", "legal", "operations", "customer", "other",
]  # fmt: skip
Level = Literal["executive", "management", "staff"]


class Persona(StrictModel):
    """One job, by its parsed title (`functions` and `seniorities`: both given must match) and/or
    by spellings (`titles`: the normalised title equals or contains one, normalised the same way:
    "VP IT" and "Vice President, IT" are one). A title matching either way is the persona's."""

    description: str = ""
    titles: list[str] = Field(default_factory=list)
    functions: list[Function] = Field(default_factory=list)
    seniorities: list[Seniority] = Field(default_factory=list)

    @model_validator(mode="after")
    def _says_who(self) -> Persona:
        if not (self.titles or self.functions or self.seniorities):
            raise ValueError("a persona needs titles, or functions and/or seniorities of the parsed title")
        return self


class RoleConditions(StrictModel):
    """Who fits a role. Each list given must match (an empty list is no condition); within a list,
    any entry matches. A role with no condition at all matches nobody by rule."""

    personas: list[str] = Field(default_factory=list)
    title_patterns: list[str] = Field(default_factory=list, description="words a normalised title contains")
    departments: list[str] = Field(default_factory=list)
    functions: list[Function] = Field(default_factory=list, description="the parsed title's function")
    seniorities: list[Seniority] = Field(default_factory=list, description="the parsed title's seniority")
    levels: list[Level] = Field(default_factory=list, description="the parsed title's level")
    countries: list[str] = Field(default_factory=list)
    custom_fields: dict[str, list[str | bool | int | float]] = Field(
        default_factory=dict,
        description="field -> accepted values, on any of the person's records: CRM and Marketo columns "
        "the source contract does not name (e.g. Persona__c), LinkedIn form answers",
    )


class Role(StrictModel):
    # No semicolon: outputs join role names with "; " (figures.LIST_SEPARATOR), and read them back.
    name: str = Field(min_length=1, max_length=80, pattern=r"^[^;]+$")
    weight: Literal["trivial", "minor", "normal", "important", "vital"] | float = "normal"
    required: bool = False
    members_required: int = Field(default=1, ge=1, le=100)
    priority: int | None = Field(
        default=None,
        ge=1,
        description="when a person fits several roles, the lowest priority wins; left out on every "
        "role of a template: the roles' order (the first role wins)",
    )
    conditions: RoleConditions = Field(default_factory=RoleConditions)

    @field_validator("weight")
    @classmethod
    def _weight_range(cls, value: str | float) -> str | float:
        if not isinstance(value, str) and not 0 <= value <= 100:
            raise ValueError(f"a weight is a band ({', '.join(WEIGHT_BANDS)}) or a number from 0 to 100")
        return value

    @property
    def weight_value(self) -> float:
        return float(WEIGHT_BANDS[self.weight] if isinstance(self.weight, str) else self.weight)


def _prioritised(roles: list[Role]) -> list[Role]:
    """Priorities given on every role are kept; given on none, they follow the list (1, 2, ...), so
    inserting a role is one edit. Some with and some without would be ambiguous: refused."""
    unset = [r.name for r in roles if r.priority is None]
    if len(unset) == len(roles):
        return [r.model_copy(update={"priority": i}) for i, r in enumerate(roles, start=1)]
    if unset:
        raise ValueError(
            f"roles {unset} have no priority while others do: give every role a priority, or none "
            "(then the roles' order is their priority, the first role winning)"
        )
    return roles


class RoleTemplate(StrictModel):
    description: str = ""
    roles: list[Role] = Field(min_length=1)

    @field_validator("roles")
    @classmethod
    def _roles(cls, roles: list[Role]) -> list[Role]:
        if len(roles) > MAX_ROLES:
            raise ValueError(
                f"a role template has at most {MAX_ROLES} roles (the suites' limit); got {len(roles)}: "
                "split it into two templates or merge roles"
            )
        roles = _prioritised(roles)
        for what, values in (
            ("role names", [r.name for r in roles]),
            ("priorities", [r.priority for r in roles]),
        ):
            repeated = sorted({v for v in values if values.count(v) > 1}, key=str)
            if repeated:
                raise ValueError(f"{what} {repeated} appear more than once")
        return roles


Method = Literal["suites", "weighted"]
CountedRoles = Literal["all", "required"]


class Completeness(StrictModel):
    """`suites`: the mean of role completeness over the roles counted (`roles: all` or `required`);
    `weighted`: role completeness weighted by role weight over all the template's roles."""

    method: Method = "suites"
    roles: CountedRoles = "all"
    complete_at: float = Field(
        default=0.8, ge=0, le=1, description="a group whose completeness_score reaches this is complete"
    )

    @property
    def label(self) -> str:
        return "weighted (all roles)" if self.method == "weighted" else f"suites ({self.roles} roles)"


class CompletenessChoice(StrictModel):
    """A solution interest's own completeness settings; each one left out is the section's."""

    method: Method | None = None
    roles: CountedRoles | None = None
    complete_at: float | None = Field(default=None, ge=0, le=1)


class SolutionInterest(StrictModel):
    name: str = Field(min_length=1, description="display name, e.g. Data Platform")
    description: str = ""
    business_outcome: str = Field(default="", description="the outcome it addresses, for people reading it")
    opportunity_type: str | None = Field(default=None, description="the CRM Opportunity.Type it maps to")
    audience: str = Field(description="an audience in audiences.yaml")
    role_template: str = Field(description="a template in role_templates")
    stage_model: str = Field(default="standard", description="a stage model in stages.yaml")
    completeness: CompletenessChoice = Field(
        default_factory=CompletenessChoice,
        description="this interest's method, roles or threshold; what it leaves out comes from the "
        "section's `completeness`",
    )


class BuyingGroupsConfig(StrictModel):
    personas: dict[str, Persona] = Field(default_factory=dict)
    role_templates: dict[str, RoleTemplate] = Field(default_factory=dict)
    solution_interests: dict[str, SolutionInterest] = Field(default_factory=dict)
    completeness: Completeness = Field(default_factory=Completeness)
    overrides_file: str = Field(
        default="buying_group_overrides.csv",
        description="CSV in the config directory: manual member assignments and removals from sales",
    )

    _persona_names = field_validator("personas")(checked_names("persona"))
    _template_names = field_validator("role_templates")(checked_names("role template"))
    _interest_names = field_validator("solution_interests")(checked_names("solution interest"))

    def completeness_of(self, solution_interest: str) -> Completeness:
        """The section's completeness with the interest's own settings over it."""
        own = self.solution_interests[solution_interest].completeness.model_dump(exclude_none=True)
        return self.completeness.model_copy(update=own)

    @model_validator(mode="after")
    def _references(self) -> BuyingGroupsConfig:
        for name, template in self.role_templates.items():
            for role in template.roles:
                unknown = sorted(set(role.conditions.personas) - set(self.personas))
                if unknown:
                    raise ValueError(
                        f"role_templates.{name}: role {role.name!r} names unknown personas {unknown}"
                    )
        for name, interest in self.solution_interests.items():
            if interest.role_template not in self.role_templates:
                raise ValueError(
                    f"solution_interests.{name}: role_template {interest.role_template!r} is not one of "
                    f"{sorted(self.role_templates)}"
                )
        return self
