"""Pinned images, in one place. Never `latest`: a moved tag must be a reviewed change here.

The tags are those of the upstream images; on machines without a registry the same tags are
built locally from the same upstream versions (scripts/images/).
"""

IMAGES = {
    "prometheus": "prom/prometheus:v3.14.0",
    "alertmanager": "prom/alertmanager:v0.31.1",
    "loki": "grafana/loki:3.7.8",
    "promtail": "grafana/promtail:3.6.15",
    # The newest Grafana whose source the Go module mirror here serves is a 10.0.0 preview commit
    # (scripts/images/versions.env); the tag says so. Move to a 12.x release once one can be built.
    "grafana": "grafana/grafana:10.0.0-preview-81d85ce8028d",
}
