"""identity/tables.isin and lookup: pandas' isin and map for text keys, by Arrow's hash table, on
hand-made keys with a missing value, an unknown key and an index that is not 0..n."""

from __future__ import annotations

import pandas as pd
import pytest

from blueprint_pipeline.identity.tables import isin, lookup

VALUES = pd.Series(["p1", None, "p3", "zz"], index=[10, 11, 12, 13], dtype="str")


@pytest.mark.parametrize("among", [["p3", "p1"], {"p3"}, pd.Index(["zz"]), ["p1", None], []])
def test_isin_answers_as_pandas(among):
    expected = VALUES.isin(list(among))
    assert isin(VALUES, among).tolist() == expected.tolist()
    assert list(isin(VALUES, among).index) == [10, 11, 12, 13]


def test_lookup_answers_as_map_and_refuses_duplicate_keys():
    mapping = pd.Series(["A", "C"], index=["p1", "p3"], dtype="str")
    found = lookup(VALUES, mapping)
    assert found.tolist()[0] == "A" and found.tolist()[2] == "C"
    assert found.isna().tolist() == [False, True, False, True]
    created = pd.Series(pd.to_datetime(["2026-01-01"]), index=["p3"])
    assert lookup(VALUES, created).tolist()[2] == pd.Timestamp("2026-01-01")
    assert lookup(VALUES, pd.Series([], dtype="int64")).isna().all()
    with pytest.raises(ValueError, match="not unique"):
        lookup(VALUES, pd.Series(["A", "B"], index=["p1", "p1"]))
