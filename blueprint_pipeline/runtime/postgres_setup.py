"""Create the PostgreSQL databases a deployment uses, when they are missing (make demo-postgres).

    .venv/bin/python -m blueprint_pipeline.runtime.postgres_setup URL warehouse_db dagster_db
    (URL: postgresql+psycopg2://user@host:5432)

The URL names the server (its user part, where a password or token is, is never printed); each
database is created once.
"""

from __future__ import annotations

import sys

import sqlalchemy as sa

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.core.redact import url_shown, without_passwords
from blueprint_pipeline.warehouse import checked_identifier, refuse_unencoded_at


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
    shown = url_shown(argv[0])  # scheme://***@host: no user name, password or token
    try:
        refuse_unencoded_at(argv[0], "server URL")
        created = create_databases(argv[0], argv[1:])
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # ImportError: a scheme whose driver is not installed (postgresql+psycopg://).
    except (sa.exc.SQLAlchemyError, ValueError, ImportError) as exc:
        print(f"error: PostgreSQL at {shown}: {without_passwords(str(exc).splitlines()[0])}", file=sys.stderr)
        return 2
    for name in argv[1:]:
        print(f"{shown}/{name}: {'created' if name in created else 'exists'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
