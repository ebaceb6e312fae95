"""values.schema.json accepts every documented option and rejects typos and mistyped values with a
message that names the value."""

import helm_python as helm
import pytest
import yaml
from conftest import CHART_DIR
from options import OPTIONS

# One case per kind of mistake: (values, the path the error must name).
REJECTED = {
    "unknown top-level key": ({"replicas": 2}, "replicas"),
    "typo one level down": ({"image": {"tagg": "1.0"}}, "tagg"),
    "typo two levels down": ({"metrics": {"serviceMonitor": {"intervall": "30s"}}}, "intervall"),
    "typo in a probe": ({"livenessProbe": {"periodSecond": 5}}, "periodSecond"),
    "string for an integer": ({"replicaCount": "2"}, "/replicaCount"),
    "integer below its minimum": ({"replicaCount": 0}, "/replicaCount"),
    "integer above its maximum": ({"operator": {"eventLogLimit": 101}}, "/operator/eventLogLimit"),
    "privileged port": ({"http": {"port": 80}}, "/http/port"),
    "string for a boolean": ({"crds": {"keep": "yes"}}, "/crds/keep"),
    "value outside its enum": ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
    "unknown log format": ({"operator": {"logFormat": "xml"}}, "/operator/logFormat"),
    "digest without algorithm": ({"image": {"digest": "abc123"}}, "/image/digest"),
    "region that is not one": ({"aws": {"region": "Frankfurt"}}, "/aws/region"),
    "endpoint without scheme": ({"aws": {"endpointUrl": "localhost:4566"}}, "/aws/endpointUrl"),
    "negative rate limit": ({"aws": {"qps": -1}}, "/aws/qps"),
    "rate limit in words": ({"aws": {"qps": "ten"}}, "/aws/qps"),
    "burst of zero": ({"aws": {"burst": 0}}, "/aws/burst"),
    "duration in words": ({"operator": {"pollInterval": "15 seconds"}}, "/operator/pollInterval"),
    "namespace that is not a name": ({"watchNamespace": "Shop_1"}, "/watchNamespace"),
    "map given as a list": ({"nodeSelector": ["linux"]}, "/nodeSelector"),
    "list given as a map": ({"tolerations": {"key": "system"}}, "/tolerations"),
    "number as an annotation value": ({"serviceAccount": {"annotations": {"a": 1}}}, "/serviceAccount/annotations/a"),
    "pull secret without name": ({"imagePullSecrets": [{"secret": "regcred"}]}, "/imagePullSecrets/0"),
    "percentage without %": ({"podDisruptionBudget": {"minAvailable": "half"}}, "/podDisruptionBudget/minAvailable"),
    "extra args not strings": ({"operator": {"extraArgs": [1]}}, "/operator/extraArgs/0"),
    "dashboard label value a number": ({"grafanaDashboard": {"labelValue": 1}}, "/grafanaDashboard/labelValue"),
    "dashboard label not a label key": ({"grafanaDashboard": {"label": "grafana dashboard"}}, "/grafanaDashboard/label"),
    "rule selector in braces": ({"prometheusRule": {"selector": '{job="x"}'}}, "/prometheusRule/selector"),
    "stalled duration in words": ({"prometheusRule": {"stalledFor": "ten minutes"}}, "/prometheusRule/stalledFor"),
    "runbook URL without scheme": ({"prometheusRule": {"runbookBaseUrl": "wiki/runbooks#"}}, "/prometheusRule/runbookBaseUrl"),
}


@pytest.mark.parametrize("mistake", REJECTED)
def test_rejects(chart, mistake):
    values, path = REJECTED[mistake]
    with pytest.raises(helm.HelmValuesError) as error:
        chart.validate_schema(values)
    assert path in str(error.value), str(error.value)
    # Install, upgrade and template validate the same way.
    with pytest.raises(helm.HelmValuesError):
        chart.render(values, name="rel", namespace="ops")


@pytest.mark.parametrize("option", OPTIONS)
def test_accepts_every_option(chart, option):
    chart.validate_schema(chart.merge_values(OPTIONS[option]))


def test_accepts_the_default_values(chart):
    chart.validate_schema(yaml.safe_load((CHART_DIR / "values.yaml").read_text()))


# Values that are Kubernetes objects or maps passed through whole: one README row each.
WHOLE = {"resources", "podSecurityContext", "securityContext", "nodeSelector", "affinity"}


def leaf_paths(values: dict, prefix: str = "") -> set[str]:
    """Dotted paths of the values a user sets, e.g. image.tag."""
    paths = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in WHOLE:
            paths |= leaf_paths(value, f"{path}.")
        else:
            paths.add(path)
    return paths


def sets(values: dict, path: str) -> bool:
    for key in path.split("."):
        if not isinstance(values, dict) or key not in values:
            return False
        values = values[key]
    return True


def test_options_exercise_every_value():
    defaults = leaf_paths(yaml.safe_load((CHART_DIR / "values.yaml").read_text()))
    unset = [p for p in sorted(defaults) if not any(sets(v, p) for v in OPTIONS.values())]
    assert unset == [], "values no option in options.py sets"


def test_schema_lists_every_value_and_no_other(chart):
    def schema_paths(schema: dict, prefix: str = "") -> set[str]:
        paths = set()
        for key, sub in schema.get("properties", {}).items():
            path = f"{prefix}{key}"
            if sub.get("properties") and path not in WHOLE:
                paths |= schema_paths(sub, f"{path}.")
            else:
                paths.add(path)
        return paths

    defaults = leaf_paths(yaml.safe_load((CHART_DIR / "values.yaml").read_text()))
    assert schema_paths(chart.schema) - {"global"} == defaults


def test_readme_documents_every_value():
    readme = (CHART_DIR.parents[1] / "README.md").read_text()
    missing = [p for p in sorted(leaf_paths(yaml.safe_load((CHART_DIR / "values.yaml").read_text())))
               if f"| `{p}` |" not in readme]
    assert missing == [], "values without a row in the README's Install with Helm table"
