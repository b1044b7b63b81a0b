"""Bad Grafana settings (`grafana`, `grafanaToken`, `grafanaAdminPassword`): an existing Grafana without its URL,
token or datasource URLs, Grafana Cloud's stack id, the notification policy tree another stack owns, a name
prefix Grafana would refuse, settings no Grafana would use. The whole program under mocks stops with an error
naming the key, and registers nothing."""

from __future__ import annotations

import re

import pytest
import yaml
from bad_input import dev
from mockstack import run_expecting_error, run_program

from stacks.config.load import load_settings
from stacks.environment import check_policy_owner
from stacks.errors import InputError


def external_grafana() -> tuple[dict, list[str]]:
    """The dev stack pushing its content into an existing Grafana, with everything that needs."""
    config, secrets = dev()
    config["monitoring:services"] = ["prometheus", "alertmanager", "loki", "promtail"]
    config["monitoring:grafana"] = {
        "url": "https://grafana.example.com",
        "datasourceUrls": {
            "prometheus": "http://metrics.example.com:9091",
            "alertmanager": "http://metrics.example.com:9093",
            "loki": "http://metrics.example.com:3100",
        },
    }
    config["monitoring:grafanaToken"] = "glsa_external_token_0001"
    return config, [*secrets, "monitoring:grafanaToken"]


def test_an_external_grafana_url_that_is_not_http():
    config, secrets = external_grafana()
    config["monitoring:grafana"]["url"] = "grafana.example.com:3000"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.url: must be an http(s) URL, got 'grafana.example.com:3000'" in message


def test_an_external_grafana_without_its_url_or_token():
    config, secrets = external_grafana()
    del config["monitoring:grafana"]["url"]
    del config["monitoring:grafanaToken"]
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.url: is required when grafana is not in services" in message
    assert "grafanaToken: is required for an existing Grafana: pulumi config set --secret grafanaToken" in message


def test_an_external_grafana_token_in_plaintext():
    config, secrets = external_grafana()
    message = run_expecting_error("dev", config, [s for s in secrets if s != "monitoring:grafanaToken"])
    assert "grafanaToken: must be a secret" in message and "glsa_external_token_0001" not in message


def test_an_external_grafana_without_the_urls_it_reaches_the_datasources_at():
    config, secrets = external_grafana()
    del config["monitoring:grafana"]["datasourceUrls"]["loki"]
    config["monitoring:grafana"]["datasourceUrls"]["alertmanager"] = "alertmanager:9093"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.datasourceUrls.loki: is required for an existing Grafana" in message
    assert "grafana.datasourceUrls.alertmanager: must be an http(s) URL" in message


