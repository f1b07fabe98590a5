"""The warehouse over a real Spark Connect server on 127.0.0.1 (`sc://`): statements, a frame's
rows, a transaction rolled back, and person matching's records read as Arrow (over Connect the
server's classpath is not ours, so Splink works on the client: docs/decisions.md).

The client runs in a process of its own: once one remote session starts, pyspark marks the whole
process as Spark Connect (SPARK_CONNECT_MODE_ENABLED), which would turn the test worker's later
classic sessions into Connect ones."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from blueprint_pipeline_tests.conftest import require_spark
from blueprint_pipeline_tests.spark_cluster import connect_server

pytestmark = pytest.mark.spark

CLIENT = textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    import pyarrow as pa
    from blueprint_pipeline.identity.matching import records
    from blueprint_pipeline.identity.matching.prepare import COLUMNS
    from blueprint_pipeline.warehouse import warehouse_from_url
    from blueprint_pipeline.warehouse.spark import is_connect

    warehouse = warehouse_from_url(sys.argv[1])
    with warehouse.transaction() as s:
        s.execute("create table t (id integer, name varchar)")
        s.execute("insert into t values (1, 'a'), (2, 'b'), (3, null)")
    try:
        with warehouse.transaction() as s:
            s.execute("delete from t where id = 1")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    out = {}
    with warehouse.session() as s:
        out["connect"] = is_connect(s.spark)
        s.replace_table("f", pd.DataFrame({"k": [1, 2, 3], "v": ["x", None, "z"]}))
        out["joined"] = s.fetchall(
            "select t.id, t.name, f.v from t join f on f.k = t.id where t.id >= $low order by t.id",
            {"low": 1},
        )
        row = {c: "x" for c in COLUMNS} | {"first_name_forms": "ann|anne"}
        frame = pd.DataFrame([row | {"unique_id": "a"}, row | {"unique_id": "b"}])
        frame["cleaned_hash"] = frame["fingerprint"] = "h"
        s.replace_table(records.RECORDS, frame)
        found = records.read_all(s)
        out["records"] = [type(found).__name__, found.num_rows, found["first_name_forms"].to_pylist()]
    print(json.dumps(out))
    """
)


def test_the_warehouse_works_over_a_spark_connect_server(tmp_path):
    require_spark()
    with connect_server(tmp_path / "connect") as url:
        done = subprocess.run(
            [sys.executable, "-c", CLIENT, f"{url}?warehouse={tmp_path / 'wh'}"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["connect"] is True
    assert out["joined"] == [[1, "a", "x"], [2, "b", None], [3, None, "z"]]
    assert out["records"] == ["Table", 2, [["ann", "anne"], ["ann", "anne"]]]
