"""Every panel has data: the synthetic workload (tests/support/workload.py, from the systems' metrics contracts) feeds
the Prometheus the stack deploys (3.16, as offline/images/build.sh builds it) running every rule file of the
content (SLO recordings included) and scraping the stack's Alertmanager (0.35) and itself; then every
Prometheus query of every shipped dashboard and SLO dashboard, with its
variables resolved the way Grafana does, returns a series with a value, unless its panel is empty by design
(it shows only failures, and says what it shows when there are none: Grafana's `noValue`).

Loki panels are not run: Loki is AGPL and does not run here
(docs/building-without-registries.md, "Never built or downloaded").
"""

from __future__ import annotations

import pytest
import yaml
from panels import empty_by_design, has_data, interpolate, prometheus_targets, query, variable_values
from polling import wait_for
from stack_run import running_stack
from webhooks import WebhookReceiver

from stacks.content import load_content

pytestmark = pytest.mark.live
# A day and more of past traffic, backfilled every half hour (panels compare with yesterday: offset 1d).
HISTORY = 26 * 3600
# The declared systems' dashboards as shipped: their Prometheus panels, and their queries with data.
MIN_PANELS = 276
MIN_QUERIES_WITH_DATA = 354


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    content = load_content()
    sink = WebhookReceiver()  # Alertmanager notifies it, so that it has notifications to count
    alertmanager_yml = yaml.safe_dump(
        {
            "route": {"receiver": "sink", "group_wait": "1s", "group_interval": "1s"},
            "receivers": [{"name": "sink", "webhook_configs": [{"url": sink.url("/alerts")}]}],
        }
    )
    rule_files = {f.name: f.text for f in content.rule_files}
    try:
        with running_stack(tmp_path_factory.mktemp("panels"), rule_files, alertmanager_yml, history=HISTORY) as url:
            yield url, content
    finally:
        sink.close()


def tally(url: str, content) -> tuple[list[str], list[str], int, set]:
    """(queries without data, panels empty by design, queries with data, panels) of the declared systems'
    dashboards."""
    empty, designed, with_data, panels = [], [], 0, set()
    for dashboard in (d for d in content.dashboards if not content.imported(d.system)):  # declared systems'
        values = variable_values(dashboard.model, url)
        for where, panel, target in prometheus_targets(dashboard.model):
            panels.add((dashboard.source, where.rsplit(".targets", 1)[0]))
            expr = interpolate(target["expr"], values)
            if has_data(query(url, expr)):
                with_data += 1
            elif empty_by_design(panel):
                designed.append(f"{dashboard.source}: {panel.get('title')!r}")
            else:
                empty.append(f"{dashboard.source}: {where} {panel.get('title')!r}: {expr}")
    return empty, designed, with_data, panels


def test_every_panel_has_data_or_is_empty_by_design(prometheus):
    url, content = prometheus
    last: list = []

    def every_query_has_data() -> bool:  # rates need a few scrapes after the start: polled, with a deadline
        last[:] = tally(url, content)
        return not last[0]

    try:
        wait_for(every_query_has_data, 90, "every panel query to return data", interval=2)
    except AssertionError:
        pass  # the queries still without data are named below
    empty, designed, with_data, panels = last
    print(
        f"\n{len(panels)} Prometheus panels, {with_data + len(designed) + len(empty)} queries: with data {with_data}, "
        f"empty by design {len(designed)}, empty {len(empty)}"
    )
    assert empty == [], "panel queries without data:\n" + "\n".join(empty)
    # A floor, written out: a dashboard loader or a variable resolution that silently skipped queries would pass
    # the check above with fewer of them.
    assert with_data >= MIN_QUERIES_WITH_DATA and len(panels) >= MIN_PANELS, (with_data, len(panels))
