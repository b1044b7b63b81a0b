"""Stack-scoped names in a shared Grafana: the uids and names the stack gives its objects (grafana.namePrefix),
and its dashboards' and rules' references rewritten to them on the way in, never in the files.

With no prefix every name is the file's or today's, so the stack's own Grafana sees no change.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

# What Grafana takes as a uid (util.IsValidShortUID and IsShortUIDTooLong; docs/configuration.md, "Bring your own
# Grafana").
UID_CHARACTERS = re.compile(r"^[a-zA-Z0-9_-]+$")
MAX_UID = 40


def is_grafana_uid(uid: str) -> bool:
    """Whether Grafana takes this as a dashboard, folder or datasource uid."""
    return bool(UID_CHARACTERS.match(uid)) and len(uid) <= MAX_UID


@dataclass(frozen=True)
class GrafanaNames:
    prefix: str = ""

    def __call__(self, name: str) -> str:
        """A uid or a name the stack gives an object: `<prefix>-<name>`, or the name itself without a prefix."""
        return f"{self.prefix}-{name}" if self.prefix else name

    def dashboard(self, model: dict, datasources: Mapping[str, str], dashboard_uids: Collection[str]) -> dict:
        """A dashboard model with its own uid, the stack's datasources and its links to the stack's dashboards
        (`/d/<uid>`) under their scoped names. `datasources` maps each way a dashboard may name one of the stack's
        datasources (its uid, its name, its type) to its uid: a reference by type alone, which Grafana resolves
        to the org's default of that type, is pinned to the stack's."""
        if not self.prefix:
            return model
        uids = sorted(dashboard_uids, key=len, reverse=True)  # the longest first: "a-b" before "a"
        link = re.compile(r"/d/(" + "|".join(map(re.escape, uids)) + r")(?![\w-])") if uids else None

        def datasource(ref: Any) -> Any:
            if isinstance(ref, str) and ref in datasources:
                return self(datasources[ref])
            if isinstance(ref, dict) and isinstance(ref.get("uid"), str) and ref["uid"] in datasources:
                return {**ref, "uid": self(datasources[ref["uid"]])}
            if isinstance(ref, dict) and ref.get("uid") is None and ref.get("type") in datasources:
                return {**ref, "uid": self(datasources[ref["type"]])}
            return ref

        def scoped(value: Any, key: str = "") -> Any:
            if key == "datasource":
                return datasource(value)
            if isinstance(value, dict):
                value = {k: scoped(v, k) for k, v in value.items()}
                current = value.get("current")
                if value.get("type") == "datasource" and isinstance(current, dict):  # a datasource variable
                    value["current"] = {**current, "value": datasource(current.get("value"))}
                return value
            if isinstance(value, list):
                return [scoped(v) for v in value]
            if isinstance(value, str) and link:
                return link.sub(lambda m: "/d/" + self(m.group(1)), value)
            return value

        return {**scoped(model), "uid": self(model["uid"])}


def uid_problems(names: GrafanaNames, uids: Mapping[str, str]) -> list[str]:
    """The uids (uid -> what it names) that grafana.namePrefix makes longer than Grafana takes, as one problem
    naming the longest and the prefix length that fits them all."""
    over = {uid: what for uid, what in uids.items() if len(names(uid)) > MAX_UID}
    if not over:
        return []
    longest = max(over, key=len)
    room = MAX_UID - 1 - len(longest)
    fix = (
        f"a prefix of at most {room} characters fits every uid the stack gives"
        if room > 0
        else f"{longest!r} leaves no room for a prefix: shorten it in {over[longest]}"
    )
    count = f" (and {len(over) - 1} more)" if len(over) > 1 else ""
    return [
        f"grafana.namePrefix: {names.prefix!r} makes the uid of {over[longest]} {names(longest)!r}{count} "
        f"{len(names(longest))} characters, and Grafana takes at most {MAX_UID}: {fix}"
    ]


def store_uid(store: str) -> str:
    return f"store-{store}"


def inhibition_uid(index: int) -> str:
    return f"inhibit-{index}"
