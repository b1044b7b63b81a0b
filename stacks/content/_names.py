"""Where content files are, and the system they belong to: shared by the loaders."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The stack watching itself: deployed whatever a stack's `systems` setting names.
ALWAYS_DEPLOYED = "platform"


def system_of(name: str) -> str:
    """The system a folder or rule file belongs to: 'K-ERP' and 'kerp.yml' are both 'kerp'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
