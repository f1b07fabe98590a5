"""Error text without data values, for Dagster's event log (which a deletion request cannot reach).

Database errors quote the offending value ("invalid input syntax for type bigint: 'ann@x.com'");
the quoted literals are replaced, identifiers (in double quotes) and the message are kept.
"""

import re

_LITERAL = re.compile(r"'(?:[^']|'')*'")


def redacted(message: str) -> str:
    """The first line of `message` with every single-quoted literal replaced by '...'."""
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    return _LITERAL.sub("'...'", lines[0]) if lines else ""
