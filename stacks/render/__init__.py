"""Pure renderers: typed settings and content in, configuration text out. No Pulumi imports here."""

from __future__ import annotations

import yaml


def to_yaml(data: object) -> str:
    """YAML in the order the data was built, block style, stable across runs."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
