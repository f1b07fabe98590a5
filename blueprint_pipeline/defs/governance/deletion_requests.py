"""Deletion requests dropped in the landing directory (docs/governance.md#right-to-be-forgotten)."""

import csv
from pathlib import Path

import dagster as dg

from blueprint_pipeline.core.atomic_files import replace_file
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.governance.forget import ForgetError, Outcome, forget
from blueprint_pipeline.governance.requests import places, read_requests
from blueprint_pipeline.resources import (
    ActivationResource,
    BlueprintConfigResource,
    DeliveryResource,
    LandingResource,
    reports_dir,
)
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.warehouse import Warehouse

FOLDER = "deletion_requests"
# After ingestion. Steps run one at a time (in-process executor) and erasure covers every table,
# so models built earlier in the same run lose the rows too, and later ones never see them.
RAW_TABLES = sorted(o.table for o in load_project(SQL_PROJECT_DIR).sources.values())


def apply(addresses: list[str], apply_one) -> tuple[list[Outcome], list[str], str]:
    """Forget the addresses of one request file: all at once (one pass), and if that fails, each
    on its own, so one request that cannot be applied does not hold back the others. Returns the
    outcomes, the addresses not applied, and why (the error's kind only: an error text may quote a
    value of theirs, and this goes to Dagster's event log)."""
    try:
        return apply_one(addresses), [], ""
    except ForgetError as exc:
        reason = type(exc.__cause__ or exc).__name__
        if len(addresses) == 1:
            return [], addresses, reason
    outcomes, failed = [], []
    for address in addresses:
        try:
            outcomes += apply_one([address])
        except ForgetError as exc:
            failed.append(address)
            reason = type(exc.__cause__ or exc).__name__
    return outcomes, failed, reason


def keep_only(path: Path, addresses: list[str]) -> None:
    """Rewrite a request file to hold only the requests still to apply (a new file renamed over
    it: a kill leaves the old file or the new one, never half of one)."""
    replace_file(path, ("email\n" + "".join(f"{a}\n" for a in addresses)).encode())


@dg.asset(
    kinds={"python"},
    deps=RAW_TABLES,
)
def deletion_requests(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    blueprint_config: BlueprintConfigResource,
    landing: LandingResource,
    activation: ActivationResource,
    delivery: DeliveryResource,
) -> dg.MaterializeResult:
    """Applies the files of `landing/deletion_requests/` (CSV with an `email` column): each person
    is forgotten in every table and file (`blueprint forget`), and the request file, which names
    them, is deleted. A request that cannot be applied stays in its file (alone) for the next
    build and is counted in the summary; the others are applied, and the asset does not fail.
    The audit table `forget_requests` keeps hashes and counts only."""
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    folder = landing.root / FOLDER
    files = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
    applied, skipped, outcomes, not_applied = [], [], [], 0
    for path in files:
        try:
            addresses = read_requests(path)
        except (ValueError, UnicodeDecodeError, csv.Error) as exc:
            skipped.append(f"{path.name}: {exc}")
            context.log.warning(f"{FOLDER}/{path.name}: not applied: {exc}")
            continue
        done, failed, reason = apply(
            addresses,
            lambda some, path=path: forget(
                warehouse,
                some,
                origin=f"file {path.name}",
                at=facts.as_of,
                places=places(
                    loaded, landing.root, activation.root, delivery.mailbox_folder(), reports_dir()
                ),
            ),
        )
        outcomes += done
        if failed:
            keep_only(path, failed)  # it names them: only those still to forget
            not_applied += len(failed)
            context.log.warning(
                f"{FOLDER}/{path.name}: {len(failed)} of {len(addresses)} request(s) not applied "
                f"({reason}); kept in the file for the next build. Run `blueprint forget --file` on "
                "it to see the error."
            )
        else:
            path.unlink()  # it names the persons: the audit keeps their hashes
        if done:
            applied.append(path.name)
    for outcome in outcomes:
        context.log.info(outcome.describe())
    deleted = sum(sum(o.deleted.values()) for o in outcomes)
    return dg.MaterializeResult(
        metadata={
            "requests": len(outcomes),
            "files_applied": ", ".join(applied) or "none",
            "files_skipped": dg.MetadataValue.md("\n".join(f"- {s}" for s in skipped) or "none"),
            "rows_deleted": deleted,
            "requests_not_applied": not_applied,
            **(
                {
                    "summary/forget requests not applied": f"{not_applied} request(s) not applied, kept in "
                    f"{FOLDER}/ for the next build (see the asset's log)"
                }
                if not_applied
                else {}
            ),
            **(
                {
                    "summary/forgotten": f"{len(outcomes)} person request(s) from {len(applied)} file(s), "
                    f"{deleted:,} row(s) deleted (audit: forget_requests)"
                }
                if outcomes
                else {}
            ),
            **facts.metadata(),
        }
    )
