"""Where a build's memory goes, step by step (docs/benchmarks.md#memory-per-step).

A thread samples, a few times a second, the whole process's resident memory, the warehouse
engine's own accounting (DuckDB's `duckdb_memory()`: its buffer, which spills to disk beyond
`memory_limit`) and, when asked, the Python heap (tracemalloc: it slows allocation, so it is off
unless `BLUEPRINT_TRACE_PYTHON_HEAP=1`). After the run each step gets the peaks of the samples
taken while it ran (Dagster's step start and end times). "Outside the engine" is resident memory
less the engine's buffer: what the run's own code holds (pandas frames, Python objects, a
library's embedded engine such as Splink's DuckDB), the figure issue 25 bounds.

Steps run in this process only with the in-process executor; with another executor the samples
see the coordinating process alone, and the summary says so.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass

TRACE_ENV = "BLUEPRINT_TRACE_PYTHON_HEAP"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory now (Linux /proc; 0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return 0


@dataclass(frozen=True)
class Sample:
    at: float  # epoch seconds
    resident: int
    engine: int  # the warehouse engine's own accounting in this process (0 when it has none here)
    python: int | None  # tracemalloc's traced bytes, when tracing


@dataclass(frozen=True)
class StepMemory:
    """A step's peaks, in bytes, over the samples taken while it ran."""

    resident: int
    engine: int
    outside_engine: int  # max over samples of resident - engine
    python: int | None

    def as_dict(self) -> dict:
        return asdict(self)


class MemorySampler:
    """`with MemorySampler(engine_bytes) as sampler:` samples until the block ends."""

    def __init__(self, engine_bytes: Callable[[], int | None], interval: float = 0.2):
        self._engine_bytes = engine_bytes
        self._interval = interval
        self._trace = os.environ.get(TRACE_ENV) == "1"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self.samples: list[Sample] = []

    def __enter__(self) -> MemorySampler:
        if self._trace and not tracemalloc.is_tracing():
            tracemalloc.start()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(self._sample())  # the state at the end, too
        if self._trace:
            tracemalloc.stop()

    def _sample(self) -> Sample:
        try:
            engine = self._engine_bytes() or 0
        except Exception:  # the engine closing under the sample: count nothing this once
            engine = 0
        python = tracemalloc.get_traced_memory()[0] if self._trace and tracemalloc.is_tracing() else None
        return Sample(time.time(), resident_bytes(), engine, python)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._sample())
            self._stop.wait(self._interval)

    @property
    def peak_resident(self) -> int:
        return max((s.resident for s in self.samples), default=0)


def per_step(samples: list[Sample], spans: dict[str, tuple[float, float]]) -> dict[str, StepMemory]:
    """Each step's peaks over the samples within its (start, end); a step shorter than the
    sampling interval gets the sample nearest its end."""
    out = {}
    for step, (start, end) in spans.items():
        inside = [s for s in samples if start <= s.at <= end]
        if not inside and samples:
            inside = [min(samples, key=lambda s: abs(s.at - end))]
        if not inside:
            continue
        pythons = [s.python for s in inside if s.python is not None]
        out[step] = StepMemory(
            resident=max(s.resident for s in inside),
            engine=max(s.engine for s in inside),
            # The engine may count buffer pages not yet resident: never below nothing.
            outside_engine=max(max(s.resident - s.engine, 0) for s in inside),
            python=max(pythons) if pythons else None,
        )
    return out


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(c) for c in children.read().split()]
    except OSError:  # gone, or no /proc
        pass
    return found


def _rss_and_name(pid: int) -> tuple[int, str]:
    try:
        with open(f"/proc/{pid}/statm") as statm, open(f"/proc/{pid}/comm") as comm:
            return int(statm.read().split()[1]) * _PAGE, comm.read().strip()
    except OSError:
        return 0, ""


class ProcessTreeSampler:
    """Peaks of another process's resident memory and of the JVMs among its descendants (a
    Spark driver's JVM, which in local mode runs the executors too), sampled from outside by
    /proc until the block ends: `with ProcessTreeSampler(pid) as tree:` ... `tree.peaks`."""

    def __init__(self, pid: int, interval: float = 0.5):
        self.pid = pid
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)
        self.peaks = {"process": 0, "jvm": 0, "tree": 0}

    def __enter__(self) -> ProcessTreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        own, _ = _rss_and_name(self.pid)
        jvm = rest = 0
        pending = _children(self.pid)
        while pending:
            pid = pending.pop()
            rss, name = _rss_and_name(pid)
            if name == "java":
                jvm += rss
            else:
                rest += rss
            pending += _children(pid)
        for kind, value in (("process", own), ("jvm", jvm), ("tree", own + jvm + rest)):
            self.peaks[kind] = max(self.peaks[kind], value)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)
