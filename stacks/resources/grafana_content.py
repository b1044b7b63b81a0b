"""Grafana content through the Grafana provider: datasources, folders, dashboards, contact points, policy.

The Grafana is the stack's own container or an existing one (`grafana` left out of `services`). With the
container, every resource here depends on it (`pulumi up` creates it only once Docker reports it healthy)
and goes through a provider whose URL is derived from it.

Alerting content is provisioned with provenance (`disable_provenance` false, said explicitly): Grafana's
UI shows contact points, the policy tree and rule groups as managed by code and refuses edits there, so a
change goes through the repository and the next `pulumi up`, never around it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumiverse_grafana as grafana

from stacks.config.settings import Alerting, Matcher, Receiver, Route, StackSettings
from stacks.content.model import Content, Dashboard, GrafanaRule, GrafanaRuleGroup, NotificationTemplate, config_json
from stacks.content.queries import DATASOURCE_NAMES
from stacks.grafana_names import GrafanaNames, inhibition_uid, store_uid
from stacks.layout import SERVICE_BY_NAME
from stacks.render.grafana import GRAFANA_EMAIL, GRAFANA_PAGERDUTY, GRAFANA_SLACK, grafana_fields, grafana_rule_queries
from stacks.slugs import slug

# Alerting content is locked against edits in Grafana's UI (see the module docstring).
DISABLE_PROVENANCE = False


@dataclass(frozen=True)
class GrafanaContentArgs:
    url: str
    """Where the provider reaches Grafana (the published port, a remote host's URL, or an existing Grafana)."""
    auth: pulumi.Input[str]
    """A secret: "user:password" for the stack's own Grafana, a service account token for an existing one."""
    datasource_urls: Mapping[str, str]
    """Service (prometheus, alertmanager, loki) -> the URL Grafana reaches it at; one datasource each."""
    dashboards: Sequence[Dashboard]
    rule_groups: Sequence[GrafanaRuleGroup]
    folders: Sequence[str]
    """Folder titles: one per dashboard directory and per rule group folder."""
    alerting: Alerting
    grafana_container: pulumi.Resource | None = None
    """The stack's healthy Grafana container every resource waits for; None for an existing Grafana."""
    store_urls: Mapping[str, str] = field(default_factory=dict)
    """Long-term store (prometheus.remoteWrite name) -> where it answers PromQL: a Prometheus datasource each."""
    templates: Sequence[NotificationTemplate] = ()
    """templates/*.tmpl: one message template each, which contact points may run."""
    stack_id: int = 0
    """A Grafana Cloud stack's id, which the provider needs for Grafana's /apis (the inhibition rules); 0: none."""
    owns_policy: bool = True
    """Whether the org's notification policy tree is the stack's (its route): an existing Grafana's tree is the
    user's unless grafana.ownNotificationPolicy says otherwise."""
    pushes_inhibition: bool = True
    """Whether the inhibit rules go to Grafana too: with the policy tree, on a Grafana that applies them
    (StackSettings.grafana_inhibition)."""
    names: GrafanaNames = GrafanaNames()
    """The stack's names in that Grafana (grafana.namePrefix)."""


def grafana_content_args(
    settings: StackSettings, content: Content, auth: pulumi.Input[str], container: pulumi.Resource | None = None
) -> GrafanaContentArgs:
    """What a stack pushes into its Grafana, own (`container`) or existing."""
    return GrafanaContentArgs(
        url=settings.grafana_url,
        auth=auth,
        datasource_urls=settings.datasource_urls,
        dashboards=content.dashboards,
        rule_groups=content.grafana_rule_groups,
        folders=content.folders,
        alerting=settings.alerting,
        templates=content.templates,
        grafana_container=container,
        store_urls={s.name: s.query_url for s in settings.prometheus.remote_write if s.query_url},
        stack_id=settings.grafana_stack_id,
        owns_policy=settings.grafana_owns_policy,
        pushes_inhibition=settings.grafana_inhibition,
        names=GrafanaNames(settings.grafana_name_prefix),
    )


DEFAULT_DATASOURCE = "prometheus"
EXPRESSIONS = "__expr__"  # Grafana's server-side expressions (a rule's threshold), not a datasource of the stack's
DATASOURCE_NAMES_BY_UID = {uid: title for title, uid in DATASOURCE_NAMES.items()}  # "loki" -> "Loki"


class GrafanaContent(pulumi.ComponentResource):
    """Datasources, folders, dashboards and alert routing in one Grafana organisation.

    Attributes: `provider`, `datasources` (service -> DataSource), `folders` (title -> Folder),
    `dashboards` (uid -> Dashboard), `contact_points` (name -> ContactPoint), `policy` (None when the org's
    tree is not the stack's),
    `inhibition_rules` (NotificationsInhibitionRule, one per inhibit rule),
    `rule_groups` ((folder, name) -> RuleGroup), `app_service_account`, `app_folder_permissions` (title ->
    its Edit on the folder) and `app_token` (its ServiceAccountToken: `key` is the secret applications' own
    Grafana provider authenticates with).
    """

    def __init__(self, name: str, args: GrafanaContentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:GrafanaContent", name, None, opts)
        container = args.grafana_container
        # With the stack's own Grafana, deriving the URL from the container's id makes the provider itself wait
        # for the healthy container (an explicit depends_on on a provider is not honoured: pulumi/pulumi#8917).
        self.provider = grafana.Provider(
            f"{name}-provider",
            url=container.id.apply(lambda _: args.url) if container else args.url,
            auth=pulumi.Output.secret(args.auth),
            stack_id=args.stack_id or None,
            retries=10,
            retry_wait=2,
            # The provider's own default, pinned: GRAFANA_RETRY_STATUS_CODES in a user's environment could add 401,
            # and a wrong password (grafanaAdminPassword changed after Grafana's first start) would then take 20 s
            # of retries to be told.
            retry_status_codes=["429", "5xx"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        waits_for = [container] if container else []
        # In the stack's own Grafana everything is the stack's. In an existing one the stack takes nothing of the
        # user's: the org's default datasource stays, and a dashboard of the same uid or title is not overwritten
        # (the provider overwrites on update only, what the stack created: resource_dashboard.go UpdateDashboard).
        owns_grafana = container is not None

        def options(*depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[*waits_for, *depends_on])

        names = args.names

        def datasource(uid: str, title: str, service: str, url: str) -> grafana.oss.DataSource:
            """A datasource proxied by Grafana, of the type and with the settings of one of the services."""
            return grafana.oss.DataSource(
                f"{name}-datasource-{uid}",
                name=names(title),
                type=service,
                uid=names(uid),
                url=url,
                access_mode="proxy",
                is_default=owns_grafana and uid == DEFAULT_DATASOURCE,
                json_data_encoded=json.dumps(SERVICE_BY_NAME[service].datasource, sort_keys=True),
                opts=options(),
            )

        self.datasources = {
            service: datasource(service, DATASOURCE_NAMES_BY_UID[service], service, url)
            for service, url in args.datasource_urls.items()
        }
        # Stores that speak PromQL, for what outlives Prometheus's own retention: uid store-<name>, never default.
        for store, url in args.store_urls.items():
            uid = store_uid(store)
            self.datasources[uid] = datasource(uid, f"Prometheus long-term ({store})", "prometheus", url)
        # A folder holding what the stack did not put there (applications push into it with the exported token) is
        # never deleted: `destroy`, or a renamed folder's delete, fails instead of wiping its content.
        self.folders = {
            title: grafana.oss.Folder(
                f"{name}-folder-{slug(title)}",
                title=title,
                uid=names(slug(title)),
                prevent_destroy_if_not_empty=True,
                opts=options(),
            )
            for title in args.folders
        }
        # Dashboards name datasources by uid; Grafana stores them without needing the datasource first.
        references = {uid: uid for uid in self.datasources} | {
            title: uid for uid, title in DATASOURCE_NAMES_BY_UID.items() if uid in self.datasources
        }
        dashboard_uids = {d.uid for d in args.dashboards}
        self.dashboards = {
            d.uid: grafana.oss.Dashboard(
                f"{name}-dashboard-{d.uid}",
                config_json=config_json(names.dashboard(d.model, references, dashboard_uids)),
                folder=self.folders[d.folder].uid,
                overwrite=owns_grafana,
                opts=options(),
            )
            for d in args.dashboards
        }
        self.message_templates = {
            t.name: grafana.alerting.MessageTemplate(
                f"{name}-message-template-{slug(t.name)}",
                name=names(t.name),
                template=t.text,
                disable_provenance=DISABLE_PROVENANCE,
                opts=options(),
            )
            for t in args.templates
        }
        self.contact_points = {
            r.name: grafana.alerting.ContactPoint(
                f"{name}-contact-point-{slug(r.name)}",
                disable_provenance=DISABLE_PROVENANCE,
                opts=options(*self.message_templates.values()),  # a contact point may run them
                **_contact(r, names),
            )
            for r in args.alerting.receivers
        }
        root = args.alerting.route
        # The org's notification policy tree: the stack's in its own Grafana; in an existing one only on request
        # (grafana.ownNotificationPolicy), its contact points otherwise reached through the user's own policies.
        self.policy: grafana.alerting.NotificationPolicy | None = None
        if args.owns_policy:
            self.policy = grafana.alerting.NotificationPolicy(
                f"{name}-notification-policy",
                contact_point=names(root.receiver),
                group_bies=list(root.group_by),  # the root always has one (stacks/config/alerting.py: DEFAULT_GROUP_BY)
                group_wait=root.group_wait,
                group_interval=root.group_interval,
                repeat_interval=root.repeat_interval,
                policies=[_policy(child, names) for child in root.routes] or None,
                disable_provenance=DISABLE_PROVENANCE,
                opts=options(*self.contact_points.values()),
            )
        # The same inhibit rules as alertmanager.yml. Grafana 13 applies them with the alertingMultiplePolicies
        # feature toggle, which the stack's Grafana container turns on (docs/content.md, "Alert routes").
        v1beta1 = grafana.alerting.v1beta1
        self.inhibition_rules = [
            v1beta1.NotificationsInhibitionRule(
                f"{name}-inhibition-rule-{i}",
                metadata=v1beta1.NotificationsInhibitionRuleMetadataArgs(uid=names(inhibition_uid(i))),
                spec=v1beta1.NotificationsInhibitionRuleSpecArgs(
                    source_matchers=_matchers(
                        v1beta1.NotificationsInhibitionRuleSpecSourceMatcherArgs, rule.source_matchers
                    ),
                    target_matchers=_matchers(
                        v1beta1.NotificationsInhibitionRuleSpecTargetMatcherArgs, rule.target_matchers
                    ),
                    equals=list(rule.equal) or None,
                ),
                opts=options(self.policy),  # Grafana applies them to the policy tree: created after it, not beside
            )
            for i, rule in enumerate(args.alerting.inhibit_rules if self.policy and args.pushes_inhibition else ())
        ]
        # Rules need their datasources to exist (Grafana checks them on save) and route through the policy.
        self.rule_groups = {
            (g.folder, g.name): grafana.alerting.RuleGroup(
                f"{name}-rule-group-{slug(g.folder)}-{slug(g.name)}",
                name=names(g.name),
                folder_uid=self.folders[g.folder].uid,
                interval_seconds=g.interval_seconds,
                rules=[_rule(rule, names) for rule in g.rules],
                disable_provenance=DISABLE_PROVENANCE,
                opts=options(*self.datasources.values(), *([self.policy] if self.policy else [])),
            )
            for g in args.rule_groups
        }
        # Applications push their own dashboards and rules with this account rather than the admin password, into
        # the stack's folders only: Viewer (it reads the org and queries datasources, which saving a rule checks)
        # and Edit on each of those folders (dashboards and alert rules there). It cannot create folders, nor touch
        # the org's other folders, datasources, users or alerting config (docs/configuration.md, "Bring your own
        # Grafana").
        self.app_service_account = grafana.oss.ServiceAccount(
            f"{name}-app-service-account", name=names("applications"), role="Viewer", opts=options()
        )
        self.app_folder_permissions = {
            title: grafana.oss.FolderPermissionItem(
                f"{name}-app-folder-permission-{slug(title)}",
                folder_uid=folder.uid,
                user=self.app_service_account.id,  # "<org>:<id>": the provider takes the id after the colon
                permission="Edit",
                opts=options(folder, self.app_service_account),
            )
            for title, folder in self.folders.items()
        }
        self.app_token = grafana.oss.ServiceAccountToken(
            f"{name}-app-token",
            name=names("applications"),
            service_account_id=self.app_service_account.id,
            opts=options(self.app_service_account),
        )
        self.register_outputs(
            {
                "dashboardUrls": {uid: d.url for uid, d in self.dashboards.items()},
                "contactPoints": list(self.contact_points),
            }
        )


def _contact(receiver: Receiver, names: GrafanaNames) -> dict:
    """ContactPoint arguments for one receiver; URLs and keys as secrets."""
    secret = pulumi.Output.secret
    args: dict = {"name": names(receiver.name)}
    if receiver.webhooks:
        args["webhooks"] = [
            grafana.alerting.ContactPointWebhookArgs(
                url=secret(w.url), disable_resolve_message=not w.send_resolved, max_alerts=w.max_alerts or None
            )
            for w in receiver.webhooks
        ]
    if receiver.slack:
        args["slacks"] = [
            grafana.alerting.ContactPointSlackArgs(
                url=secret(s.url),
                disable_resolve_message=not s.send_resolved,
                **grafana_fields(s.fields, GRAFANA_SLACK),
            )
            for s in receiver.slack
        ]
    if receiver.pagerduty:
        args["pagerduties"] = [
            grafana.alerting.ContactPointPagerdutyArgs(
                integration_key=secret(p.routing_key),
                disable_resolve_message=not p.send_resolved,
                **grafana_fields(p.fields, GRAFANA_PAGERDUTY),
            )
            for p in receiver.pagerduty
        ]
    if receiver.email:
        args["emails"] = [
            grafana.alerting.ContactPointEmailArgs(
                addresses=[e.to],
                single_email=True,
                disable_resolve_message=not e.send_resolved,
                **grafana_fields(e.fields, GRAFANA_EMAIL),
            )
            for e in receiver.email
        ]
    return args


def _matchers(args_type: type, matchers: Sequence[Matcher]) -> list:
    """An inhibition rule's source or target matchers, as the SDK's (label, type, value) args."""
    return [args_type(label=m.label, type=m.op, value=m.value) for m in matchers]


def _policy(route: Route, names: GrafanaNames) -> grafana.alerting.NotificationPolicyPolicyArgs:
    return grafana.alerting.NotificationPolicyPolicyArgs(
        contact_point=names(route.receiver),
        matchers=[
            grafana.alerting.NotificationPolicyPolicyMatcherArgs(label=m.label, match=m.op, value=m.value)
            for m in route.matchers
        ],
        group_bies=list(route.group_by) if route.group_by is not None else None,
        group_wait=route.group_wait,
        group_interval=route.group_interval,
        repeat_interval=route.repeat_interval,
        continue_=route.continue_ or None,
        policies=[_policy(child, names) for child in route.routes] or None,
    )


def _rule(rule: GrafanaRule, names: GrafanaNames) -> grafana.alerting.RuleGroupRuleArgs:
    return grafana.alerting.RuleGroupRuleArgs(
        name=rule.alert,
        condition="B",
        for_=rule.for_,
        no_data_state=rule.no_data_state,
        exec_err_state="Error",
        labels=dict(rule.labels),
        annotations=dict(rule.annotations),
        datas=[
            grafana.alerting.RuleGroupRuleDataArgs(
                ref_id=query["ref_id"],
                datasource_uid=EXPRESSIONS
                if query["datasource_uid"] == EXPRESSIONS
                else names(query["datasource_uid"]),
                model=json.dumps(query["model"], sort_keys=True),
                # Grafana copies the model's queryType into the query and the provider reads it back: unset
                # here, every preview after the first up would show a change (a Loki query is "instant").
                query_type=query["model"].get("queryType"),
                relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                    from_=query["from"], to=query["to"]
                ),
            )
            for query in grafana_rule_queries(rule)
        ],
    )
