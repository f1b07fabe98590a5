"""Phone numbers to E.164 with `phonenumbers`, so that `(415) 555-0100`, `415.555.0100` and
`+1 415 555 0100` compare equal. A number without a country code is read in the record's country
when it is known (United States when not: most CRM numbers without a code are North American).

phonenumbers parses in pure Python (~7 us a number: 12 s of one core for the 1.5M numbers of 1M
persons), so many numbers are split between this process and worker processes, one per spare
core. A worker is `python -m` this module on Arrow files: a multiprocessing worker would import
the parent's main module first (the CLI and Dagster, seconds), this one imports phonenumbers
only."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import phonenumbers
import pyarrow as pa

DEFAULT_REGION = "US"
PARALLEL_FROM = 50_000  # numbers; below this a worker's start (~0.3 s) costs more than it saves
MAX_PARTS = 8  # a container may see more cores than its CPU quota gives it


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
    return [to_e164(r, g) for r, g in zip(raws, regions, strict=True)]


def _write(path: str, column: str, values: list) -> None:
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, pa.schema([(column, pa.string())])) as writer:
        writer.write_table(pa.table({column: pa.array(values, pa.string())}))


def _read(path: str, column: str) -> list:
    with pa.memory_map(path) as source:
        return pa.ipc.open_file(source).read_all()[column].to_pylist()


def to_e164_all(raws: list[str | None], regions: list[str | None]) -> list[str | None]:
    """to_e164 of each (number, region), the same answers, spread over the machine's cores when
    there are many: the last parts go to worker processes (through Arrow files in a temporary
    folder) while this one parses the first."""
    parts = min(_cores(), MAX_PARTS, len(raws) // PARALLEL_FROM)
    if parts < 2:
        return _each(raws, regions)
    bounds = [len(raws) * i // parts for i in range(parts + 1)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }  # this package, however found
    with tempfile.TemporaryDirectory(prefix="phones-") as folder:
        workers: list[tuple[subprocess.Popen, str]] = []
        try:
            for n, (lo, hi) in enumerate(zip(bounds[1:-1], bounds[2:], strict=True)):
                given, found = os.path.join(folder, f"{n}.raw"), os.path.join(folder, f"{n}.e164")
                _write(given, "raw", raws[lo:hi])
                _write(given + ".region", "region", regions[lo:hi])
                workers.append(
                    (subprocess.Popen([sys.executable, "-m", __name__, given, found], env=env), found)
                )
            parsed = _each(raws[: bounds[1]], regions[: bounds[1]])
            for worker, found in workers:
                if worker.wait() != 0:
                    raise RuntimeError(
                        f"a phone-number worker ({__name__}) failed with exit code {worker.returncode}"
                    )
                parsed += _read(found, "e164")
        finally:  # on any error here, no worker outlives the call (nor its folder)
            for worker, _ in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
    return parsed


def _work(given: str, found: str) -> None:
    """A worker: the numbers and regions in the Arrow files `given` and `given`.region, their
    E.164 written to the Arrow file `found`."""
    _write(found, "e164", _each(_read(given, "raw"), _read(given + ".region", "region")))


if __name__ == "__main__":
    _work(*sys.argv[1:3])
