"""The roles a column plays when a person is forgotten (governance/forget.py), written in the
column catalogue as `meta: {forget: <role>}` or a list of roles (sql_models/columns.py). Every
other column needs no role: forget deletes the rows that hold the person and blanks their contact
points in every text column."""

from __future__ import annotations

# In an append-only log: on the person's rows this column is emptied and the row stays, so the
# log's counts stay true. A table with such a column is redacted, never deleted from.
REDACT = "redact"
# The platform's own message text (a sales alert lists a group's members): a forgotten person's
# name is blanked in the table's text wherever it appears, not only beside a contact point.
MENTIONS = "mentions"

ROLES = (REDACT, MENTIONS)
