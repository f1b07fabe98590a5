"""Text made safe to print: error text without data values, for Dagster's event log (which a
deletion request cannot reach), and any text without the passwords of the URLs in it.

Database errors quote the offending value ("invalid input syntax for type bigint: 'ann@x.com'");
the quoted literals are replaced, identifiers (in double quotes) and the message are kept.
"""

import re

_LITERAL = re.compile(r"'(?:[^']|'')*'")
# scheme://user:password@host...: the password runs to the last `@` before a space or quote, so a
# password holding `@` or `/` is hidden whole (a URL whose query holds an `@` loses its host
# too, never a password). Any scheme: a mistyped one is where a password used to leak.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*):[^\s'\"]*@")


def without_passwords(text: str) -> str:
    """`text` (a URL, or a message quoting URLs) with every URL's password replaced by `***`, the
    way SQLAlchemy hides it: `postgresql+psycopg2://user:***@host/db`. The one place a URL is
    masked before it is printed, raised or put in metadata."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", str(text))


def redacted(message: str) -> str:
    """The first line of `message` with every single-quoted literal replaced by '...'."""
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    return _LITERAL.sub("'...'", lines[0]) if lines else ""
