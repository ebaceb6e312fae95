"""Values for each chart option: every one is rendered, linted and schema-validated."""

DIGEST = "sha256:" + "ab" * 32

OPTIONS: dict[str, dict] = {
    "defaults": {},
    "watch-namespace": {"watchNamespace": "shop"},
    "two-replicas": {"replicaCount": 2},
    "no-leader-election": {"leaderElection": {"enabled": False}},
    "lease-name": {"leaderElection": {"leaseName": "appconfig-leader"}},
    "service-monitor": {
        "metrics": {
            "serviceMonitor": {
                "enabled": True,
                "labels": {"release": "prometheus"},
                "interval": "30s",
                "scrapeTimeout": "10s",
                "relabelings": [{"action": "replace", "targetLabel": "cluster", "replacement": "prod"}],
                "metricRelabelings": [{"action": "drop", "sourceLabels": ["__name__"], "regex": "go_.*"}],
            }
        }
    },
    "grafana-dashboard": {
        "grafanaDashboard": {
            "enabled": True,
            "namespace": "monitoring",
            "label": "example.com/grafana-dashboard",
            "labelValue": "appconfig",
            "folder": "AppConfig operator",
            "folderAnnotation": "grafana_folder",
        }
    },
    "prometheus-rule": {
        "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}}},
        "prometheusRule": {
            "enabled": True,
            "labels": {"release": "kube-prometheus-stack"},
            "alertLabels": {"team": "platform"},
            "stalledFor": "30m",
            "runbookBaseUrl": "https://wiki.example.com/appconfig-operator/runbooks#",
        },
    },
    "prometheus-rule-own-scrape": {"prometheusRule": {"enabled": True, "selector": 'job="appconfig-operator"'}},
    "metrics-service-annotations": {"metrics": {"service": {"annotations": {"prometheus.io/scrape": "true"}}}},
    "security-contexts": {
        "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
                               "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}, "runAsUser": 10001},
    },
    "no-metrics-service": {"metrics": {"service": {"enabled": False}}},
    "pdb-min-available": {"replicaCount": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}},
    "pdb-max-unavailable": {"replicaCount": 3, "podDisruptionBudget": {"enabled": True, "maxUnavailable": "50%"}},
    "image-digest": {"image": {"tag": "0.1.0", "digest": DIGEST}},
    "image-tag": {"image": {"repository": "registry.example.com/appconfig-operator", "tag": "0.2.0", "pullPolicy": "Always"},
                  "imagePullSecrets": [{"name": "regcred"}]},
    "embedded-emulator": {"embeddedEmulator": {"enabled": True}},
    "tenancy": {"tenancy": {"enabled": True}},
    "tenancy-lockdown": {"tenancy": {"enabled": True, "defaultServiceAccount": "appconfig-deployer"}, "watchNamespace": "shop"},
    "aws": {"aws": {"region": "eu-west-1", "endpointUrl": "https://appconfig.eu-west-1.amazonaws.com", "qps": 2.5, "burst": 5}},
    "aws-unlimited": {"aws": {"qps": 0}},
    "irsa": {"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/appconfig-operator"},
                                "labels": {"team": "platform"}}},
    "existing-service-account": {"serviceAccount": {"create": False, "name": "preexisting"}},
    "scheduling": {
        "nodeSelector": {"kubernetes.io/os": "linux", "node-role": "system"},
        "tolerations": [{"key": "system", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "appconfig-operator"}}}],
        "priorityClassName": "system-cluster-critical",
    },
    "crds-disabled": {"crds": {"enabled": False}},
    "crds-not-kept": {"crds": {"keep": False, "annotations": {"argocd.argoproj.io/sync-options": "ServerSideApply=true"}}},
    "no-rbac": {"rbac": {"create": False}},
    "aggregate-cluster-roles": {"rbac": {"aggregateClusterRoles": True}},
    "operator-flags": {
        "operator": {
            "labelSelector": "shard=a",
            "pollInterval": "5s",
            "resyncInterval": "1h30m",
            "eventLogLimit": 20,
            "maxContentBytes": 4194304,
            "concurrency": 4,
            "logFormat": "text",
            "logLevel": "appconfig_operator=debug,info",
            "extraArgs": ["--instance=operator-a"],
            "extraEnv": [{"name": "AWS_MAX_ATTEMPTS", "value": "5"}],
        }
    },
    "http-port-and-probes": {
        "http": {"port": 9090},
        "livenessProbe": {"enabled": True, "initialDelaySeconds": 10, "periodSeconds": 20, "timeoutSeconds": 3,
                          "failureThreshold": 5},
        "readinessProbe": {"enabled": True, "initialDelaySeconds": 1, "periodSeconds": 2, "timeoutSeconds": 1,
                           "failureThreshold": 2},
    },
    "no-probes": {
        "livenessProbe": {"enabled": False},
        "readinessProbe": {"enabled": False},
    },
    "pod-metadata": {
        "podAnnotations": {"example.com/owner": "platform"},
        "podLabels": {"team": "platform"},
        "deploymentAnnotations": {"example.com/revision": "7"},
        "terminationGracePeriodSeconds": 60,
        "resources": {"requests": {"cpu": "100m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
    },
    "names": {"nameOverride": "acop", "fullnameOverride": "appconfig"},
}
