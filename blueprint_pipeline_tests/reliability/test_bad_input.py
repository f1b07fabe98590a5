"""The bad-input suite: generated extracts and config files, never a traceback.

Extracts: a Salesforce Opportunity file (every column type the contracts use: ids, text, numbers,
booleans, dates, timestamps) built from records hypothesis draws, then spoilt: re-encoded, a huge
field, a stray or unclosed quote, wrong types, a column missing or added, bytes that are not text.
Each file must be ingested or skipped with a reason; when ingested, every record is in the raw
table or in quarantine (none lost, none twice), and landing the same bytes again loads nothing.

Config: the example config's files, mutated (keys dropped, values replaced by other types, hostile
names, broken YAML): loading either succeeds or raises ConfigError naming the file.

The number of cases tried is set by BLUEPRINT_FUZZ_EXAMPLES (default 60 per test, to keep CI short;
docs/reliability.md records a run of 500).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import PROJECT_DIR, SQL_PROJECT_DIR
from blueprint_pipeline.ingestion.raw_load import ingest_object
from blueprint_pipeline.resources import load_config
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.warehouse import DuckDBWarehouse

EXAMPLES = int(os.environ.get("BLUEPRINT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure in CI is reproducible here
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OPPORTUNITY = load_project(SQL_PROJECT_DIR).sources[("salesforce", "Opportunity")]
AS_OF = datetime(2026, 3, 1)

# Values per column type, good and bad: the reader must quarantine the bad ones, not crash.
text = st.text(st.characters(codec="utf-8", exclude_characters="\x00\r"), max_size=30)
VALUES = {
    "sfid": st.one_of(
        st.from_regex(r"006[0-9A-Za-z]{12}", fullmatch=True), st.sampled_from(["", "x", "006'; drop"])
    ),
    "number": st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(str), st.just("12,5"), text),
    "boolean": st.sampled_from(["true", "false", "TRUE", "0", "1", "", "yes", "maybe"]),
    "date": st.one_of(st.dates().map(str), st.sampled_from(["", "2026-02-30", "31/12/2026"])),
    "timestamp": st.one_of(
        st.datetimes().map(lambda d: d.isoformat()), st.sampled_from(["", "2026-13-01T00:00:00Z", "now"])
    ),
    "text": text,
}


@st.composite
def records(draw) -> list[list[str]]:
    ids = draw(st.lists(st.from_regex(r"006[0-9A-Z]{12}", fullmatch=True), min_size=0, max_size=8))
    return [
        [row_id, *(draw(VALUES[OPPORTUNITY.type_of(c)]) for c in OPPORTUNITY.columns[1:])] for row_id in ids
    ]


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


SPOILS = ("none", "cp1252", "latin-1", "utf-8-sig", "huge_field", "missing_column", "extra_column",
          "missing_key", "stray_quote", "unclosed_quote", "random_bytes", "truncated")  # fmt: skip


@st.composite
def extracts(draw) -> tuple[bytes, str, int | None]:
    """(file bytes, spoil, records the file holds when that count is well defined, else None)."""
    rows = draw(records())
    header = list(OPPORTUNITY.columns)
    spoil = draw(st.sampled_from(SPOILS))
    if spoil == "huge_field" and rows:
        rows[0][2] = "x" * draw(st.integers(100_000, 2_000_000))
    if spoil in ("missing_column", "missing_key"):
        drop = 0 if spoil == "missing_key" else draw(st.integers(1, len(header) - 1))
        header.pop(drop)
        rows = [r[:drop] + r[drop + 1 :] for r in rows]
    if spoil == "extra_column":
        header.append(draw(st.sampled_from(["Extra", "Id", "Name ", "é"])))
        rows = [[*r, draw(text)] for r in rows]
    content = _csv(header, rows)
    count: int | None = len(rows)
    if spoil in ("cp1252", "latin-1", "utf-8-sig"):
        data = content.encode(spoil, errors="replace")
    elif spoil == "stray_quote" and rows:
        data = content.replace(",", ',"', 1).encode()  # a quote opened in the header line
        count = None
    elif spoil == "unclosed_quote":
        data = (content + '006000000000009,"never closed\n').encode()
        count = None
    elif spoil == "random_bytes":
        data = content.encode() + draw(st.binary(min_size=1, max_size=200))
        count = None
    elif spoil == "truncated":
        data = content.encode()[: draw(st.integers(0, max(0, len(content.encode()) - 1)))]
        count = None
    else:
        data = content.encode()
    return data, spoil, count


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(case=extracts())
def test_a_spoilt_extract_is_loaded_or_skipped_never_lost_or_doubled(scratch, case):
    data, spoil, count = case
    root = Path(scratch) / "case"
    shutil.rmtree(root, ignore_errors=True)
    (root / "salesforce").mkdir(parents=True)
    (root / "salesforce" / "Opportunity.csv").write_bytes(data)
    warehouse = DuckDBWarehouse(path=str(root / "warehouse.duckdb"))

    [outcome] = ingest_object(warehouse, root, OPPORTUNITY, {}, {}, AS_OF).files
    event(f"{spoil}: {outcome.status}")  # tallies for docs/reliability.md (--hypothesis-show-statistics)
    raw = warehouse.scalar("select count(*) from raw_salesforce__opportunity")
    quarantined = warehouse.scalar("select count(*) from quarantine")
    ledger = warehouse.fetchall("select rows_loaded, rows_quarantined from ingested_files")
    if outcome.status == "skipped":
        assert outcome.reason and "Traceback" not in outcome.reason
        assert (raw, quarantined, ledger) == (0, 0, []), "a skipped file left rows behind"
    else:
        assert outcome.status == "ingested", outcome
        assert ledger == [(raw, quarantined)] == [(outcome.rows, outcome.quarantined)]
        if count is not None:
            assert raw + quarantined == count, f"{spoil}: {raw} loaded + {quarantined} quarantined != {count}"
        if spoil == "missing_key":
            pytest.fail("a file without the key column was loaded")
        [again] = ingest_object(warehouse, root, OPPORTUNITY, {}, {}, AS_OF).files
        assert again.status == "already ingested"
        assert warehouse.scalar("select count(*) from raw_salesforce__opportunity") == raw


CONFIG = PROJECT_DIR / "examples" / "config"
SECTION_FILES = sorted(p.name for p in CONFIG.glob("*.yaml"))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True),
    st.sampled_from(["", "x'; drop table accounts; --", "a\"b", "../../etc/passwd", "{{ 7*7 }}", "é" * 300]),
)  # fmt: skip


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


@st.composite
def config_mutations(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(SECTION_FILES))
    source = (CONFIG / name).read_text()
    how = draw(st.sampled_from(["replace", "drop", "rename", "broken_yaml"]))
    if how == "broken_yaml":
        cut = draw(st.integers(0, len(source)))
        broken = draw(st.sampled_from([": : :", "\t- [", "{", "'", "\x00", "&a *b"]))
        return name, source[:cut] + broken + source[cut:]
    data = yaml.safe_load(source)
    paths = [p for p in _paths(data) if p]
    if not paths:
        return name, yaml.safe_dump(draw(scalars))
    path = draw(st.sampled_from(paths))
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    if how == "replace":
        parent[path[-1]] = draw(
            st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(text, scalars, max_size=2))
        )
    elif how == "drop":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["", "x y", "a;b", "Ünïcode", "1st"]))] = parent.pop(path[-1])
    return name, yaml.safe_dump(data, allow_unicode=True)


@FUZZ
@given(mutation=config_mutations())
def test_a_mutated_config_loads_or_names_its_file(scratch, mutation):
    name, text = mutation
    folder = Path(scratch) / "config"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(CONFIG, folder)
    (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(folder)
        event("loaded")
    except ConfigError as exc:
        event("ConfigError")
        message = str(exc)
        assert message and "Traceback" not in message
        assert name in message or str(folder) in message, message
