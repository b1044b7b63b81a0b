"""The lint rules the cross-file checks report under, each with what it asks: the names a `.lint` file or
`rules/.lint` turns off. The per-dashboard rules are stacks/content/dashboard_lint.py's `RULES`."""

from __future__ import annotations

# Dashboards. Checked over the whole content (it needs every system's jobs: stacks/content/ownership.py), and
# turned off per dashboard by a .lint file as the per-dashboard rules are.
JOB_OWNERSHIP = "job-ownership"
JOB_OWNERSHIP_DESCRIPTION = "Every query selects its own system's scrape jobs and no other system's (systems/)."
LOG_SERVICES = "log-services"
LOG_SERVICES_DESCRIPTION = (
    "Every `service` a log query compares with, its variables' values included, is a compose service of its "
    "system or the stack's (systems/<system>.yml services)."
)
# Checked over a folder's dashboards, a warning for every dashboard (Grafana 13 takes two of one title in a folder).
TITLE_UNIQUE = "title-unique"
TITLE_UNIQUE_DESCRIPTION = "No two dashboards of one title in a folder."

# Rule files.
ALERT_SEVERITY = "alert-severity"
METRICS_CONTRACT = "metrics-contract"  # stacks/content/contract.py
SILENCE_ALERTS = "silence-alerts"  # stacks/content/silence.py
# The rule-file lint rules, checked for the declared systems (a warning in imported rules: alert-severity only).
RULE_LINT_RULES = {
    ALERT_SEVERITY: "Every alert has a severity label: the routes are keyed on it.",
    JOB_OWNERSHIP: "Every selector reads its own system's scrape jobs and no other system's (systems/).",
    METRICS_CONTRACT: "Histograms, buckets and quantile thresholds a rule reads are in its system's contract.",
    SILENCE_ALERTS: "Every job of the system has an alert for its target down and one for it missing.",
}