def test_a_grafana_cloud_stack_id_that_is_not_one_or_for_the_stacks_own_grafana():
    config, secrets = external_grafana()
    config["monitoring:grafana"]["stackId"] = "my-stack"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.stackId: must be a Grafana Cloud stack id, got 'my-stack'" in message
    config, secrets = dev()
    config["monitoring:grafana"] = {"stackId": 123456}
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.stackId: is for an existing Grafana Cloud stack (grafana not in services" in message


def test_owning_the_policy_tree_of_the_stacks_own_grafana_or_of_one_another_stack_owns(tmp_path):
    config, secrets = dev()
    config["monitoring:grafana"] = {"ownNotificationPolicy": True}
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.ownNotificationPolicy: is for an existing Grafana (grafana not in services" in message
    config, secrets = external_grafana()
    config["monitoring:grafana"]["ownNotificationPolicy"] = "yes"
    assert "grafana.ownNotificationPolicy: must be true or false, got 'yes'" in run_expecting_error(
        "dev", config, secrets
    )
    # Another stack file of the project owns the same Grafana's tree (its URL with a trailing slash).
    config["monitoring:grafana"]["ownNotificationPolicy"] = True
    settings = load_settings(config, frozenset(secrets))
    other = {"config": {"monitoring:grafana": {"url": "https://grafana.example.com/", "ownNotificationPolicy": True}}}
    (tmp_path / "Pulumi.ops.yaml").write_text(yaml.safe_dump(other))
    # This stack's own file, owning it too, is not a rival.
    (tmp_path / "Pulumi.dev.yaml").write_text(
        yaml.safe_dump({"config": {k: config[k] for k in ["monitoring:grafana"]}})
    )
    with pytest.raises(InputError) as raised:
        check_policy_owner(settings, "dev", tmp_path)
    assert str(raised.value).count("grafana.ownNotificationPolicy: Pulumi.ops.yaml owns the notification policy") == 1
    other["config"]["monitoring:grafana"]["url"] = "https://another-grafana.example.com"
    (tmp_path / "Pulumi.ops.yaml").write_text(yaml.safe_dump(other))
    check_policy_owner(settings, "dev", tmp_path)


def test_an_admin_password_or_token_that_no_grafana_would_use():
    config, secrets = external_grafana()
    config["monitoring:grafanaAdminPassword"] = "unused-Secret-1"
    assert "grafanaAdminPassword: is for the stack's own Grafana" in run_expecting_error("dev", config, secrets)
    config, secrets = dev()
    config["monitoring:grafanaToken"] = "glsa_unused"
    assert "grafanaToken: is used only for an existing Grafana" in run_expecting_error("dev", config, secrets)


def test_a_grafana_name_prefix_grafana_would_refuse():
    """Grafana takes uids of at most 40 letters, digits, '-' and '_' (util.ValidateUID)."""
    config, secrets = external_grafana()
    config["monitoring:grafana"]["namePrefix"] = "team a/"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.namePrefix: must be letters, digits, '-' or '_', got 'team a/'" in message
    config["monitoring:grafana"]["namePrefix"] = "t" * 30
    message = run_expecting_error("dev", config, secrets)
    assert f"grafana.namePrefix: '{'t' * 30}' makes the uid of " in message
    assert "characters, and Grafana takes at most 40: a prefix of at most " in message
    # The advice is exact: the longest prefix it names fits, one more character does not.
    fits = int(re.search(r"a prefix of at most (\d+) characters", message)[1])
    config["monitoring:grafana"]["namePrefix"] = "t" * (fits + 1)
    assert "grafana.namePrefix: " in run_expecting_error("dev", config, secrets)
    config["monitoring:grafana"]["namePrefix"] = "t" * fits
    run_program("dev", config, secrets)


def test_an_existing_grafana_is_warned_of_what_it_does_not_get_with_each_fix(logged_warnings):
    config, secrets = external_grafana()
    run_program("dev", config, secrets)
    where = "the Grafana at https://grafana.example.com"
    assert logged_warnings == [
        f"grafana.namePrefix: empty, so in {where} the stack's datasources are named Prometheus, Alertmanager and "
        "Loki (uids prometheus, alertmanager, loki), its service account applications, and its folders and "
        "dashboards keep their files' uids: Grafana refuses any of them it holds already and adopts nothing. Give "
        "this stack's objects their own names: pulumi config set --path grafana.namePrefix <stack>",
        f"grafana.ownNotificationPolicy: {where} keeps its own notification policy tree: the stack pushes its "
        "contact points, but not its route nor its inhibition rules (inhibition applies in Alertmanager only), so "
        "Grafana-managed alerts reach those contact points only through that Grafana's own policies. To have this "
        "stack replace the org's tree (and leave Grafana's default one on destroy): pulumi config set --path "
        "grafana.ownNotificationPolicy true",
    ]
    logged_warnings.clear()
    config["monitoring:grafana"].update(namePrefix="dev", ownNotificationPolicy=True)
    run_program("dev", config, secrets)
    assert logged_warnings == [
        f"grafana.version: the version of {where} is not known, so its inhibit rules apply in Alertmanager only, "
        "and Grafana-managed alerts are not inhibited. Say which Grafana it is (13.1 is the first to serve "
        "inhibition rules): pulumi config set --path grafana.version <version>"
    ]


def test_a_remote_store_s_datasource_uid_is_checked_against_grafana_s_limit_with_the_prefix():
    config, secrets = external_grafana()
    store = {"name": "long-term-" + "s" * 20, "url": "https://store.example.com/api/v1/write"}
    config["monitoring:prometheus"] = {"remoteWrite": [{**store, "queryUrl": "https://store.example.com/prometheus"}]}
    config["monitoring:grafana"]["namePrefix"] = "dev-eu"
    message = run_expecting_error("dev", config, secrets)
    # store-long-term-sss... is 36 characters, 43 with the prefix.
    assert f"makes the uid of prometheus.remoteWrite {store['name']} 'dev-eu-store-{store['name']}' 43 characters" in (
        message
    )


def test_a_grafana_name_prefix_or_version_where_it_means_nothing():
    config, secrets = dev()
    config["monitoring:grafanaContent"] = False
    config["monitoring:grafana"] = {"namePrefix": "team-a"}
    message = run_expecting_error("dev", config, secrets)
    assert (
        "grafana.namePrefix: names what the stack pushes through the Grafana provider, and it pushes nothing" in message
    )
    config, secrets = external_grafana()
    config["monitoring:grafana"]["version"] = "thirteen"
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.version: must be a Grafana version such as 13.1.0, got 'thirteen'" in message
    config, secrets = dev()
    config["monitoring:grafana"] = {"orgId": 2}
    message = run_expecting_error("dev", config, secrets)
    assert "grafana.orgId: is for an existing Grafana's token (grafana not in services" in message
