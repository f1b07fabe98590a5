"""Probabilistic person matching (Splink): the versioned model, the scored pairs and the person
review queue (docs/identity.md#probabilistic-person-matching). Splink runs in an embedded,
in-memory DuckDB over the comparison columns read from the warehouse, on DuckDB and PostgreSQL
alike, and only the scored pairs are written back (docs/decisions.md, issue 22)."""

import json

import dagster as dg
import pandas as pd

from blueprint_pipeline.errors import ConfigError
from blueprint_pipeline.identity.graph import components
from blueprint_pipeline.identity.matching.decisions import person_decisions_for
from blueprint_pipeline.identity.matching.model import train, version
from blueprint_pipeline.identity.matching.prepare import prepare
from blueprint_pipeline.identity.matching.score import score
from blueprint_pipeline.published import published
from blueprint_pipeline.resources import BlueprintConfigResource, models_dir
from blueprint_pipeline.run_facts import run_facts
from blueprint_pipeline.warehouse import Session, Warehouse

AUTOMATION = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
MODELS = "person_match_models"
NODE_FIELDS = "source_key, email, first_name, last_name, company, title, city, country, phone, mobile_phone"


def _model(loaded, records: pd.DataFrame) -> tuple[dict, str, str, str]:
    """(model, version, origin, notes): the frozen model file when the config names one, else a
    model trained on these records."""
    policy = loaded.config.identity.person_matching
    if policy.model_file:
        path = loaded.user_file(policy.model_file)
        if path is None or not path.exists():
            raise ConfigError(
                f"identity.person_matching.model_file: {path or policy.model_file} does not exist"
            )
        try:
            model = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not a Splink model (JSON): {exc}") from exc
        return model, version(model), f"model_file {path.name}", ""
    trained = train(records, policy.seed, policy.max_pairs_for_u)
    return trained.model, trained.version, "trained", trained.notes


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
            group_name="identity",
            kinds={"python", "splink"},
            deps=[
                "int_identity_nodes",
                "identity_personal_domains",
                "identity_shared_mailboxes",
                "country_names",
            ],
            description="One row per person-matching model version (trained "
            "or frozen), with its Splink settings and parameters. The same data gives the same version.",
            automation_condition=AUTOMATION,
        ),
        dg.AssetSpec(
            "int_identity_match_pairs",
            group_name="identity",
            kinds={"python", "splink"},
            deps=[
                "int_identity_nodes",
                "int_identity_edges",
                "identity_personal_domains",
                "identity_shared_mailboxes",
                "country_names",
            ],
            description="One row per pair of source records the model scored (not already one "
            "person by ids or email) at or above the review floor, and decided pairs: match weight, "
            "probability, outcome (match / review / same / different) and each comparison's contribution.",
            automation_condition=AUTOMATION,
        ),
        dg.AssetSpec(
            "person_match_review",
            group_name="identity",
            kinds={"python"},
            deps=["int_identity_nodes", "int_identity_edges"],
            description="One row per record pair in the review band, undecided: answer same or "
            "different in the person decisions file (docs/identity.md).",
            automation_condition=AUTOMATION,
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
        nodes = session.fetch_df(f"select {NODE_FIELDS} from int_identity_nodes where is_live")
        keys = session.fetch_df("select source_key from int_identity_nodes")["source_key"]
        edges = session.fetch_df("select source_key, other_key from int_identity_edges")
        countries = dict(session.fetchall("select alias, country from country_names"))
        personal = set(session.fetch_df("select domain from identity_personal_domains")["domain"])
        shared = frozenset(session.fetch_df("select email from identity_shared_mailboxes")["email"])
    records = prepare(nodes, countries, personal, shared)
    model, model_version, origin, notes = _model(loaded, records)
    path = models_dir() / f"person-match-{model_version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, indent=2, sort_keys=True), encoding="utf-8")
    scored = score(records, components(keys, edges), model, model_version, policy, decisions.frame, set(keys))
    row = pd.DataFrame(
        [
            {
                "version": model_version,
                "trained_at": pd.Timestamp(facts.as_of),
                "origin": origin,
                "records": len(records),
                "path": path.name,  # in the models folder: a name, so the row depends on the data only
                "model": json.dumps(model, sort_keys=True),
                "notes": notes,
            }
        ]
    )
    with warehouse.transaction() as session:
        new_version = _record_version(session, row)
        session.replace_table("int_identity_match_pairs", scored.pairs)
        session.replace_table("person_match_review", scored.review)
    if new_version:
        context.log.info(f"person-matching model {model_version} ({origin}) recorded in {MODELS}")
    yield dg.MaterializeResult(
        asset_key=MODELS,
        metadata={
            "version": model_version,
            "new_version": new_version,
            "origin": origin,
            "records": len(records),
            "notes": notes or "(none)",
            **facts.metadata(),
        },
    )
    yield dg.MaterializeResult(
        asset_key="int_identity_match_pairs",
        metadata={
            "dagster/row_count": len(scored.pairs),
            "model_version": model_version,
            "enabled": policy.enabled,
            "merge_threshold": policy.merge_threshold,
            "review_floor": policy.review_floor,
            **scored.stats,
            "decisions_file": decisions.path or "(none)",
            **facts.metadata(),
        },
    )
    yield dg.MaterializeResult(
        asset_key="person_match_review",
        metadata={
            **published(warehouse, "person_match_review"),
            "dagster/row_count": len(scored.review),
            "summary/person pairs to review": f"{len(scored.review):,} (model {model_version})",
            "strongest pairs": dg.MetadataValue.md(_review_markdown(scored.review)),
            **facts.metadata(),
        },
    )
