"""What the bad-input tests (tests/program/test_bad_*.py) share: dev's config with its test secrets, and edits to
the copy of the content a test may break (the `content_copy` fixture)."""

from __future__ import annotations

import json
from contextlib import contextmanager

from conftest import configured_stack


def dev() -> tuple[dict, list[str]]:
    return configured_stack("dev")


@contextmanager
def edited_dashboard(path):
    """A dashboard's model to change in place; written back when the block ends."""
    model = json.loads(path.read_text())
    yield model
    path.write_text(json.dumps(model))


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
