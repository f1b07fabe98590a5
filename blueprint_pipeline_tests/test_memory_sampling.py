"""The build's memory sampling (runtime/memory.py): each step gets the peaks of the samples taken
while it ran, worked by hand; the sampler sees memory a step allocates."""

from __future__ import annotations

import time

from blueprint_pipeline.runtime.memory import MemorySampler, Sample, StepMemory, per_step, resident_bytes

MB = 1024**2


def test_each_step_gets_the_peaks_of_its_own_samples():
    samples = [
        Sample(10.0, 500 * MB, 10 * MB, None),
        Sample(10.5, 900 * MB, 300 * MB, None),  # a: resident 900, outside 600
        Sample(11.0, 800 * MB, 50 * MB, None),  # a: outside 750 (a peak the resident peak hides)
        Sample(12.0, 700 * MB, 0, None),  # b
        Sample(14.0, 650 * MB, 0, None),
    ]
    spans = {"a": (10.2, 11.2), "b": (11.5, 12.5), "c": (13.0, 13.1)}
    found = per_step(samples, spans)
    assert found["a"] == StepMemory(resident=900 * MB, engine=300 * MB, outside_engine=750 * MB, python=None)
    assert found["b"] == StepMemory(resident=700 * MB, engine=0, outside_engine=700 * MB, python=None)
    # Shorter than the interval: the sample nearest its end (13.1 is nearer 14.0 than 12.0).
    assert found["c"].resident == 650 * MB
    assert per_step([], spans) == {}


def test_the_sampler_sees_what_a_step_allocates_and_the_engine_apart():
    before = resident_bytes()
    with MemorySampler(lambda: 7 * MB, interval=0.01) as sampler:
        block = bytearray(200 * MB)  # touched: resident, not just reserved
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(0.1)
        del block
    assert sampler.peak_resident >= before + 150 * MB
    assert {s.engine for s in sampler.samples} == {7 * MB}


def test_an_engine_that_fails_to_answer_counts_nothing_that_once():
    def closing():
        raise RuntimeError("connection closed")

    with MemorySampler(closing, interval=0.01) as sampler:
        pass
    assert sampler.samples and all(s.engine == 0 for s in sampler.samples)
