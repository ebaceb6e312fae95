"""What each option puts in the manifests: the arguments and environment the operator reads, the
pod's security and scheduling, and the optional objects."""

import pytest
from conftest import FULLNAME, NAMESPACE, RELEASE
from options import DIGEST


def flag(args: list[str], name: str) -> str | None:
    """The value of --name=value in args, or None."""
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) <= 1, f"--{name} given twice: {args}"
    return values[0] if values else None


def test_defaults(render):
    m = render()
    assert m.kinds() == sorted([
        "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
        "CustomResourceDefinition", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount",
    ])
    deployment = m.one("Deployment", FULLNAME)
    assert deployment["metadata"]["namespace"] == NAMESPACE
    assert deployment["spec"]["replicas"] == 1
    assert m.container["image"] == "ghcr.io/appconfig-operators/appconfig-operator:0.1.0"
    assert m.container["imagePullPolicy"] == "IfNotPresent"
    assert m.args[0] == "run"
    assert flag(m.args, "http-addr") == "0.0.0.0:8080"
    assert "--leader-elect" in m.args
    assert flag(m.args, "lease-name") == FULLNAME
    for absent in ("namespace", "region", "aws-endpoint-url", "label-selector"):
        assert flag(m.args, absent) is None
    assert "--embedded-emulator" not in m.args
    assert flag(m.args, "log-format") == "json"
    assert flag(m.args, "poll-interval") == "15s"
    assert m.env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert m.env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert "AWS_REGION" not in m.env
    assert m.pod["serviceAccountName"] == FULLNAME
    assert m.pod["enableServiceLinks"] is False
    assert m.pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert m.container["resources"] == {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}


def test_restricted_pod_security_profile(render):
    m = render()
    assert m.pod["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert m.container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def test_probes_use_the_http_port(render):
    m = render()
    assert m.container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert m.container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert m.container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_http_port_and_probe_settings(render):
    m = render({"http": {"port": 9090}, "livenessProbe": {"periodSeconds": 20}, "readinessProbe": {"enabled": False}})
    assert flag(m.args, "http-addr") == "0.0.0.0:9090"
    assert m.container["ports"][0]["containerPort"] == 9090
    assert m.container["livenessProbe"]["periodSeconds"] == 20
    assert "readinessProbe" not in m.container
    service = m.one("Service")
    assert service["spec"]["ports"] == [{"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP"}]


def test_metrics_service_selects_the_operator_pods(render):
    m = render()
    service = m.one("Service", f"{FULLNAME}-metrics")
    pod_labels = m.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert render({"metrics": {"service": {"enabled": False}}}).all("Service") == []


def test_watch_namespace(render):
    m = render({"watchNamespace": "shop"})
    assert flag(m.args, "namespace") == "shop"
    assert "watching namespace shop only" in m.notes


def test_replicas_with_leader_election(render):
    m = render({"replicaCount": 3})
    assert m.one("Deployment")["spec"]["replicas"] == 3
    assert "--leader-elect" in m.args


def test_several_replicas_need_leader_election(render):
    with pytest.raises(Exception, match="replicaCount is 2 but leaderElection.enabled is false"):
        render({"replicaCount": 2, "leaderElection": {"enabled": False}})


def test_leader_election_off(render):
    m = render({"leaderElection": {"enabled": False}})
    assert "--leader-elect" not in m.args
    assert flag(m.args, "lease-name") is None
    assert [r["metadata"]["name"] for r in m.all("Role")] == []


def test_custom_lease_name(render):
    m = render({"leaderElection": {"leaseName": "appconfig-leader"}})
    assert flag(m.args, "lease-name") == "appconfig-leader"


def test_image_by_digest(render):
    m = render({"image": {"digest": DIGEST}})
    assert m.container["image"] == f"ghcr.io/appconfig-operators/appconfig-operator:0.1.0@{DIGEST}"


def test_image_by_tag_from_a_private_registry(render):
    m = render({"image": {"repository": "registry.example.com/op", "tag": "0.2.0", "pullPolicy": "Always"},
                "imagePullSecrets": [{"name": "regcred"}]})
    assert m.container["image"] == "registry.example.com/op:0.2.0"
    assert m.container["imagePullPolicy"] == "Always"
    assert m.pod["imagePullSecrets"] == [{"name": "regcred"}]


def test_embedded_emulator_is_flagged_and_announced(render):
    m = render({"embeddedEmulator": {"enabled": True}})
    assert "--embedded-emulator" in m.args
    assert "does NOT talk to AWS" in m.notes
    assert "does NOT talk to AWS" not in render().notes


def test_embedded_emulator_and_endpoint_exclude_each_other(render):
    with pytest.raises(Exception, match="embeddedEmulator.enabled and aws.endpointUrl"):
        render({"embeddedEmulator": {"enabled": True}, "aws": {"endpointUrl": "http://emulator:4566"}})


def test_embedded_emulator_runs_one_replica(render):
    with pytest.raises(Exception, match="embeddedEmulator.enabled runs a separate emulator in each pod"):
        render({"embeddedEmulator": {"enabled": True}, "replicaCount": 2})


def test_aws_region_and_endpoint(render):
    m = render({"aws": {"region": "eu-west-1", "endpointUrl": "http://emulator.tools:4566"}})
    assert flag(m.args, "region") == "eu-west-1"
    assert m.env["AWS_REGION"] == "eu-west-1"
    assert flag(m.args, "aws-endpoint-url") == "http://emulator.tools:4566"


def test_aws_rate_limit(render):
    defaults = render()
    assert flag(defaults.args, "aws-qps") == "10"
    assert flag(defaults.args, "aws-burst") == "20"
    m = render({"aws": {"qps": 2.5, "burst": 5}})
    assert flag(m.args, "aws-qps") == "2.5"
    assert flag(m.args, "aws-burst") == "5"
    assert flag(render({"aws": {"qps": 0}}).args, "aws-qps") == "0"


def test_service_account_annotations_for_irsa(render):
    arn = "arn:aws:iam::111122223333:role/appconfig-operator"
    m = render({"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": arn}}})
    account = m.one("ServiceAccount", FULLNAME)
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": arn}
    assert arn in m.notes


