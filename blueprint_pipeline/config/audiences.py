"""Config section `audiences`: account audiences as filter trees or static lists (docs/audiences.md).

A filter is a tree: `all` / `any` / `not` nodes over leaves. A leaf tests one firmographic field of
`unified_accounts` (the field names are a fixed list, so a config file can only name columns we
allow) or the account's engagement (activities of given types in a window). Values are always bound
as parameters when the tree becomes SQL (blueprint_pipeline/audiences/compile.py).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from blueprint_pipeline.config.base import StrictModel, checked_names

# unified_accounts columns a filter may test, with their kind.
ACCOUNT_FIELDS: dict[str, str] = {
    "account_id": "text",
    "account_name": "text",
    "domain": "text",
    "industry": "text",
    "employees": "number",
    "annual_revenue": "number",
    "billing_country": "text",
    "billing_state": "text",
    "account_type": "text",
    "parent_account_id": "text",
    "ultimate_parent_id": "text",
    "hierarchy_level": "number",
}
AccountField = Literal[tuple(ACCOUNT_FIELDS)]  # type: ignore[valid-type]
Operator = Literal[
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains", "is_null", "is_not_null"
]
Scalar = Union[str, int, float, bool]  # noqa: UP007 (pydantic reads the union for error messages)


class FieldFilter(StrictModel):
    """`{field: industry, op: in, value: [Software, Energy]}`; text compares ignore case."""

    field: AccountField
    op: Operator
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> FieldFilter:
        many = isinstance(self.value, list)
        if self.op in ("is_null", "is_not_null"):
            if self.value is not None:
                raise ValueError(f"op {self.op} takes no value")
        elif self.op in ("in", "not_in"):
            if not many or not self.value:
                raise ValueError(f"op {self.op} takes a non-empty list of values")
        elif self.op == "between":
            if not many or len(self.value) != 2:
                raise ValueError("op between takes a list of two values [low, high]")
        elif many or self.value is None:
            raise ValueError(f"op {self.op} takes one value")
        if ACCOUNT_FIELDS[self.field] == "number" and self.op not in ("is_null", "is_not_null"):
            values = self.value if many else [self.value]
            if any(isinstance(v, (str, bool)) for v in values):
                raise ValueError(f"field {self.field} is a number; got {self.value!r}")
        if self.op == "contains" and ACCOUNT_FIELDS[self.field] != "text":
            raise ValueError(f"op contains is for text fields; {self.field} is a number")
        return self


class Engagement(StrictModel):
    """Account-level activity: at least `min_activities` activities of `activity_types` (Marketo
    activity type names or ids) by at least `min_persons` distinct persons of the account (by their
    primary link) within `within_days` before the as-of time."""

    activity_types: list[str | int] = Field(min_length=1)
    within_days: int = Field(gt=0, le=3650)
    min_activities: int = Field(default=1, ge=1)
    min_persons: int = Field(default=1, ge=1)


class EngagementFilter(StrictModel):
    engagement: Engagement


class AllOf(StrictModel):
    all: list[Filter] = Field(min_length=1)


class AnyOf(StrictModel):
    any: list[Filter] = Field(min_length=1)


class NotOf(StrictModel):
    not_: Filter = Field(alias="not")


def _filter_kind(value: object) -> str:
    """Which node a filter is, from its keys, so that an error names that node's problem only."""
    if isinstance(value, dict):
        return next((k for k in ("all", "any", "not", "engagement") if k in value), "field")
    kinds = {AllOf: "all", AnyOf: "any", NotOf: "not", EngagementFilter: "engagement"}
    return kinds.get(type(value), "field")


Filter = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[EngagementFilter, Tag("engagement")]
    | Annotated[FieldFilter, Tag("field")],
    Discriminator(_filter_kind),
]


class Audience(StrictModel):
    """An account audience: a filter over unified accounts, or a static list file (one column,
    `account_id`, in the config directory)."""

    description: str = ""
    filter: Filter | None = None
    static_list: str | None = None

    @model_validator(mode="after")
    def _one_definition(self) -> Audience:
        if (self.filter is None) == (self.static_list is None):
            raise ValueError("give exactly one of filter or static_list")
        return self


class AudiencesConfig(StrictModel):
    audiences: dict[str, Audience] = Field(default_factory=dict)

    _names = field_validator("audiences")(checked_names("audience"))


for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()
