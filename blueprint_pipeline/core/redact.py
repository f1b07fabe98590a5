"""Text made safe to print: error text without data values, for Dagster's event log (which a
deletion request cannot reach), and any text without the passwords of the URLs in it.

Database errors quote the offending value ("invalid input syntax for type bigint: 'ann@x.com'");
the quoted literals are replaced, identifiers (in double quotes) and the message are kept.
"""

import re

_LITERAL = re.compile(r"'(?:[^']|'')*'")
# scheme://user:password@host...: the user name holds no space, `:`, `/` or `@`; a password may
# hold anything a user types (`@`, `/`, a quote, a space), so it runs to the last `@` on its line
# before the next URL's `scheme://`. A line that
# quotes an address or a query holding an `@` after the URL loses text up to it too, never a
# password. Any scheme: a mistyped one is where a password used to leak.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):(?:(?![A-Za-z][A-Za-z0-9+.-]*://)[^\n])*@"
)


def without_passwords(text: str) -> str:
    """`text` (a URL, or a message quoting URLs) with every URL's password replaced by `***`, the
    way SQLAlchemy hides it: `postgresql+psycopg2://user:***@host/db`. The user name is kept (it
    says which login failed); where a URL itself is echoed, `url_shown` hides it too."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", str(text))


def url_shown(url: str) -> str:
    """`url` as it may be echoed in a message: `scheme://***@host/path`, with nothing of its user
    part, which may be a password, a token alone (`redis://TOKEN@host`) or text no parser splits
    the way the user meant. The user part is everything before the last `@` (a password may hold
    `@`, `/`, `?`, a quote or a space; an `@` in the path or query hides more, never less)."""
    scheme, separator, rest = str(url).partition("://")
    if not separator:
        scheme, rest = "", scheme
    _, at, host = rest.rpartition("@")
    return f"{scheme}{separator}{'***@' if at else ''}{host}"


def redacted(message: str) -> str:
    """The first line of `message` with every single-quoted literal replaced by '...'."""
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    return _LITERAL.sub("'...'", lines[0]) if lines else ""
