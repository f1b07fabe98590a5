"""Person matching on a Spark warehouse: Splink's Spark backend trains and scores where the records
lie (records.read_all() gives them as a DataFrame over the warehouse's parts), so no record passes
through the driver; the scored pairs leave as Parquet the executors write, read by the driver's
embedded DuckDB in a stream (score.scored_pairs).

The model stays in DuckDB's SQL: its version is the hash of that text, so one model file serves
every warehouse. Its conditions are translated for Spark here (sqlglot, and Splink's similarity
functions from the jar `spark.spark_for` puts on the classpath: `jaro_winkler`,
`damerau_levenshtein`), and a model trained on Spark has its parameters put back on DuckDB's
text, comparison by comparison and level by level (docs/decisions.md).
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import sqlglot
from splink import Linker, SettingsCreator
from splink.backends.spark import SparkAPI, similarity_jar_location
from sqlglot import exp

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.identity.matching.model import SparkRecords, duckdb_saved_settings, splink_duckdb
from blueprint_pipeline.warehouse.base import sql_text
from blueprint_pipeline.warehouse.spark import arrow_of

# Splink's functions in DuckDB's SQL and their names in the jar (scala-udf-similarity): the same
# measures (docs/decisions.md has where they differ: never at the model's thresholds).
_FUNCTIONS = {exp.JarowinklerSimilarity: "jaro_winkler"}
# The prediction columns the waterfall text reads (score._contributions_sql).
_PAIR_PREFIXES = ("gamma_", "mw_")
_PAIR_COLUMNS = ("unique_id_l", "unique_id_r", "match_weight", "match_probability")


def spark_condition(sql: str) -> str:
    """A condition (a comparison level's, a blocking rule) in DuckDB's SQL, in Spark's."""
    if sql.strip().upper() == "ELSE":
        return sql

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.ArrayOverlaps):  # list_has_any: DuckDB's && is no Spark operator
            return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
        if type(node) in _FUNCTIONS:
            return exp.Anonymous(this=_FUNCTIONS[type(node)], expressions=[node.this, node.expression])
        return node

    return sqlglot.parse_one(sql, read="duckdb").transform(rewrite).sql(dialect="spark")


def spark_model(model: dict | SettingsCreator) -> dict:
    """`model` (DuckDB's SQL) with its conditions and blocking rules in Spark's."""
    out = json.loads(json.dumps(model if isinstance(model, dict) else model.get_settings("duckdb").as_dict()))
    out["sql_dialect"] = "spark"
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = spark_condition(level["sql_condition"])
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict):
            rule["blocking_rule"] = spark_condition(rule["blocking_rule"])
            rule["sql_dialect"] = "spark"
    return out


_PARAMETERS = ("m_probability", "u_probability")