def test_existing_service_account(render):
    m = render({"serviceAccount": {"create": False, "name": "preexisting"}})
    assert m.all("ServiceAccount") == []
    assert m.pod["serviceAccountName"] == "preexisting"
    for binding in m.all("ClusterRoleBinding") + m.all("RoleBinding"):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "preexisting", "namespace": NAMESPACE}]


def test_scheduling(render):
    toleration = {"key": "system", "operator": "Exists", "effect": "NoSchedule"}
    affinity = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}
    spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}]
    m = render({"nodeSelector": {"node-role": "system"}, "tolerations": [toleration], "affinity": affinity,
                "topologySpreadConstraints": spread, "priorityClassName": "system-cluster-critical"})
    assert m.pod["nodeSelector"] == {"kubernetes.io/os": "linux", "node-role": "system"}
    assert m.pod["tolerations"] == [toleration]
    assert m.pod["affinity"] == affinity
    assert m.pod["topologySpreadConstraints"] == spread
    assert m.pod["priorityClassName"] == "system-cluster-critical"
    assert "priorityClassName" not in render().pod


def test_operator_flags(render):
    m = render({"operator": {"labelSelector": "shard=a", "pollInterval": "5s", "resyncInterval": "1h",
                             "eventLogLimit": 20, "maxContentBytes": 4194304, "concurrency": 4, "logFormat": "text", "logLevel": "debug",
                             "extraArgs": ["--instance=operator-a"],
                             "extraEnv": [{"name": "AWS_MAX_ATTEMPTS", "value": "5"}]}})
    assert flag(m.args, "label-selector") == "shard=a"
    assert flag(m.args, "poll-interval") == "5s"
    assert flag(m.args, "resync-interval") == "1h"
    assert flag(m.args, "event-log-limit") == "20"
    assert flag(m.args, "max-content-bytes") == "4194304"
    assert flag(m.args, "concurrency") == "4"
    assert flag(m.args, "log-format") == "text"
    assert flag(m.args, "log-level") == "debug"
    assert m.args[-1] == "--instance=operator-a"
    assert m.env["AWS_MAX_ATTEMPTS"] == "5"


def test_service_monitor(render):
    assert render().all("ServiceMonitor") == []
    m = render({"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"},
                                               "interval": "30s", "scrapeTimeout": "10s"}}})
    monitor = m.one("ServiceMonitor", FULLNAME)
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    service = m.one("Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint == {"port": "http", "path": "/metrics", "scheme": "http", "interval": "30s", "scrapeTimeout": "10s"}
    assert endpoint["port"] in [p["name"] for p in service["spec"]["ports"]]


def test_service_monitor_needs_the_service(render):
    with pytest.raises(Exception, match="metrics.serviceMonitor.enabled needs metrics.service.enabled"):
        render({"metrics": {"service": {"enabled": False}, "serviceMonitor": {"enabled": True}}})


def test_pod_disruption_budget(render):
    assert render().all("PodDisruptionBudget") == []
    pdb = render({"replicaCount": 2, "podDisruptionBudget": {"enabled": True}}).one("PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1 and "maxUnavailable" not in pdb["spec"]
    assert pdb["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "appconfig-operator", "app.kubernetes.io/instance": RELEASE}
    pdb = render({"podDisruptionBudget": {"enabled": True, "maxUnavailable": "50%"}}).one("PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == "50%" and "minAvailable" not in pdb["spec"]


def test_pod_metadata(render):
    m = render({"podAnnotations": {"a": "1"}, "podLabels": {"team": "platform"},
                "deploymentAnnotations": {"b": "2"}, "terminationGracePeriodSeconds": 60})
    deployment = m.one("Deployment")
    assert deployment["metadata"]["annotations"] == {"b": "2"}
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"a": "1"}
    assert deployment["spec"]["template"]["metadata"]["labels"]["team"] == "platform"
    assert m.pod["terminationGracePeriodSeconds"] == 60


def test_name_overrides(render):
    m = render({"fullnameOverride": "appconfig"})
    assert m.one("Deployment")["metadata"]["name"] == "appconfig"
    assert flag(m.args, "lease-name") == "appconfig"
    m = render({"nameOverride": "acop"})
    assert m.one("Deployment")["metadata"]["name"] == f"{RELEASE}-acop"


def test_notes_explain_next_steps(render):
    notes = render().notes
    assert f"kubectl --namespace {NAMESPACE} rollout status deploy/{FULLNAME}" in notes
    assert "--for=condition=Ready" in notes
    assert "EKS Pod Identity" in notes and "IRSA" in notes
    assert "Argo CD" in notes
