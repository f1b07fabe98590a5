"""Run a model's great-expectations suite (declared under `expectations:` in its YAML).

GX 1.x has no DuckDB datasource (great_expectations issue 10738), so:
- on PostgreSQL the suite runs in the database through GX's SQL datasource (pushdown, all rows);
- on DuckDB it runs on pandas over the whole table up to SAMPLE_ROWS rows, else over a repeatable
  reservoir sample of SAMPLE_ROWS rows (exact checks such as primary keys are SQL tests instead),
  of the columns the expectations name.
GX is imported lazily: it costs seconds, and the command line must start fast.
Only counts and percentages leave this module: GX's lists of unexpected values can hold personal
data and never go into Dagster's event log.
"""

from __future__ import annotations

from dataclasses import dataclass

from blueprint_pipeline.warehouse import PostgresWarehouse, Warehouse, quote

SAMPLE_ROWS = 100_000


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str
    success: bool
    unexpected_percent: float | None


@dataclass(frozen=True)
class SuiteOutcome:
    success: bool
    rows_evaluated: int
    sampled: bool
    outcomes: tuple[ExpectationOutcome, ...]

    def markdown(self) -> str:
        lines = ["| expectation | column | ok | unexpected % |", "|---|---|---|---|"]
        for o in self.outcomes:
            pct = "" if o.unexpected_percent is None else f"{o.unexpected_percent:.2f}"
            lines.append(f"| {o.expectation} | {o.column} | {'yes' if o.success else 'NO'} | {pct} |")
        return "\n".join(lines)


def _expectation(gx, name: str, kwargs: dict):
    class_name = "".join(part.capitalize() for part in name.split("_"))
    try:
        cls = getattr(gx.expectations, class_name)
    except AttributeError:
        raise ValueError(f"unknown great-expectations expectation {name!r}") from None
    return cls(**kwargs)


def build_suite(name: str, expectations: tuple[tuple[str, dict], ...]):
    import great_expectations as gx

    return gx.ExpectationSuite(
        name=name, expectations=[_expectation(gx, n, dict(k)) for n, k in expectations]
    )


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


# The keyword arguments by which an expectation names the columns it reads.
_COLUMN_ARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_ARGS = ("column_list", "column_set")


def read_columns(expectations: tuple[tuple[str, dict], ...]) -> list[str] | None:
    """The columns the expectations read, or None (every column) when one of them names none, as a
    table-level expectation does. Sampling only these reads a tenth of a wide table's bytes."""
    found: dict[str, None] = {}
    for _, kwargs in expectations:
        named = [kwargs[a] for a in _COLUMN_ARGS if a in kwargs]
        named += [c for a in _COLUMN_LIST_ARGS for c in kwargs.get(a) or ()]
        if not named:
            return None
        found.update(dict.fromkeys(str(c) for c in named))
    return list(found)


def _sample(warehouse: Warehouse, total: int) -> str:
    """The clause that samples about SAMPLE_ROWS of `total` rows, the same ones each time: DuckDB's
    reservoir; on Spark, which has none, a Bernoulli sample with a seed (it repeats over a table's
    unchanged parts)."""
    if warehouse.dialect == "spark":
        return f" using sample {100 * SAMPLE_ROWS / total:.6f} percent (bernoulli, 42)"
    return f" using sample reservoir({SAMPLE_ROWS} rows) repeatable (42)"


def run_suite(warehouse: Warehouse, table: str, expectations: tuple[tuple[str, dict], ...]) -> SuiteOutcome:
    suite = build_suite(f"{table}_suite", expectations)
    context = _context()
    total = int(warehouse.scalar(f"select count(*) from {quote(table)}"))
    if isinstance(warehouse, PostgresWarehouse):
        source = context.data_sources.add_postgres("warehouse", connection_string=warehouse.url)
        asset = source.add_table_asset(table, table_name=table, schema_name=warehouse.schema_name)
        result = asset.add_batch_definition_whole_table("all").get_batch().validate(suite)
        rows, sampled = total, False
    else:
        sampled = total > SAMPLE_ROWS
        sample = _sample(warehouse, total) if sampled else ""
        columns = read_columns(expectations)
        picked = ", ".join(quote(c) for c in columns) if columns else "*"
        frame = warehouse.fetch_df(f"select {picked} from {quote(table)}{sample}")
        asset = context.data_sources.add_pandas("warehouse").add_dataframe_asset(table)
        batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": frame}
        )
        result = batch.validate(suite)
        rows = len(frame)
    outcomes = tuple(
        ExpectationOutcome(
            expectation=r.expectation_config.type,
            column=str(r.expectation_config.kwargs.get("column", "")),
            success=bool(r.success),
            unexpected_percent=r.result.get("unexpected_percent"),
        )
        for r in result.results
    )
    return SuiteOutcome(bool(result.success), rows, sampled, outcomes)
