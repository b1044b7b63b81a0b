"""The one reader every parser uses: it reads a mapping of the stack config or of a content file and reports each
problem at its key (stacks/errors.py's Problems), so that one run reports them all."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from stacks.errors import Problems
from stacks.syntax.durations import canonical_duration


def _join(path: str, key: str) -> str:
    """`path.key`, `path[0]`, or `key` alone at the top."""
    if not path:
        return key
    return f"{path}{key}" if key.startswith("[") else f"{path}.{key}"


class Reader:
    """Reads one mapping, of the stack config or of a content file, reporting every problem at its key.

    `path` is the mapping's own key path (empty for a whole file). A mapping from a YAML content file
    (stacks/syntax/yaml_io.py) knows its line: give `file`, and each problem is prefixed with `file:line: `.
    After a problem a getter returns its default, so that parsing goes on and one run reports everything.
    """

    def __init__(
        self,
        value: Any,
        path: str,
        problems: Problems,
        known: Iterable[str] | None = None,
        *,
        file: str = "",
        line: int | None = None,
        expected: str = "a mapping",
    ):
        """`line`: where a problem in the file is, when not the mapping's own line."""
        self.problems, self.file, self.path = problems, file, path
        self.line = line = getattr(value, "line", 0) if line is None else line
        self.prefix = (f"{file}:{line}: " if line else f"{file}: ") if file else ""
        self.valid = isinstance(value, dict)
        self.value: dict = value if self.valid else {}
        if not self.valid:
            self.add("", f"must be {expected}, got {value!r}")
        # A set has no order of its own (and a different one in every process): its keys are listed sorted.
        self.known = (
            sorted(known) if isinstance(known, set | frozenset) else list(known if known is not None else self.value)
        )
        for key in sorted(set(self.value) - set(self.known), key=str):
            self.add(str(key), f"unknown key; known keys: {', '.join(self.known)}")

    @property
    def where(self) -> str:
        """Where this mapping is, for a problem about it as a whole."""
        return (self.prefix + self.path) if self.path else self.prefix.rstrip(": ") or self.file

    def at(self, key: str) -> str:
        """Where one of its keys is."""
        return self.prefix + _join(self.path, key) if key else self.where

    def add(self, key: str, message: str) -> None:
        """A problem with one key (empty: with the mapping as a whole)."""
        self.problems.add(self.at(key), message)

    def get(self, key: str, default: Any = None) -> Any:
        return self.value.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.value

    def child(self, key: str, value: Any, known: Iterable[str] | None = None, *, expected: str = "a mapping") -> Reader:
        """A reader of a mapping nested in this one; `key` is its path below this one (`route`, `[2]`). In a
        file, a list item (`rules[3]`) is named by its own line, a nested mapping by its item's line."""
        line = None if key.endswith("]") else self.line
        return Reader(value, _join(self.path, key), self.problems, known, file=self.file, line=line, expected=expected)

    def _bad(self, key: str, expected: str, value: Any) -> None:
        self.add(key, f"must be {expected}, got {value!r}")

    def str(
        self,
        key: str,
        default: str | None = "",
        *,
        required: bool = False,
        pattern: re.Pattern[str] | None = None,
        expected: str = "a string",
    ) -> str | None:
        """A string; `required` refuses a missing or empty one; `pattern` (a full match) says what it must look
        like. Missing, null or empty, and not required: the default."""
        value = self.value.get(key)
        if value is None or value == "":
            if required:
                self.add(key, f"is required: {expected}")
            return default
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            self._bad(key, expected, value)
            return default
        return value

    def bool(self, key: str, default: bool) -> bool:
        value = self.value.get(key, default)
        if not isinstance(value, bool):
            self._bad(key, "true or false", value)
            return default
        return value

    def number(
        self,
        key: str,
        *,
        valid: Callable[[float], bool] = lambda _: True,
        expected: str = "a number",
    ) -> float | None:
        """An int or a float (not a boolean) for which `valid` holds; None when missing or after a problem."""
        value = self.value.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not valid(value):
            self._bad(key, expected, value)
            return None
        return value

    def list(self, key: str, *, required: bool = False, expected: str = "a list") -> list:
        """A list (missing: empty); `required` refuses a missing or empty one."""
        value = self.value.get(key)
        if value is None or (required and value == []):
            if required:
                self.add(key, f"is required: {expected}")
            return []
        if not isinstance(value, list):
            self._bad(key, expected, value)
            return []
        return value

    def mapping(self, key: str, *, expected: str = "a mapping") -> dict:
        """A mapping (missing or null: empty)."""
        value = self.value.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._bad(key, expected, value)
            return {}
        return value

    def duration(self, key: str, default: str | None = None, *, canonical: bool = True) -> str | None:
        """A Prometheus duration: in the canonical form the servers print back (`60s` -> `1m`), or as written
        (`canonical` false: `1440m` stays what the user wrote in a flag)."""
        value = self.value.get(key, default)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a YAML number: the servers read its text, and take "0" alone without a unit
        try:
            canonical_value = canonical_duration(value)
        except ValueError as error:
            self.add(key, str(error))
            return default
        return canonical_value if canonical else value
