"""YAML in and out: a loader that remembers the line of every mapping, so problems name file:line, and a dumper
that writes the same data the same way on every run."""

from __future__ import annotations

from typing import Any

import yaml

from stacks.errors import Problems

# libyaml's parser (CSafeLoader) when PyYAML has it, as its wheels do: five times faster on thousands of rules, and
# ten times on the files the program renders (yaml.safe_load's parser is pure Python).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """yaml.safe_load, faster: for the stack files and the files the program renders, whose lines nothing reports."""
    return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a SafeLoader


class _LineLoader(_SafeLoader):
    """A YAML loader that remembers the line of every mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    try:  # its own keys, before merges; a key that is no scalar (rare) makes the set fail: look closely then
        repeated = len({key.value for key, _ in node.value}) < len(node.value)
    except TypeError:
        repeated = True
    if repeated:
        _refuse_repeated_keys(node)
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


def _refuse_repeated_keys(node: yaml.MappingNode) -> None:
    """Go's yaml.v3, which Prometheus and Alertmanager read their files with, refuses a key given twice, where
    PyYAML keeps the last value silently."""
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
            if key_node.value in lines:
                raise yaml.constructor.ConstructorError(
                    problem=f'mapping key "{key_node.value}" already defined at line {lines[key_node.value]}',
                    problem_mark=key_node.start_mark,
                )
            lines[key_node.value] = key_node.start_mark.line + 1


class _LineDict(dict):
    line = 0


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, name: str, problems: Problems, *, first_document: bool = False) -> Any:
    """The YAML document with the line of every mapping, or None after reporting where it is malformed.
    `first_document`: of several, the first, as Prometheus reads a rule file (and warns about the others)."""
    try:
        try:
            return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.composer.ComposerError as error:  # several documents: load_all only then, as it is slower
            if not first_document or "expected a single document" not in str(error.context or ""):
                raise
            return next(yaml.load_all(text, Loader=_LineLoader), None)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problems.add(f"{name}{line}", f"malformed YAML: {error.problem or error.context}")
        return None


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
