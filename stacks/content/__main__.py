"""`python -m stacks.content`: the dashboard lint rules, one a line (name, severity, what it checks)."""

from stacks.content.dashboard_lint import ERROR, JOB_OWNERSHIP, JOB_OWNERSHIP_DESCRIPTION, RULES

for rule in RULES:
    print(f"{rule.name:22} {rule.severity:8} {rule.description}")
print(f"{JOB_OWNERSHIP:22} {ERROR:8} {JOB_OWNERSHIP_DESCRIPTION}")
