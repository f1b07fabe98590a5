"""What an incremental scoring hands Splink (docs/identity.md#incremental-matching): the touched
records and the records a restricted blocking rule can pair them with, not every record, with the
term frequencies of every record registered beside them.

A restricted rule pairs a touched record only with a record holding the same values of the rule's
equi-join (Splink's own parse of the rule: `letters_key = letters_key`, or `last_name`, the first
initial and `work_domain` together); the rule's other conditions only drop pairs. So the records
sharing such values with a touched record are all the partners there are, and the pairs, their
comparisons and weights are those of scoring against every record, as long as the term
frequencies are every record's (Splink would count them over the records it is given). At 1M
persons a 1% build hands Splink ~160k records instead of 1.76M. The SQL runs in the warehouse, over
`person_match_records` (records.py).
"""

from __future__ import annotations

from splink.internals.blocking import BlockingRule


def _rule_sql(rule) -> str:
    return rule["blocking_rule"] if isinstance(rule, dict) else rule


def equi_joins(model: dict) -> list[list[tuple[str, str]]] | None:
    """Per prediction blocking rule, its equi-join conditions (left expression, right expression,
    unprefixed); None when a rule has none (it may pair anything: no neighbourhood then)."""
    out = []
    for rule in model["blocking_rules_to_generate_predictions"]:
        try:  # Splink's own parse (private): a release without it hands every record over
            conditions = BlockingRule(_rule_sql(rule), "duckdb")._equi_join_conditions
        except AttributeError:
            return None
        if not conditions:
            return None
        out.append(list(conditions))
    return out


def near_sql(model: dict, records: str, touched: str) -> str | None:
    """SQL selecting the `unique_id`s of table `records` a rule of `model` restricted to the
    records of table `touched` (column unique_id) can pair: a touched record, or one holding a
    touched record's values of some rule's equi-join, on either side of the rule. None when a
    rule has no equi-join (then every record)."""
    joins = equi_joins(model)
    if joins is None:
        return None
    mine = f"(select r.* from {records} as r where r.unique_id in (select unique_id from {touched}))"
    selects = [f"select unique_id from {touched}"]
    for conditions in joins:
        for side, other in ((0, 1), (1, 0)):  # the touched record on either side of the rule
            keys = [f"k{i}" for i in range(len(conditions))]
            ours = ", ".join(f"{c[side]} as {k}" for c, k in zip(conditions, keys, strict=True))
            theirs = ", ".join(f"{c[other]} as {k}" for c, k in zip(conditions, keys, strict=True))
            on = " and ".join(f"o.{k} = t.{k}" for k in keys)
            selects.append(
                f"select o.unique_id from (select unique_id, {theirs} from {records}) as o "
                f"where exists (select 1 from (select {ours} from {mine} as m) as t where {on})"
            )
    return " union ".join(selects)


def tf_columns(model: dict) -> list[str]:
    """The columns the model's comparison levels adjust by term frequency."""
    return sorted(
        {
            level["tf_adjustment_column"]
            for comparison in model["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )


def tf_sql(column: str, records: str) -> str:
    """Splink's term-frequency lookup of `column` over every record of table `records`, by
    Splink's formula (splink.internals.term_frequencies: each value's count over the column's
    non-null count, in doubles)."""
    return (
        f"select {column}, cast(count(*) as float8) / (select count({column}) from {records}) "
        f"as tf_{column} from {records} where {column} is not null group by {column}"
    )
