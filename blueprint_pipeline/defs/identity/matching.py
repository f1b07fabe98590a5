"""Probabilistic person matching (Splink): the versioned model, the scored pairs and the person
review queue (docs/identity.md#probabilistic-person-matching). Splink works in the DuckDB
warehouse's own engine, in an in-memory catalog of its own, or on PostgreSQL in an embedded DuckDB
over the comparison columns read from it; only the scored pairs are written back
(docs/decisions.md). A build scores
only the pairs touching new or changed records unless the model changed (incremental.py)."""

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa

from blueprint_pipeline.core.atomic_files import replace_file
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.identity.matching import cleaned, components, pairs, records, state
from blueprint_pipeline.identity.matching.decisions import person_decisions_for
from blueprint_pipeline.identity.matching.incremental import (
    SCORED_PAIRS,
    SCORED_RECORDS,
    SCORING,
    Plan,
    Previous,
    plan,
    restricted,
    reusable,
    training_key,
)
from blueprint_pipeline.identity.matching.model import (
    Records,
    SparkRecords,
    WarehouseRecords,
    read_model_file,
    train,
    version,
)
from blueprint_pipeline.identity.matching.prepare import clean_records, cleaning_key
from blueprint_pipeline.identity.matching.score import scored_pairs
from blueprint_pipeline.identity.stable_ids import RECORDS
from blueprint_pipeline.resources import BlueprintConfigResource, models_dir
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.warehouse import Session, Warehouse

MODELS = "person_match_models"
COMPONENTS = "int_identity_components"
MATCHING_INPUTS = [
    "int_identity_nodes",
    "int_identity_edges",
    "identity_personal_domains",
    "identity_shared_mailboxes",
    "country_names",
]
NODES_SQL = "select source_key from int_identity_nodes"
EDGES_SQL = "select source_key, other_key from int_identity_edges"  # ids, conversions, merges, email
# The graph's other edges: the model's matches and the reviewers' `same` pairs.
MATCH_EDGES = "select source_key, other_key from int_identity_match_pairs where outcome in ('match', 'same')"


# Every compared record, for the length of a `with` (_reader()).
Everyone = Callable[[], AbstractContextManager[Records]]


@dataclass(frozen=True)
class ChosenModel:
    model: dict
    version: str
    origin: str  # trained, reused, model_file <name>
    notes: str
    trained_now: bool


def _model(loaded, everyone: Everyone, previous: Previous, full_refresh: bool):
    """The frozen model file when the config names one; else the last trained model while the
    records have not drifted from it (incremental.reusable); else a model trained on every record
    (`everyone` reads them)."""
    policy = loaded.config.identity.person_matching
    if policy.model_file:
        path = loaded.user_file(policy.model_file)
        model = read_model_file(path, policy.model_file)
        return ChosenModel(model, version(model), f"model_file {path.name}", "", False)
    why = reusable(previous, policy, full_refresh)
    if not why:
        kept = previous.model
        return ChosenModel(kept, version(kept), "reused", "", False)
    with everyone() as found:
        trained = train(found, policy.seed, policy.max_pairs_for_u)
    return ChosenModel(trained.model, trained.version, "trained", f"trained ({why}); {trained.notes}", True)


def _reader(warehouse: Warehouse) -> Everyone:
    """Every compared record, for the length of a `with` (training and a full scoring need them;
    an incremental scoring does not): on DuckDB the warehouse's own rows, Splink working in its
    engine; on PostgreSQL read once as Arrow, when first asked (records.read_all)."""
    read: list[Records] = []

    @contextmanager
    def everyone() -> Iterator[Records]:
        if read:
            yield read[0]
            return
        with warehouse.session() as session:
            found = records.read_all(session)
            if not isinstance(found, WarehouseRecords | SparkRecords):  # held by this session
                read.append(found)
            yield found

    return everyone


