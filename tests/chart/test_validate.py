"""Every option renders manifests that pass `helm lint --strict` and the Kubernetes schemas, for
the oldest supported Kubernetes version and the newest known one."""

import re

import helm_python as helm
import kubernetes_validate
import pytest
from conftest import CHART_DIR, NAMESPACE
from options import OPTIONS

KUBERNETES_VERSIONS = ["1.33.0", kubernetes_validate.latest_version()]

# The ServiceMonitor fields (monitoring.coreos.com/v1) the chart may write: kubernetes-validate
# knows only built-in kinds, so the ServiceMonitor's shape is checked here.
# The PrometheusRule fields (monitoring.coreos.com/v1) the chart writes, and the CRD's pattern for
# a rule's `for`.
PROMETHEUS_RULE_FIELDS = {
    "spec": {"groups"},
    "group": {"name", "rules"},
    "rule": {"alert", "expr", "for", "labels", "annotations"},
}
PROMETHEUS_DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")
SERVICE_MONITOR_FIELDS = {
    "spec": {"selector", "namespaceSelector", "endpoints"},
    "endpoint": {"port", "path", "scheme", "interval", "scrapeTimeout", "relabelings", "metricRelabelings"},
    "relabeling": {"sourceLabels", "separator", "targetLabel", "regex", "modulus", "replacement", "action"},
}


@pytest.mark.parametrize("option", OPTIONS)
def test_lint_is_clean(option):
    report = helm.lint(CHART_DIR, OPTIONS[option], strict=True, namespace=NAMESPACE, kube_version="v1.33.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert problems == [], problems


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("option", OPTIONS)
def test_manifests_match_the_kubernetes_schemas(render, option, version):
    m = render(OPTIONS[option])
    assert m.objects
    for obj in m.objects:
        if obj["apiVersion"] == "monitoring.coreos.com/v1":
            continue
        name = f"{obj['kind']} {obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{name} is invalid for Kubernetes {version}: {e.message}")


def test_every_object_is_namespaced_in_the_release_or_cluster_scoped(render):
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
    for option, values in OPTIONS.items():
        for obj in render(values).objects:
            namespace = obj["metadata"].get("namespace")
            if obj["kind"] in cluster_scoped:
                assert namespace is None, f"{option}: {obj['kind']} has a namespace"
            elif obj["kind"] in ("Role", "RoleBinding") and values.get("watchNamespace"):
                assert namespace in (NAMESPACE, values["watchNamespace"]), option
            elif obj["kind"] == "ConfigMap" and values.get("grafanaDashboard", {}).get("namespace"):
                # The dashboard goes where the Grafana sidecar looks.
                assert namespace == values["grafanaDashboard"]["namespace"], option
            else:
                assert namespace == NAMESPACE, f"{option}: {obj['kind']} {obj['metadata']['name']}"


def test_service_monitor_has_only_known_fields(render):
    monitor = render(OPTIONS["service-monitor"]).one("ServiceMonitor")
    assert set(monitor) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(monitor["spec"]) <= SERVICE_MONITOR_FIELDS["spec"]
    for endpoint in monitor["spec"]["endpoints"]:
        assert set(endpoint) <= SERVICE_MONITOR_FIELDS["endpoint"], endpoint
        for relabeling in endpoint.get("relabelings", []) + endpoint.get("metricRelabelings", []):
            assert set(relabeling) <= SERVICE_MONITOR_FIELDS["relabeling"], relabeling
    assert monitor["spec"]["endpoints"][0]["relabelings"] == OPTIONS["service-monitor"]["metrics"]["serviceMonitor"]["relabelings"]


def test_prometheus_rule_has_only_known_fields(render):
    prometheus_rule = render(OPTIONS["prometheus-rule"]).one("PrometheusRule")
    assert set(prometheus_rule) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(prometheus_rule["spec"]) == PROMETHEUS_RULE_FIELDS["spec"]
    for group in prometheus_rule["spec"]["groups"]:
        assert set(group) == PROMETHEUS_RULE_FIELDS["group"]
        for rule in group["rules"]:
            assert set(rule) == PROMETHEUS_RULE_FIELDS["rule"], rule
            assert PROMETHEUS_DURATION.match(rule["for"]), rule
            assert all(isinstance(v, str) for v in [*rule["labels"].values(), *rule["annotations"].values()]), rule


def test_lint_reports_a_broken_value():
    report = helm.lint(CHART_DIR, {"replicaCount": "two"}, strict=True)
    assert any(m["severity"] == 3 and "replicaCount" in m["error"] for m in report["messages"]), report
