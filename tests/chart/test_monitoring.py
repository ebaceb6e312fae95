"""The Grafana dashboard and the PrometheusRule ship exactly the files the Rust test
(tests/controller/monitoring.rs) holds to the operator's metrics, and each alert's runbook_url
points at its runbook in the README."""

import json
import re

import pytest
from conftest import CHART_DIR, FULLNAME, NAMESPACE, ROOT
import yaml

DASHBOARD_FILE = CHART_DIR / "files" / "dashboards" / "appconfig-operator.json"
ALERTS = yaml.safe_load((CHART_DIR / "files" / "alerts.yaml").read_text())["alerts"]
# What the chart puts for SELECTOR with the ServiceMonitor on: the job label the Prometheus
# Operator gives the metrics Service's targets (the Service's name) and the namespace. The Rust
# test checks the alerts with this same selector.
SELECTOR = f'job="{FULLNAME}-metrics",namespace="{NAMESPACE}"'
WITH_SERVICE_MONITOR = {"metrics": {"serviceMonitor": {"enabled": True}}}


def rule(render, values: dict | None = None) -> dict:
    merged = {**WITH_SERVICE_MONITOR, "prometheusRule": {"enabled": True, **(values or {})}}
    return render(merged).one("PrometheusRule", FULLNAME)


def rules(prometheus_rule: dict) -> dict[str, dict]:
    [group] = prometheus_rule["spec"]["groups"]
    return {r["alert"]: r for r in group["rules"]}


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def runbook_anchors() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Runbooks\n", 1)[1].split("\n## ", 1)[0]
    return {slug(line.lstrip("#")) for line in section.splitlines() if line.startswith("### ")}


def test_nothing_by_default(render):
    m = render()
    assert m.all("PrometheusRule") == []
    assert [c for c in m.all("ConfigMap") if c["metadata"]["name"].endswith("-dashboard")] == []


def test_dashboard_is_the_file_labelled_for_the_sidecar(render):
    m = render({"grafanaDashboard": {"enabled": True}})
    dashboard = m.one("ConfigMap", f"{FULLNAME}-dashboard")
    assert dashboard["metadata"]["namespace"] == NAMESPACE
    # kube-prometheus-stack's Grafana sidecar looks for grafana_dashboard: "1" by default.
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "annotations" not in dashboard["metadata"]
    assert dashboard["data"] == {"appconfig-operator.json": DASHBOARD_FILE.read_text().rstrip("\n")}
    parsed = json.loads(dashboard["data"]["appconfig-operator.json"])
    assert parsed["uid"] == "appconfig-operator" and parsed["panels"]


def test_dashboard_label_folder_and_namespace(render):
    m = render({"grafanaDashboard": {"enabled": True, "namespace": "monitoring", "label": "dashboards",
                                     "labelValue": "appconfig", "folder": "Operators",
                                     "folderAnnotation": "grafana_folder"}})
    dashboard = m.one("ConfigMap", f"{FULLNAME}-dashboard")
    assert dashboard["metadata"]["namespace"] == "monitoring"
    assert dashboard["metadata"]["labels"]["dashboards"] == "appconfig"
    assert "grafana_dashboard" not in dashboard["metadata"]["labels"]
    assert dashboard["metadata"]["annotations"] == {"grafana_folder": "Operators"}
    m = render({"grafanaDashboard": {"enabled": True, "folder": "Operators"}})
    annotations = m.one("ConfigMap", f"{FULLNAME}-dashboard")["metadata"]["annotations"]
    assert annotations == {"k8s-sidecar-target-directory": "Operators"}


def test_every_dashboard_query_is_scoped_by_the_variables(render):
    dashboard = json.loads(DASHBOARD_FILE.read_text())
    panels = [p for row in dashboard["panels"] for p in [row, *row.get("panels", [])]]
    exprs = [t["expr"] for p in panels for t in p.get("targets", [])]
    assert exprs
    for expr in exprs:
        for selector in re.findall(r"appconfig_operator_\w+\{[^}]*\}", expr):
            assert 'namespace="$namespace", job="$job"' in selector, expr


def test_rule_is_the_alerts_file_with_the_release_selector(render):
    prometheus_rule = rule(render)
    assert prometheus_rule["metadata"]["namespace"] == NAMESPACE
    rendered = rules(prometheus_rule)
    assert list(rendered) == [a["alert"] for a in ALERTS]
    for alert in ALERTS:
        r = rendered[alert["alert"]]
        assert r["expr"] == alert["expr"].replace("SELECTOR", SELECTOR)
        assert "SELECTOR" not in r["expr"]
        assert r["for"] == alert["for"]
        assert r["labels"] == {"severity": alert["severity"]}
        assert r["annotations"] == {
            "summary": alert["summary"],
            "description": alert["description"],
            "runbook_url": f"https://github.com/appconfig-operators/appconfig-operator#{alert['runbook']}",
        }


def test_the_default_selector_is_what_the_service_monitor_scrapes(render):
    m = render({**WITH_SERVICE_MONITOR, "prometheusRule": {"enabled": True}})
    service = m.one("ServiceMonitor")["spec"]
    metrics_service = m.one("Service")
    # The Prometheus Operator names a ServiceMonitor target's job after its Service.
    assert metrics_service["metadata"]["labels"].items() >= service["selector"]["matchLabels"].items()
    assert f'job="{metrics_service["metadata"]["name"]}"' in SELECTOR
    assert service["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    for r in rules(m.one("PrometheusRule")).values():
        assert SELECTOR in r["expr"], r["alert"]


def test_every_alert_has_its_own_runbook_in_the_readme(render):
    anchors = runbook_anchors()
    urls = [r["annotations"]["runbook_url"] for r in rules(rule(render)).values()]
    assert sorted(url.split("#", 1)[1] for url in urls) == sorted(anchors)
    assert len(anchors) == len(ALERTS)


def test_rule_values(render):
    prometheus_rule = rule(render, {"labels": {"release": "kube-prometheus-stack"}, "alertLabels": {"team": "platform"},
                                    "stalledFor": "30m", "runbookBaseUrl": "https://wiki.example.com/runbooks#"})
    assert prometheus_rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    rendered = rules(prometheus_rule)
    for alert in ALERTS:
        r = rendered[alert["alert"]]
        assert r["labels"] == {"severity": alert["severity"], "team": "platform"}
        assert r["annotations"]["runbook_url"] == f"https://wiki.example.com/runbooks#{alert['runbook']}"
        assert r["for"] == ("30m" if alert.get("forValue") == "stalledFor" else alert["for"])
    assert rendered["AppConfigResourceStalled"]["for"] == "30m"
    # An alert's severity is its own.
    rendered = rules(rule(render, {"alertLabels": {"severity": "info"}}))
    assert rendered["AppConfigOperatorDown"]["labels"]["severity"] == "critical"


def test_own_selector_without_the_service_monitor(render):
    m = render({"prometheusRule": {"enabled": True, "selector": 'job="appconfig-operator"'}})
    rendered = rules(m.one("PrometheusRule"))
    assert rendered["AppConfigOperatorDown"]["expr"] == 'absent(appconfig_operator_leader{job="appconfig-operator"})'
    assert m.all("ServiceMonitor") == []


def test_rule_needs_the_service_monitor_or_a_selector(render):
    with pytest.raises(Exception, match="prometheusRule.enabled needs metrics.serviceMonitor.enabled=true"):
        render({"prometheusRule": {"enabled": True}})
