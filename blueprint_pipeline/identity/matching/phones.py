"""Phone numbers to E.164 with `phonenumbers`, so that `(415) 555-0100`, `415.555.0100` and
`+1 415 555 0100` compare equal. A number without a country code is read in the record's country
when it is known (United States when not: most CRM numbers without a code are North American).

phonenumbers parses in pure Python (~7 us a number: 12 s of one core for the 1.5M numbers of 1M
persons), so many numbers are split between this process and worker processes, one per spare
core. A worker is `python -m` this module, fed Arrow over its stdin: a multiprocessing worker
would import the parent's main module first (the CLI and Dagster, seconds), this one imports
phonenumbers only."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import lru_cache

import phonenumbers
import pyarrow as pa

DEFAULT_REGION = "US"
PARALLEL_FROM = 50_000  # numbers; below this a worker's start (~0.3 s) costs more than it saves


def region_codes(countries: dict[str, str]) -> dict[str, str]:
    """Country spelling (lower case) -> ISO region, from the seed `country_names` (alias ->
    country): a country's two-letter alias that phonenumbers knows (gb for United Kingdom; `uk`
    is no region)."""
    regions: dict[str, str] = {}
    by_country: dict[str, str] = {}
    for alias, country in countries.items():
        code = alias.strip().upper()
        if len(code) == 2 and code in phonenumbers.SUPPORTED_REGIONS:
            by_country.setdefault(country, code)
    for alias, country in countries.items():
        if country in by_country:
            regions[alias.strip().lower()] = by_country[country]
            regions[country.strip().lower()] = by_country[country]
    return regions


@lru_cache(maxsize=200_000)
def to_e164(raw: str | None, region: str | None) -> str | None:
    """'(415) 555-0100' in US -> '+14155550100'; None for empty or unparseable text (a number too
    short or too long for its region is no number: it cannot match anyone reliably)."""
    if raw is None or not str(raw).strip():
        return None
    try:
        number = phonenumbers.parse(str(raw), region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _each(raws: list, regions: list) -> list[str | None]:
    return [to_e164.__wrapped__(r, g) for r, g in zip(raws, regions, strict=True)]


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def to_e164_all(raws: list[str | None], regions: list[str | None]) -> list[str | None]:
    """to_e164 of each (number, region), the same answers, spread over the machine's cores when
    there are many: the last parts go to worker processes while this one parses the first."""
    parts = min(_cores(), len(raws) // PARALLEL_FROM)
    if parts < 2:
        return _each(raws, regions)
    bounds = [len(raws) * i // parts for i in range(parts + 1)]
    workers = []
    for lo, hi in zip(bounds[1:-1], bounds[2:], strict=True):
        worker = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        table = pa.table(
            {"raw": pa.array(raws[lo:hi], pa.string()), "region": pa.array(regions[lo:hi], pa.string())}
        )
        worker.stdin.write(_ipc(table))
        worker.stdin.close()
        workers.append(worker)
    found = _each(raws[: bounds[1]], regions[: bounds[1]])
    for worker in workers:
        out = worker.stdout.read()
        if worker.wait() != 0:
            raise RuntimeError(
                f"a phone-number worker ({__name__}) failed with exit code {worker.returncode}"
            )
        found += pa.ipc.open_stream(out).read_all()["e164"].to_pylist()
    return found


def _work() -> None:
    """A worker: (raw, region) rows in on stdin, their E.164 out on stdout, Arrow both ways."""
    table = pa.ipc.open_stream(sys.stdin.buffer.read()).read_all()
    found = _each(table["raw"].to_pylist(), table["region"].to_pylist())
    sys.stdout.buffer.write(_ipc(pa.table({"e164": pa.array(found, pa.string())})))


if __name__ == "__main__":
    _work()
