"""The warehouse resource: DuckDB (embedded default), PostgreSQL or Spark, chosen by URL in one place."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.core.paths import DATA_DIR, DEFAULT_WAREHOUSE_PATH
from blueprint_pipeline.core.redact import url_shown
from blueprint_pipeline.warehouse.base import Session, Warehouse, checked_identifier, quote
from blueprint_pipeline.warehouse.duckdb import DuckDBWarehouse
from blueprint_pipeline.warehouse.postgres import PostgresWarehouse
from blueprint_pipeline.warehouse.spark import SparkWarehouse

DEFAULT_WAREHOUSE_URL = f"duckdb:///{DEFAULT_WAREHOUSE_PATH}"
DEFAULT_SPARK_FOLDER = DATA_DIR / "spark-warehouse"
_SPARK_URL = re.compile(
    r"^(spark\+local://(?P<cores>[1-9][0-9]*|\*)|(?P<master>(spark|sc)://[^/?]+))/?(\?(?P<query>.*))?$"
)


def warehouse_from_url(url: str | None = None, schema: str | None = None) -> Warehouse:
    """The one place that maps a URL to an implementation.

    `duckdb:///path/to/file.duckdb` (relative paths allowed; `?memory_limit=2.5GB` bounds the
    engine's buffer, 2 GB by default), `postgresql+psycopg2://user[:password]@host:port/db`, or
    Spark: `spark+local://N` (local mode on N cores), `spark://host:7077` (a standalone cluster)
    or `sc://host:15002` (Spark Connect), each with `?warehouse=/path/to/folder` (the tables'
    folder, data/spark-warehouse by default) and optionally `&catalog=postgresql+psycopg2://...`
    (the catalog and the run lock in PostgreSQL; docs/operations.md).
    """
    url = url or DEFAULT_WAREHOUSE_URL
    # Every message below names the URL: never its user part, where a password or token may be.
    shown = url_shown(url)
    if url.startswith("duckdb:///"):
        path, query = _duckdb_path_and_query(url.removeprefix("duckdb:///"))
        if not path:
            raise WarehouseError(f"bad warehouse URL {shown!r}: expected duckdb:///path/to/file.duckdb")
        return DuckDBWarehouse(path=path, **_duckdb_settings(query, shown))
    if url.startswith(("spark+local://", "spark://", "sc://")):
        return _spark_warehouse(url, shown)
    if url.startswith("postgresql+psycopg2://"):
        refuse_unencoded_at(url, "warehouse URL")
        return PostgresWarehouse(url=url, schema_name=schema or "public")
    if url.startswith(("postgresql://", "postgres://")):
        raise WarehouseError(
            f"warehouse URL {shown!r}: write postgresql+psycopg2://... "
            "(a plain postgresql:// URL selects psycopg 3, which is not installed)"
        )
    raise WarehouseError(
        f"unknown warehouse URL {shown!r}: expected duckdb:///path/to/file.duckdb "
        "or postgresql+psycopg2://user@host:port/db or spark+local://N, spark://host:port, sc://host:port"
    )


def _spark_warehouse(url: str, shown: str) -> SparkWarehouse:
    found = _SPARK_URL.match(url)
    query: dict[str, list[str]] = {}
    # Not parse_qs: it reads '+' as a space, and a catalog URL's scheme holds one.
    for pair in filter(None, (found.group("query") or "").split("&") if found else ()):
        name, _, value = pair.partition("=")
        query.setdefault(name, []).append(unquote(value))
    if (
        not found
        or set(query) - {"warehouse", "catalog"}
        or any(len(v) != 1 or not v[0] for v in query.values())
    ):
        unknown = sorted(set(query) - {"warehouse", "catalog"})
        raise WarehouseError(
            f"bad warehouse URL {shown!r}: "
            + (f"unknown setting {', '.join(map(repr, unknown))}; " if unknown else "")
            + "expected spark+local://N, spark://host:port or sc://host:port, optionally with "
            "?warehouse=/path/to/folder and &catalog=postgresql+psycopg2://... (the catalog and "
            "run lock in PostgreSQL)"
        )
    catalog = query.get("catalog", [None])[0]
    if catalog is not None:
        if not catalog.startswith("postgresql+psycopg2://"):
            raise WarehouseError(
                f"bad warehouse URL {shown!r}: catalog= takes postgresql+psycopg2://user@host:port/db"
            )
        refuse_unencoded_at(catalog, "Spark catalog URL")
    master = f"local[{found.group('cores')}]" if found.group("cores") else found.group("master")
    return SparkWarehouse(
        master=master, path=query.get("warehouse", [str(DEFAULT_SPARK_FOLDER)])[0], catalog_url=catalog
    )


def refuse_unencoded_at(url: str, what: str) -> None:
    """A PostgreSQL URL with more than one `@` before its query is refused before any connection:
    SQLAlchemy would end the password at the first `@` and take the rest for the host, which the
    driver's error then prints ("could not translate host name "CRET@host"")."""
    if url.split("://", 1)[-1].split("?", 1)[0].count("@") > 1:
        raise WarehouseError(
            f"bad {what} {url_shown(url)!r}: more than one '@'; write an '@' in the user name or "
            "password as %40"
        )


__all__ = [
    "DEFAULT_WAREHOUSE_URL",
    "DuckDBWarehouse",
    "PostgresWarehouse",
    "Session",
    "SparkWarehouse",
    "Warehouse",
    "checked_identifier",
    "quote",
    "refuse_unencoded_at",
    "warehouse_from_url",
]


# DuckDB's own spelling of a size (`SET memory_limit`): a number and a unit.
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
_UNIT = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
# Below this DuckDB cannot even open the warehouse and check it (1KB: out of memory at once).
_LEAST_BYTES = 128 * 2**20


def _duckdb_path_and_query(rest: str) -> tuple[str, str]:
    """A DuckDB URL's file and settings: the settings follow the last `?` when what follows holds
    an `=` and no `/` (a folder named `a?b` stays part of the path)."""
    path, mark, query = rest.rpartition("?")
    if mark and not query:  # `file.duckdb?`: no settings
        return path, ""
    if not mark or "/" in query or "=" not in query:
        return rest, ""
    return path, query


def _duckdb_settings(query: str, shown: str) -> dict[str, str]:
    """A DuckDB URL's settings: `memory_limit` only (docs/operations.md), checked before any work."""
    found = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name != "memory_limit":
            raise WarehouseError(
                f"warehouse URL {shown!r}: unknown setting {name!r} (DuckDB takes memory_limit)"
            )
        size = _SIZE.match(values[0].replace(" ", "")) if len(values) == 1 else None
        if size is None or float(size.group(1)) * _UNIT[size.group(2).lower()] < _LEAST_BYTES:
            raise WarehouseError(
                f"warehouse URL {shown!r}: memory_limit={','.join(values)!r}; expected a size such as "
                "2.5GB, at least 128MiB"
            )
        found[name] = size.group(0)
    return found