def _previous(session: Session) -> Previous:
    """What the last build's matching left (incremental.py), or nothing on a first build."""
    if not all(session.table_exists(t) for t in (SCORED_RECORDS, SCORED_PAIRS, SCORING, MODELS)):
        return Previous()
    scoring = session.fetch_df(f"select * from {SCORING}")
    if not len(scoring):
        return Previous()
    row = scoring.iloc[0].to_dict()
    found = session.fetchall(
        f"select model, records from {MODELS} where version = $v", {"v": row["model_version"]}
    )
    return Previous(
        scoring=row,
        model=json.loads(found[0][0]) if found else None,
        model_records=int(found[0][1]) if found else 0,
    )


def _last_model_version(session: Session, previous: Previous) -> str | None:
    """The model version the last clustering used (on the first build after an upgrade, the last
    pairs' version tells), None on a first build."""
    if previous.scoring is not None:
        return previous.scoring["model_version"]
    if session.table_exists("int_identity_match_pairs"):
        return session.scalar("select max(model_version) from int_identity_match_pairs")
    return None


def _scored(
    warehouse: Warehouse,
    everyone: Everyone,
    model: dict,
    floor: float,
    chosen: Plan,
    into: Path,
) -> int:
    """Writes the raw pairs this build scores to the Parquet file `into` and returns how many:
    all of them (full), those touching a new or changed record (incremental: the others are kept
    in the warehouse, pairs.keep), none when matching is off. An incremental scoring reads only
    the touched records' neighbourhood (neighbourhood.py)."""
    if chosen.mode == "off" or (chosen.mode == "incremental" and not chosen.touched):
        return scored_pairs(pa.table({}), model, floor, into)
    if chosen.mode == "full":
        with everyone() as found:
            return scored_pairs(found, model, floor, into)
    with warehouse.session() as session:
        near = records.read_near(session, model, chosen.touched)
        frequencies = records.term_frequencies(session, model)
    return scored_pairs(near, restricted(model), floor, into, frequencies)


def _record_version(session: Session, row: pd.DataFrame) -> bool:
    """Appends the model's version row unless that version is known: True for a new version."""
    if not session.table_exists(MODELS):
        session.replace_table(MODELS, row)
        return True
    if session.scalar(f"select count(*) from {MODELS} where version = $v", {"v": row["version"].iloc[0]}):
        return False
    session.insert_from_local_query(MODELS, list(row.columns), "select * from r", frames={"r": row})
    return True


