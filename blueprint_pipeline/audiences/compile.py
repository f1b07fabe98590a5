"""An audience's filter tree -> a SQL condition over `unified_accounts` (alias `a`), built as a
sqlglot tree: column names come only from the validated list of account fields, every value is a
bound parameter (`$f0`, `$f1`, ...). Nothing a config file holds is pasted into SQL text.

Semantics (docs/audiences.md): text compares ignore case and surrounding spaces; `ne` and
`not_in` keep accounts whose field is empty (an account with no type is "not a Partner");
comparisons of numbers leave out accounts with no value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from blueprint_pipeline.config.audiences import (
    ACCOUNT_FIELDS,
    AllOf,
    AnyOf,
    EngagementFilter,
    FieldFilter,
    NotOf,
)

ENGAGEMENT_TABLE = "int_account_activity"


@dataclass
class Compiled:
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> exp.Expression:
        name = f"f{len(self.params)}"
        self.params[name] = value
        return exp.Placeholder(this=name)


def _text(node: exp.Expression) -> exp.Expression:
    return exp.Lower(this=exp.Trim(this=node))


def _leaf(leaf: FieldFilter, out: Compiled) -> exp.Expression:
    column = exp.column(leaf.field, table="a")
    is_text = ACCOUNT_FIELDS[leaf.field] == "text"
    if leaf.op == "is_null":
        return exp.Is(this=column, expression=exp.Null())
    if leaf.op == "is_not_null":
        return exp.Not(this=exp.Is(this=column, expression=exp.Null()))

    def value(v: Any) -> exp.Expression:
        bound = out.bind(str(v).strip().lower() if is_text else v)
        return bound

    subject = _text(column) if is_text else column
    if leaf.op in ("in", "not_in"):
        inside = exp.In(this=subject, expressions=[value(v) for v in leaf.value])
        if leaf.op == "in":
            return inside
        return exp.Not(this=exp.Coalesce(this=inside, expressions=[exp.false()]))
    if leaf.op == "between":
        low, high = leaf.value
        return exp.Between(this=subject, low=value(low), high=value(high))
    if leaf.op == "contains":
        # A position, not LIKE: % and _ in the value are characters, not wildcards.
        return exp.GT(
            this=exp.StrPosition(this=subject, substr=value(leaf.value)), expression=exp.Literal.number(0)
        )
    if leaf.op == "ne":
        return exp.NullSafeNEQ(this=subject, expression=value(leaf.value))
    ops = {"eq": exp.EQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
    return ops[leaf.op](this=subject, expression=value(leaf.value))


def _engagement(node: EngagementFilter, out: Compiled) -> exp.Expression:
    spec = node.engagement
    names = [out.bind(str(t).strip().lower()) for t in spec.activity_types if isinstance(t, str)]
    ids = [out.bind(int(t)) for t in spec.activity_types if not isinstance(t, str)]
    kinds = [exp.In(this=_text(exp.column("activity_type_name")), expressions=names)] if names else []
    kinds += [exp.In(this=exp.column("activity_type_id"), expressions=ids)] if ids else []
    as_of = exp.cast(exp.Placeholder(this="as_of"), "timestamp")
    since = exp.Sub(
        this=as_of,
        expression=exp.Mul(
            this=out.bind(spec.within_days),
            expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY")),
        ),
    )
    query = (
        exp.select("account_id")
        .from_(ENGAGEMENT_TABLE)
        .where(exp.GT(this=exp.column("activity_at"), expression=since))
        .where(exp.LTE(this=exp.column("activity_at"), expression=as_of.copy()))
        .where(exp.or_(*kinds))
        .group_by("account_id")
        .having(exp.GTE(this=exp.Count(this=exp.Star()), expression=out.bind(spec.min_activities)))
        .having(
            exp.GTE(
                this=exp.Count(this=exp.Distinct(expressions=[exp.column("person_id")])),
                expression=out.bind(spec.min_persons),
            )
        )
    )
    return exp.In(this=exp.column("account_id", table="a"), query=exp.Subquery(this=query))


def _node(node: Any, out: Compiled) -> exp.Expression:
    if isinstance(node, AllOf):
        return exp.and_(*(exp.paren(_node(n, out)) for n in node.all))
    if isinstance(node, AnyOf):
        return exp.or_(*(exp.paren(_node(n, out)) for n in node.any))
    if isinstance(node, NotOf):
        # NOT of an unknown (NULL) is still unknown: "not" keeps only accounts the inner filter rejects.
        return exp.Not(this=exp.Coalesce(this=exp.paren(_node(node.not_, out)), expressions=[exp.false()]))
    if isinstance(node, EngagementFilter):
        return _engagement(node, out)
    return _leaf(node, out)


def compile_filter(node: Any) -> tuple[str, dict[str, Any]]:
    """(a DuckDB-dialect condition over `unified_accounts as a`, its parameters). The query also
    needs `$as_of` when the filter has an engagement leaf."""
    out = Compiled()
    condition = _node(node, out)
    return condition.sql(dialect="duckdb"), out.params
