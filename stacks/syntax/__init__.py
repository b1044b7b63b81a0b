"""What the servers parse, parsed as they do: PromQL (Prometheus), Go's RE2 regexes, Go templates (Alertmanager and
Grafana), and YAML read with its lines and written stably. No Pulumi and no project types here."""
