"""The warehouse resource: DuckDB (embedded default) or PostgreSQL, chosen by URL in one place."""

from __future__ import annotations

from blueprint_pipeline.errors import WarehouseError
from blueprint_pipeline.paths import DEFAULT_WAREHOUSE_PATH
from blueprint_pipeline.redact import without_passwords
from blueprint_pipeline.warehouse.base import Session, Warehouse, checked_identifier, quote
from blueprint_pipeline.warehouse.duckdb import DuckDBWarehouse
from blueprint_pipeline.warehouse.postgres import PostgresWarehouse

DEFAULT_WAREHOUSE_URL = f"duckdb:///{DEFAULT_WAREHOUSE_PATH}"


def warehouse_from_url(url: str | None = None, schema: str | None = None) -> Warehouse:
    """The one place that maps a URL to an implementation.

    `duckdb:///path/to/file.duckdb` (relative paths allowed) or
    `postgresql+psycopg2://user[:password]@host:port/db`.
    """
    url = url or DEFAULT_WAREHOUSE_URL
    shown = without_passwords(url)  # every message below names the URL: never with its password
    if url.startswith("duckdb:///"):
        path = url.removeprefix("duckdb:///")
        if not path:
            raise WarehouseError(f"bad warehouse URL {shown!r}: expected duckdb:///path/to/file.duckdb")
        return DuckDBWarehouse(path=path)
    if url.startswith("postgresql+psycopg2://"):
        if url.split("://", 1)[1].split("?", 1)[0].count("@") > 1:
            # SQLAlchemy would end the password at the first `@` and take the rest for the host,
            # which the driver's error then prints: refused before any connection.
            raise WarehouseError(
                f"bad warehouse URL {shown!r}: more than one '@'; write an '@' in the user name or "
                "password as %40"
            )
        return PostgresWarehouse(url=url, schema_name=schema or "public")
    if url.startswith(("postgresql://", "postgres://")):
        raise WarehouseError(
            f"warehouse URL {shown!r}: write postgresql+psycopg2://... "
            "(a plain postgresql:// URL selects psycopg 3, which is not installed)"
        )
    raise WarehouseError(
        f"unknown warehouse URL {shown!r}: expected duckdb:///path/to/file.duckdb "
        "or postgresql+psycopg2://user@host:port/db"
    )


__all__ = [
    "DEFAULT_WAREHOUSE_URL",
    "DuckDBWarehouse",
    "PostgresWarehouse",
    "Session",
    "Warehouse",
    "checked_identifier",
    "quote",
    "warehouse_from_url",
]