def on_duckdb_text(template: dict, trained: dict) -> dict:
    """The parameters of `trained` (a model Splink saved on Spark) on `template`'s text (the same
    model in DuckDB's SQL, as Splink saves it): comparisons and their levels align by position."""
    out = json.loads(json.dumps(template))
    out["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    for kept, found in zip(out["comparisons"], trained["comparisons"], strict=True):
        for level, learnt in zip(kept["comparison_levels"], found["comparison_levels"], strict=True):
            for key in _PARAMETERS:
                if key in learnt:
                    level[key] = learnt[key]
                else:
                    level.pop(key, None)
    return out


# The temporary views a work leaves: its records' and samples', Splink's inputs and steps.
_WORK_VIEWS = ("person_records_", "splink_input_", "person_tf_", "__splink")


class SparkWork:
    """Splink's work in the Spark session that read the records (model.workspace()): its linkers,
    the questions training asks, and the predictions' way out."""

    def __init__(self, records: SparkRecords):
        self.records = records
        self.spark = records.frame.sparkSession
        self.partitions = int(self.spark.conf.get("spark.sql.shuffle.partitions"))
        self._api()  # registers the jar's functions: checked before any work
        if not self.spark.catalog.functionExists("jaro_winkler"):
            raise WarehouseError(
                "Spark warehouse: Splink's similarity functions are not loaded (jaro_winkler): the "
                f"Spark context was started without {similarity_jar_location()} on spark.jars"
            )
        self.table = f"person_records_{uuid.uuid4().hex[:12]}"
        records.frame.createOrReplaceTempView(self.table)

    def _api(self) -> SparkAPI:
        """A Splink API of its own per linker (Splink caches its steps per API, by name).
        persist: a step's table is cached by the executors (Splink's other ways write checkpoints
        to a folder of its choosing)."""
        return SparkAPI(
            spark_session=self.spark,
            break_lineage_method="persist",
            num_partitions_on_repartition=self.partitions,
        )

    @classmethod
    @contextmanager
    def over(cls, records: SparkRecords) -> Iterator[SparkWork]:
        spark = records.frame.sparkSession
        before = {t.name for t in spark.catalog.listTables() if t.isTemporary}
        try:
            yield cls(records)
        finally:
            # The work's views and Splink's steps (cached) go with it; the warehouse session's
            # own views (its tables' names) stay registered.
            for table in spark.catalog.listTables():
                if table.isTemporary and table.name not in before and table.name.startswith(_WORK_VIEWS):
                    try:
                        spark.catalog.uncacheTable(table.name)
                        spark.catalog.dropTempView(table.name)
                    except Exception as exc:  # one view left is no reason to hide the work's outcome
                        logging.getLogger(__name__).warning("Spark view %s not dropped: %s", table.name, exc)

    def linker(
        self,
        model: dict | SettingsCreator,
        term_frequencies: dict[str, pd.DataFrame] | None = None,
    ) -> Linker:
        """A Linker over the records; `model` in DuckDB's SQL."""
        api = self._api()
        registered = api.register(self.table, table_name=f"splink_input_{uuid.uuid4().hex[:12]}")
        found = Linker(registered, spark_model(model), log_level=None)
        for column, lookup in (term_frequencies or {}).items():
            tf = api.register(lookup, table_name=f"person_tf_{column}_{uuid.uuid4().hex[:8]}")
            found.table_management.register_term_frequency_lookup(tf, column)
        return found

    def rule(self, rule: str) -> str:
        """A blocking rule of model.py (DuckDB's SQL) for Splink here."""
        return spark_condition(rule)

    def has_pairs(self, rule: str) -> bool:
        query = (
            f"select 1 from {self.table} l join {self.table} r "
            f"on l.unique_id < r.unique_id and ({spark_condition(rule)}) limit 1"
        )
        return bool(self.spark.sql(query).take(1))

    def u_records(self, condition: str | None):
        """The records u is estimated on (model.u_sample_sql()), a few hundred, read out."""
        frame = self.spark.table(self.table)
        return arrow_of(frame.where(spark_condition(condition)) if condition else frame)

    def model_of(self, trained: Linker) -> dict:
        """The model of a linker training made (from settings()), on DuckDB's text."""
        return on_duckdb_text(duckdb_saved_settings(), trained.misc.save_model_to_json())

    @contextmanager
    def pairs(self, found) -> Iterator[tuple[object, str]]:
        """Splink's predictions `found`, written by the executors as Parquet to a scratch folder
        of the warehouse folder (removed after), as a relation of an embedded DuckDB that reads
        them in a stream: (connection, its SQL)."""
        frame = self.spark.table(found.physical_name)
        kept = [c for c in frame.columns if c in _PAIR_COLUMNS or c.startswith(_PAIR_PREFIXES)]
        folder = self.records.folder / f".splink-pairs-{uuid.uuid4().hex[:12]}"
        try:
            frame.select(kept).write.parquet(str(folder))
            with splink_duckdb() as connection:
                if any(folder.glob("*.parquet")):
                    yield connection, f"read_parquet({sql_text(str(folder / '*.parquet'))})"
                else:  # no pair: Spark wrote no file to read the columns from
                    connection.register("no_pairs", frame.select(kept).limit(0).toPandas())
                    yield connection, "no_pairs"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
