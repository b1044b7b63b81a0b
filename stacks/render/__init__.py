"""Pure renderers: typed settings and content in, configuration text out. No Pulumi imports here."""

from __future__ import annotations

import yaml


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL expressions) as literal blocks; repeated dicts written out, not as &anchors."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _string(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text and not any(line != line.rstrip() for line in text.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _string)


def to_yaml(data: object) -> str:
    """YAML in the order the data was built, block style, stable across runs."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
