"""`python -m stacks.content`: the lint rules, one a line (name, severity for a declared system's content, what it
checks). Every finding in imported content is a warning."""

from stacks.content.dashboard_lint import RULES
from stacks.content.findings import ERROR, WARNING
from stacks.content.rule_names import (
    JOB_OWNERSHIP,
    JOB_OWNERSHIP_DESCRIPTION,
    LOG_SERVICES,
    LOG_SERVICES_DESCRIPTION,
    RULE_LINT_RULES,
    TITLE_UNIQUE,
    TITLE_UNIQUE_DESCRIPTION,
)

print("dashboards (a folder's .lint turns a rule off for some of its dashboards):")
for rule in RULES:
    print(f"  {rule.name:22} {rule.severity:8} {rule.description}")
print(f"  {JOB_OWNERSHIP:22} {ERROR:8} {JOB_OWNERSHIP_DESCRIPTION}")
print(f"  {LOG_SERVICES:22} {ERROR:8} {LOG_SERVICES_DESCRIPTION}")
print(f"  {TITLE_UNIQUE:22} {WARNING:8} {TITLE_UNIQUE_DESCRIPTION}")
print("rule files (rules/.lint turns a rule off for some files):")
for name, description in RULE_LINT_RULES.items():
    print(f"  {name:22} {ERROR:8} {description}")
