"""Two writers of the same file (two builds sharing an output folder): each rename is of the
writer's own whole file, so neither fails and the file is always one writer's bytes."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from blueprint_pipeline.core.atomic_files import replace_file


def test_concurrent_writers_never_collide(tmp_path):
    target = tmp_path / "reports" / "dashboard.html"
    contents = [bytes([65 + n]) * 50_000 for n in range(8)]

    def write_many(content: bytes) -> None:
        for _ in range(100):
            replace_file(target, content)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write_many, contents))  # re-raises any writer's error
    assert target.read_bytes() in contents
    assert os.listdir(target.parent) == ["dashboard.html"]  # no temporary left behind


def test_times_of_keeps_the_old_files_times(tmp_path):
    target = tmp_path / "Account.csv"
    target.write_bytes(b"old")
    os.utime(target, (1_000_000, 1_000_000))
    replace_file(target, b"new", times_of=target)
    assert target.read_bytes() == b"new" and target.stat().st_mtime == 1_000_000
