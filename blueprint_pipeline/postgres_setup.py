"""Create the PostgreSQL databases a deployment uses, when they are missing (make demo-postgres).

    python -m blueprint_pipeline.postgres_setup postgresql+psycopg2://user@host:5432 warehouse_db dagster_db

The URL names the server (a password in it is never printed); each database is created once.
"""

from __future__ import annotations

import sys

import sqlalchemy as sa

from blueprint_pipeline.redact import without_passwords
from blueprint_pipeline.warehouse import checked_identifier


def create_databases(server_url: str, names: list[str]) -> list[str]:
    """The databases created (the others existed)."""
    url = sa.make_url(server_url).set(database="postgres")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    created = []
    try:
        with engine.connect() as conn:
            # Two setups at once (two deployments, parallel tests) would both see a database missing.
            conn.exec_driver_sql("select pg_advisory_lock(hashtext('blueprint create database'))")
            for name in names:
                checked_identifier(name, "database name")
                if not conn.exec_driver_sql(
                    "select 1 from pg_database where datname = %(n)s", {"n": name}
                ).scalar():
                    conn.exec_driver_sql(f'create database "{name}"')
                    created.append(name)
    finally:
        engine.dispose()
    return created


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    shown = without_passwords(argv[0])
    try:
        created = create_databases(argv[0], argv[1:])
    except (sa.exc.SQLAlchemyError, ValueError) as exc:
        print(f"error: PostgreSQL at {shown}: {without_passwords(str(exc).splitlines()[0])}", file=sys.stderr)
        return 2
    for name in argv[1:]:
        print(f"{shown}/{name}: {'created' if name in created else 'exists'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
