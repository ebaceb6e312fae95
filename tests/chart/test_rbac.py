"""The chart grants exactly the rules in files/rbac-rules.yaml, the one list of the operator's
Kubernetes API calls (the operator's own tests check that list against the calls it makes)."""

import pytest

from conftest import FULLNAME, NAMESPACE


def normalized(rules: list[dict]) -> list[dict]:
    """Rules as sets, so order inside a rule does not matter but every grant does."""
    return sorted(
        ({k: sorted(v) for k, v in rule.items()} for rule in rules),
        key=lambda rule: repr(sorted(rule.items())),
    )


def lease_rules(rbac_rules: dict, lease: str) -> list[dict]:
    named = [{**rule, "resourceNames": [lease]} for rule in rbac_rules["leaderElection"]["lease"]]
    return named + rbac_rules["leaderElection"]["create"]


def test_rules_file_has_the_sections_the_templates_read(rbac_rules):
    assert rbac_rules["watched"], "watched rules are empty"
    assert rbac_rules["tenancy"], "tenancy rules are empty"
    assert rbac_rules["leaderElection"]["lease"], "lease rules are empty"
    assert set(rbac_rules["leaderElection"]) == {"lease", "create"}


def test_tenancy_grants_service_account_tokens_in_the_watched_namespaces_only_when_on(render, rbac_rules):
    assert not any("serviceaccounts" in r for rule in rbac_rules["watched"] for r in rule["resources"])
    for values, kind, namespace in [({}, "ClusterRole", None), ({"watchNamespace": "shop"}, "Role", "shop")]:
        role = render({**values, "tenancy": {"enabled": True}}).one(kind, FULLNAME)
        assert role["metadata"].get("namespace") == namespace
        assert normalized(role["rules"]) == normalized(rbac_rules["watched"] + rbac_rules["tenancy"])
    tokens = [r for r in rbac_rules["tenancy"] if "serviceaccounts/token" in r["resources"]]
    assert tokens == [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}]


def test_lockdown_names_the_default_service_account_and_needs_tenancy(render):
    m = render({"tenancy": {"enabled": True, "defaultServiceAccount": "deployer"}})
    assert "--default-service-account=deployer" in m.args
    assert not any(a.startswith("--default-service-account") for a in render({"tenancy": {"enabled": True}}).args)
    with pytest.raises(Exception, match="tenancy.defaultServiceAccount needs tenancy.enabled=true"):
        render({"tenancy": {"defaultServiceAccount": "deployer"}})


def test_cluster_wide(render, rbac_rules):
    m = render()
    role = m.one("ClusterRole", FULLNAME)
    assert normalized(role["rules"]) == normalized(rbac_rules["watched"])
    binding = m.one("ClusterRoleBinding", FULLNAME)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": FULLNAME}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]
    assert [r["metadata"]["name"] for r in m.all("Role")] == [f"{FULLNAME}-leader-election"]


def test_one_namespace_needs_no_cluster_role(render, rbac_rules):
    m = render({"watchNamespace": "shop"})
    assert m.all("ClusterRole") == [] and m.all("ClusterRoleBinding") == []
    role = m.one("Role", FULLNAME)
    assert role["metadata"]["namespace"] == "shop"
    assert normalized(role["rules"]) == normalized(rbac_rules["watched"])
    binding = m.one("RoleBinding", FULLNAME)
    assert binding["metadata"]["namespace"] == "shop"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": FULLNAME}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]


def test_leader_election_role_is_limited_to_the_lease(render, rbac_rules):
    m = render()
    role = m.one("Role", f"{FULLNAME}-leader-election")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert normalized(role["rules"]) == normalized(lease_rules(rbac_rules, FULLNAME))
    binding = m.one("RoleBinding", f"{FULLNAME}-leader-election")
    assert binding["metadata"]["namespace"] == NAMESPACE
    assert binding["roleRef"]["name"] == f"{FULLNAME}-leader-election"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]


def test_custom_lease_name_is_the_granted_name(render, rbac_rules):
    m = render({"leaderElection": {"leaseName": "appconfig-leader"}, "watchNamespace": "shop"})
    role = m.one("Role", f"{FULLNAME}-leader-election")
    assert normalized(role["rules"]) == normalized(lease_rules(rbac_rules, "appconfig-leader"))


def test_no_lease_grants_without_leader_election(render):
    m = render({"leaderElection": {"enabled": False}})
    assert m.all("Role") == [] and m.all("RoleBinding") == []
    assert m.all("ClusterRole")


def test_rbac_create_false_renders_none(render):
    m = render({"rbac": {"create": False, "aggregateClusterRoles": True}})
    for kind in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"):
        assert m.all(kind) == [], kind
    assert m.all("ServiceAccount")


def test_no_wildcards_or_unused_kinds(render):
    for role in render().all("ClusterRole") + render().all("Role"):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[field], f"{role['metadata']['name']} grants * in {field}"


def test_aggregated_user_roles_cover_every_crd(render):
    m = render({"rbac": {"aggregateClusterRoles": True}})
    crds = m.all("CustomResourceDefinition")
    view = m.one("ClusterRole", f"{FULLNAME}-view")
    edit = m.one("ClusterRole", f"{FULLNAME}-edit")
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert "rbac.authorization.k8s.io/aggregate-to-view" not in edit["metadata"]["labels"]
    for crd in crds:
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        [view_rule] = [r for r in view["rules"] if r["apiGroups"] == [group]]
        assert {plural, f"{plural}/status"} <= set(view_rule["resources"])
        assert sorted(view_rule["verbs"]) == ["get", "list", "watch"]
        [edit_rule] = [r for r in edit["rules"] if r["apiGroups"] == [group]]
        assert plural in edit_rule["resources"] and f"{plural}/status" not in edit_rule["resources"]
        assert sorted(edit_rule["verbs"]) == ["create", "delete", "deletecollection", "patch", "update"]
    assert render().all("ClusterRole") == [render().one("ClusterRole", FULLNAME)]
