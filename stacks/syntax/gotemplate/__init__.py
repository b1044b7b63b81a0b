"""Does a Go text/template parse? Prometheus (alert labels and annotations) and Alertmanager (receiver fields)
parse their templates with Go's text/template; this is its parser, text/template/parse of Go 1.26 (lex.go,
parse.go, and the literals of node.go's newNumber), ported function by function so that a template is refused
exactly when Go refuses it, in the words Go uses.

Only what decides whether a template parses is kept: no tree is built. One thing is not checked: the server names
the template it parses (Prometheus `__alert_<alert name>`, Alertmanager `""`), and a `{{define}}` of that very
name is refused by Go as a second definition of the template; here the top-level template has no name.

This module holds what each server lets a template call; parse.py's template_error and template_names check a text.
"""

from __future__ import annotations

# text/template's builtins (Go's src/text/template/funcs.go, builtins()): every template has them.
GO_BUILTINS = frozenset(
    {"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery"}
    | {"eq", "ge", "gt", "le", "lt", "ne"}
)

# What a Prometheus alert template may call: the builtins and the functions of NewTemplateExpander
# (github.com/prometheus/prometheus@v0.316.0, the stack's Prometheus 3.16: template/template.go), which
# ParseTest hands to the parser when a rule file is loaded (model/rulefmt/rulefmt.go, testTemplateParsing).
PROMETHEUS_FUNCTIONS = GO_BUILTINS | {
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title",
    "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "stripPort", "stripDomain", "humanize",
    "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "toDuration", "now",
    "pathPrefix", "externalURL", "parseDuration", "urlQueryEscape",
}  # fmt: skip
# The variables Prometheus declares before an alert's label or annotation template (the `defs` of
# testTemplateParsing, and of rules/alerting.go when it expands them).
PROMETHEUS_VARIABLES = frozenset({"$labels", "$externalLabels", "$externalURL", "$value"})

# What an Alertmanager template may call: the builtins and DefaultFuncs (github.com/prometheus/alertmanager@v0.35.0,
# the stack's Alertmanager: template/template.go). Alertmanager adds no others (no sprig); its notifiers parse a
# receiver's templated fields with these when they send, and a config's webhook URL with the builtins alone when
# they load it (config/common/url.go, containsTemplating).
ALERTMANAGER_FUNCTIONS = GO_BUILTINS | {
    "toUpper", "toLower", "title", "trimSpace", "join", "match", "safeHtml", "safeUrl", "urlUnescape",
    "reReplaceAll", "stringSlice", "routeLabels", "date", "tz", "now", "since", "humanizeDuration", "toDate",
    "mustToDate", "addDuration", "toJson", "base64encode", "base64decode", "list", "append", "dict",
}  # fmt: skip
