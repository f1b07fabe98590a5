"""The order of a run's steps where the graph leaves it free.

Among the steps whose inputs are ready, Dagster's executors start those with the highest
`dagster/priority` op tag first (0 when untagged). What no other step waits for and no person is
waiting on within the minute (lists sent out to LinkedIn, Marketo and the CRM; the KPI tables and
the dashboard) runs after everything else, so on the fast path a sales alert does not queue behind
them (docs/benchmarks.md, "The fast path's launch")."""

AFTER_THE_ALERTS = {"dagster/priority": "-1"}
