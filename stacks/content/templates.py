"""Notification templates: templates/*.tmpl, Go templates of `{{ define "name" }}` blocks that Alertmanager loads
(`templates:` in alertmanager.yml) and Grafana stores as message templates, and that receiver fields run with
`{{ template "name" . }}`.

Alertmanager parses the files when it loads its config (a file that does not parse stops it), but runs a
`{{ template }}` only when it sends: a name nobody defines fails every notification of that receiver, silently.
Preview checks both.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from stacks.content._names import ROOT, relative
from stacks.content.model import NotificationTemplate
from stacks.errors import Problems
from stacks.syntax.gotemplate import ALERTMANAGER_FUNCTIONS
from stacks.syntax.gotemplate.parse import template_error, template_names

# The templates Alertmanager 0.35 defines itself (github.com/prometheus/alertmanager@v0.35.0, template/default.tmpl
# and template/email.tmpl), which a receiver may run without defining them. Grafana's own defaults have other names
# (docs/content.md, "Notification templates").
ALERTMANAGER_TEMPLATES = frozenset(
    {"__alertmanager", "__alertmanagerURL", "__description", "__subject", "__text_alert_list"}
    | {"__text_alert_list_markdown", "email.default.subject", "email.default.html"}
    | {f"discord.default.{n}" for n in ("content", "message", "title")}
    | {f"jira.default.{n}" for n in ("description", "priority", "summary")}
    | {f"mattermost.default.{n}" for n in ("color", "fallback", "text", "title", "titlelink", "username")}
    | {f"msteams.default.{n}" for n in ("summary", "text", "title")}
    | {"msteamsv2.default.text", "msteamsv2.default.title"}
    | {f"opsgenie.default.{n}" for n in ("description", "message", "source")}
    | {f"pagerduty.default.{n}" for n in ("client", "clientURL", "description", "instances")}
    | {f"pushover.default.{n}" for n in ("message", "title", "url")}
    | {f"rocketchat.default.{n}" for n in ("alias", "emoji", "iconurl", "text", "title", "titlelink")}
    | {f"slack.default.{n}" for n in ("callbackid", "color", "fallback", "footer", "iconemoji", "iconurl")}
    | {f"slack.default.{n}" for n in ("pretext", "text", "title", "titlelink", "username")}
    | {"sns.default.message", "sns.default.subject", "telegram.default.message"}
    | {f"victorops.default.{n}" for n in ("entity_display_name", "monitoring_tool", "state_message")}
    | {"webex.default.message"}
    | {f"wechat.default.{n}" for n in ("agent_id", "message", "to_party", "to_tag", "to_user")}
)


def load_templates(directory: Path, problems: Problems, root: Path = ROOT) -> tuple[NotificationTemplate, ...]:
    """templates/*.tmpl, each parsed as Alertmanager parses it (its functions, Go's text/template)."""
    found = []
    for path in sorted(directory.glob("*.tmpl")):
        source, text = relative(path, root), path.read_text(encoding="utf-8")
        names = template_names(text, ALERTMANAGER_FUNCTIONS)
        if names is None:
            problems.add(source, f"does not parse: {template_error(text, ALERTMANAGER_FUNCTIONS)}")
            continue
        found.append(NotificationTemplate(path, source, text, *names))
    return tuple(found)


def undefined_templates(
    templates: Iterable[NotificationTemplate], fields: Iterable[tuple[str, str]], problems: Problems
) -> None:
    """Every `{{ template "name" }}` of a receiver field or a template file names a template that is defined."""
    templates = list(templates)
    defined = ALERTMANAGER_TEMPLATES.union(*(t.defined for t in templates))
    where_used = [(t.source, t.used) for t in templates]
    for where, text in fields:
        if names := template_names(text, ALERTMANAGER_FUNCTIONS):  # one that does not parse is reported already
            where_used.append((where, names[1]))
    for where, used in where_used:
        for name in sorted(used - defined):
            problems.add(
                where,
                f'runs {{{{ template "{name}" }}}}, which no file of templates/ defines (nor Alertmanager itself): '
                f'add {{{{ define "{name}" }}}} ... {{{{ end }}}} to a templates/*.tmpl file',
            )
