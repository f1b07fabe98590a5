"""The CSV writer (core/csv_safety.py) reads text columns as Arrow strings and sends only the cells
that may need quoting or neutralising through `cell`; its files must be what writing every cell
through `cell` gives, byte for byte."""

import random

import numpy as np
import pandas as pd
import pytest

from blueprint_pipeline.core.csv_safety import cell, csv_lines, formula_cells, is_formula, to_csv

# Characters that matter: formula starts, quoting, Unicode spaces Python strips but RE2's \s does
# not, digits of other scripts, letters with accents, plain ASCII.
ALPHABET = list('=+-@\t\r\n," .eE05aZ_') + ["\u00a0", "\u2003", "\x1f", "\u0663", "É", "ß", "😀"]


def reference(frame: pd.DataFrame, neutralise: bool) -> bytes:
    """The definition: every cell through `cell`, rows joined by commas, `\\n` after each."""
    lines = [",".join(cell(c, neutralise) for c in frame.columns) + "\n"]
    lines += [
        ",".join(cell(v, neutralise) for v in row) + "\n" for row in frame.itertuples(index=False, name=None)
    ]
    return "".join(lines).encode()


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6)))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("neutralise", [True, False])
def test_the_file_is_every_cell_through_cell(seed, neutralise):
    rng = random.Random(seed)
    n = rng.randint(0, 300)
    frame = pd.DataFrame(
        {
            "text": [random_text(rng) for _ in range(n)],
            "str dtype": pd.Series([random_text(rng) for _ in range(n)], dtype="str"),
            "with missing": [rng.choice([None, np.nan, pd.NA, random_text(rng)]) for _ in range(n)],
            "mixed": [rng.choice([1, -2.5, float("nan"), "x", "-7", pd.Timestamp("2026-01-02"), None]) for _ in range(n)],
            "numbers": [rng.choice([-5, 0, 12]) for _ in range(n)],
            "floats": [rng.choice([-0.5, 1e-3, float("nan"), 2.0]) for _ in range(n)],
            "=formula, header": ["Mary"] * n,
        }
    )  # fmt: skip
    assert to_csv(frame, neutralise) == reference(frame, neutralise)
    header, lines = csv_lines(frame, neutralise)
    assert header + b"".join(lines) == reference(frame, neutralise)
    assert len(lines) == n
    expected = sum(is_formula(v) for c in frame.columns for v in frame[c])
    assert formula_cells(frame) == expected


def test_hand_picked_cells():
    frame = pd.DataFrame(
        {"name": ["Mary", "", " =1+1", "\u00a0@SUM(A1)", "-5", "3 - 1", "Ölaf, Jr.", 'say "hi"']}
    )
    assert (
        to_csv(frame)
        == ('name\nMary\n\n"\' =1+1"\n"\'\u00a0@SUM(A1)"\n-5\n3 - 1\n"Ölaf, Jr."\n"say ""hi"""\n').encode()
    )
    assert to_csv(frame, neutralise=False).splitlines()[3] == b" =1+1"
    assert formula_cells(frame) == 2


def test_a_frame_without_rows_or_columns():
    assert to_csv(pd.DataFrame({"a": pd.Series([], dtype="str")})) == b"a\n"
    assert to_csv(pd.DataFrame(index=range(2))) == b"\n\n\n"


def test_values_arrow_refuses_are_written_value_by_value():
    """A column pandas calls text may hold a NaN Arrow refuses (float32); a name may repeat."""
    frame = pd.DataFrame({"c": pd.Series(["=a", np.float32("nan")], dtype=object)})
    assert to_csv(frame) == b'c\n"\'=a"\nnan\n'
    assert formula_cells(frame) == 1
    repeated = pd.DataFrame([["=1", "=2"]], columns=["v", "v"])
    assert formula_cells(repeated) == 2
    assert formula_cells(repeated, ["v"]) == 2
    assert formula_cells(pd.DataFrame({"s": pd.Series(["a\ud800", "=x"], dtype=object)})) == 1