def _review_markdown(review: pd.DataFrame, limit: int = 10) -> str:
    """The strongest pairs by rank and evidence (comparison levels and weights), never their
    record keys or values: Dagster's event log keeps metadata for good, beyond forget's reach.
    The pairs themselves are in the table `person_match_review`, in the same order."""
    lines = ["| rank | probability | weight | strongest evidence |", "|---|---|---|---|"]
    for rank, row in enumerate(review.head(limit).itertuples(), start=1):
        parts = sorted(json.loads(row.contributions)[1:], key=lambda p: -abs(p["match_weight"]))[:3]
        evidence = "; ".join(f"{p['comparison']}: {p['level']} ({p['match_weight']:+.1f})" for p in parts)
        lines.append(f"| {rank} | {row.match_probability:.3f} | {row.match_weight:.1f} | {evidence} |")
    return "\n".join(lines)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            MODELS,
            kinds={"python", "splink"},
            deps=[
                "int_identity_nodes",
                "identity_personal_domains",
                "identity_shared_mailboxes",
                "country_names",
            ],
            description="One row per person-matching model version (trained "
            "or frozen), with its Splink settings and parameters. The same data gives the same version.",
        ),
        dg.AssetSpec(
            "int_identity_match_pairs",
            kinds={"python", "splink"},
            deps=MATCHING_INPUTS,
            description="One row per pair of source records the model scored (not already one "
            "person by ids or email) at or above the review floor, and decided pairs: match weight, "
            "probability, outcome (match / review / same / different) and each comparison's contribution.",
        ),
        dg.AssetSpec(
            COMPONENTS,
            kinds={"python", "scipy"},
            deps=MATCHING_INPUTS,  # the components take the matches: what the matching reads
            description="One row per source record with its component (the person it belongs to, "
            "before stable ids): connected components of the identity graph, computed with scipy's "
            "sparse graph routines. The graph's edges are the deterministic ones (ids, conversions, "
            "merges, exact email), then the model's matches and the reviewers' `same` pairs.",
        ),
        dg.AssetSpec(
            "person_match_review",
            kinds={"python"},
            deps=["int_identity_nodes", "int_identity_edges"],
            description="One row per record pair in the review band, undecided: answer same or "
            "different in the person decisions file (docs/identity.md).",
        ),
    ],
)
def person_matching(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    loaded = blueprint_config.loaded
    policy = loaded.config.identity.person_matching
    facts = run_facts(context, loaded.version)
    decisions = person_decisions_for(loaded)
    with warehouse.session() as session:
        countries = dict(session.fetchall("select alias, country from country_names"))
        cleaning = cleaning_key(countries)
        rebuild = cleaned.rebuilt(session, facts.full_refresh)
        to_clean = cleaned.to_clean(session, cleaning, rebuild)
        previous = _previous(session)
        last_version = _last_model_version(session, previous)
    fresh = clean_records(to_clean, countries).append_column("input_hash", to_clean["input_hash"])
    # The kept cleaning takes this build's records first (a cache: a build that fails later
    # leaves it right for the next), then the warehouse builds what is compared from it.
    records_cleaned = len(fresh)
    with warehouse.transaction() as session:
        cleaned_now = cleaned.write(session, fresh, rebuild)
        # Let the raw and cleaned fields go once written: a full build's 1.78M records of them
        # (~1.5 GB) beside the warehouse's buffer made the step's peak (benchmarks.md).
        del to_clean, fresh
        live = records.build(session, policy.max_block_records, cleaned_now)
        known = state.compare(session, records.RECORDS, against_kept=previous.scoring is not None)
    previous = replace(previous, known=known)
    everyone = _reader(warehouse)
    chosen_model = _model(loaded, everyone, previous, facts.full_refresh)
    model, model_version, origin = chosen_model.model, chosen_model.version, chosen_model.origin
    notes = chosen_model.notes.strip("; ")
    path = models_dir() / f"person-match-{model_version}.json"
    replace_file(path, json.dumps(model, indent=2, sort_keys=True).encode())
    chosen = plan(previous, model_version, policy, facts.full_refresh, live)
    # The model's pairs owe their outcome to the model when its version is new to the clustering.
    cause = f"model {model_version}" if last_version not in (None, model_version) else RECORDS
    row = pd.DataFrame(
        [
            {
                "version": model_version,
                "trained_at": pd.Timestamp(facts.as_of),
                "origin": origin,
                "records": live,
                "path": path.name,  # in the models folder: a name, so the row depends on the data only
                "model": json.dumps(model, sort_keys=True),
                "notes": notes,
            }
        ]
    )
    # The scored pairs go through a Parquet file, never a frame in Python (score.scored_pairs).
    with tempfile.TemporaryDirectory(prefix="blueprint-pairs-") as scratch:
        raw = Path(scratch) / "scored_pairs.parquet"
        scored_count = _scored(warehouse, everyone, model, policy.review_floor, chosen, raw)
        scoring = pd.DataFrame(
            [
                {
                    "model_version": model_version,
                    "origin": "model_file" if policy.model_file else "trained",
                    "trained_with": training_key(policy),
                    "review_floor": policy.review_floor,
                    "mode": chosen.mode,
                    "reason": chosen.reason,
                    "scored_at": pd.Timestamp(facts.as_of),
                    "records": live,
                    "records_new": chosen.records_new,
                    "records_changed": chosen.records_changed,
                    "records_gone": chosen.records_gone,
                    "pairs_kept": 0,  # filled in below, once the warehouse kept them
                    "pairs_scored": scored_count,
                }
            ]
        )
        with warehouse.transaction() as session:
            new_version = _record_version(session, row)
            kept = pairs.keep(session, raw, chosen.out)
            scoring["pairs_kept"] = kept
            # The deterministic components sort the pairs out (a pair they join is no edge), then the
            # model's matches and `same` decisions join them: each brought up to date where it can.
            with session.dropped_after(*components.TEMPORARY):
                whole = facts.full_refresh or chosen.out is None
                graph = components.deterministic(session, NODES_SQL, EDGES_SQL, whole)
                apart = components.pairs_apart_sql(session, graph, chosen.out, pairs.MATCH_PAIRS)
                scored = pairs.sort_out(
                    session,
                    records.RECORDS,
                    components.DETERMINISTIC,
                    model_version,
                    policy,
                    decisions.frame,
                    cause,
                    apart,
                )
                joined = components.final(
                    session, COMPONENTS, graph, NODES_SQL, EDGES_SQL, MATCH_EDGES, apart is not None
                )
            nodes, edges = graph.nodes, graph.edges
            # A component is named by its smallest key, one of its own records.
            persons = int(
                session.scalar(f"select count(*) from {COMPONENTS} where source_key = component_key")
            )
            session.replace_table("person_match_review", scored.review)
            kept_state = known if previous.scoring is not None else None  # a state vouched for
            state.write(
                session, records.RECORDS, chosen_model.trained_now, bool(policy.model_file), kept_state
            )
            # A build that found nothing new keeps the last scoring's row: a re-run changes no table.
            unchanged = chosen.mode == "incremental" and not (
                chosen.records_new or chosen.records_changed or chosen.records_gone
            )
            if not (unchanged and previous.scoring):
                session.replace_table(SCORING, scoring)
    if new_version:
        context.log.info(f"person-matching model {model_version} ({origin}) recorded in {MODELS}")
    yield dg.MaterializeResult(
        asset_key=MODELS,
        metadata={
            "version": model_version,
            "new_version": new_version,
            "origin": origin,
            "records": live,
            "records_cleaned": records_cleaned,
            "scoring": f"{chosen.mode}: {chosen.reason}",
            "notes": notes or "(none)",
            **facts.metadata(),
        },
    )
    yield dg.MaterializeResult(
        asset_key="int_identity_match_pairs",
        metadata={
            "dagster/row_count": scored.rows,
            "model_version": model_version,
            "enabled": policy.enabled,
            "merge_threshold": policy.merge_threshold,
            "review_floor": policy.review_floor,
            **scored.stats,
            "scoring": f"{chosen.mode}: {chosen.reason}",
            "pairs_scored_this_build": scored_count,
            "pairs_kept_from_last_build": kept,
            "decisions_file": decisions.path or "(none)",
            **facts.metadata(),
        },
    )
    yield dg.MaterializeResult(
        asset_key=COMPONENTS,
        metadata={
            "dagster/row_count": nodes,
            "persons": persons,
            "deterministic_edges": edges,
            "records_joined_by_matches": joined,
            "dagster/table_name": COMPONENTS,
            **facts.metadata(),
        },
    )
    yield dg.MaterializeResult(
        asset_key="person_match_review",
        metadata={
            **published(warehouse, "person_match_review"),
            "dagster/row_count": len(scored.review),
            "summary/person pairs to review": f"{len(scored.review):,} (model {model_version}; "
            f"{chosen.mode} scoring: {chosen.reason}; {scored_count:,} pair(s) scored, {kept:,} kept)",
            "strongest pairs": dg.MetadataValue.md(_review_markdown(scored.review)),
            **facts.metadata(),
        },
    )
