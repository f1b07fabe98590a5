"""The waterfall text of each scored pair is built in SQL (score._contributions_sql) and must be
the text json.dumps writes of the same list: the prior, then each comparison's level label and
weight (with its term-frequency adjustment) rounded to 3 decimals as Python's round does (half to
even on exact binary halves: 0.0625 -> 0.062). Hand-made weights, no Splink."""

from __future__ import annotations

import json

import duckdb

from blueprint_pipeline.identity.matching.model import COMPARISON_COLUMNS
from blueprint_pipeline.identity.matching.score import _contributions_sql

LABELS = {
    name: {-1: "missing on a side", 0: "All other comparisons", 1: f"exact {name}"}
    for name in COMPARISON_COLUMNS
}
LABELS["name"][2] = "O'Brien \u2014 \u201cz\u00fc\u201d \\ end"  # quotes, a backslash, non-ASCII
PRIOR = -13.2877123795
# (gamma, weight, tf adjustment of name) per pair; every other comparison the same per pair.
PAIRS = [
    (2, 0.0625, 0.0),  # an exact binary half: Python rounds to even
    (1, -19.8125, None),
    (0, -0.0001, 0.0),  # rounds to -0.0
    (-1, 3.0, 1.25),  # with a term-frequency adjustment: 4.25
    (7, 1.23456, 0.0),  # a level the model has no label for
]


def _reference(gamma: int, weight: float, tf: float | None) -> str:
    head = {"comparison": "prior", "level": "two random records", "match_weight": round(PRIOR, 3)}
    parts = [head]
    for name in COMPARISON_COLUMNS:
        w = weight + (tf or 0.0) if name == "name" else weight
        parts.append({"comparison": name, "level": LABELS[name].get(gamma), "match_weight": round(w, 3)})
    return json.dumps(parts)


def test_the_sql_waterfall_is_the_text_json_dumps_writes():
    con = duckdb.connect()
    columns = ", ".join(
        f"cast(? as integer) as gamma_{n}, cast(? as double) as mw_{n}" for n in COMPARISON_COLUMNS
    )
    con.execute(
        f"create table pairs as select cast(? as double) as mw_tf_adj_name, {columns} limit 0", [None] * 15
    )
    for gamma, weight, tf in PAIRS:
        values = [tf] + [v for _ in COMPARISON_COLUMNS for v in (gamma, weight)]
        con.execute(f"insert into pairs select ?, {', '.join('?' for _ in range(14))}", values)
    names = {c[0] for c in con.execute("select * from pairs limit 0").description}
    texts = [
        row[0]
        for row in con.execute(f"select {_contributions_sql(names, LABELS, PRIOR)} from pairs").fetchall()
    ]
    assert texts == [_reference(*pair) for pair in PAIRS]
    assert json.loads(texts[0])[1]["match_weight"] == 0.062 and '"match_weight": -0.0}' in texts[2]
    assert json.loads(texts[4])[1]["level"] is None
