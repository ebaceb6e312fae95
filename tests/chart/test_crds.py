"""The chart installs exactly the CRDs in crds/, with the keep policy and user annotations."""

import yaml
from conftest import CHART_DIR, ROOT

KEEP = "helm.sh/resource-policy"


def committed_crds() -> dict[str, dict]:
    crds = (yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds").glob("*.yaml")))
    return {crd["metadata"]["name"]: crd for crd in crds}


def without_chart_metadata(crd: dict) -> dict:
    metadata = {k: v for k, v in crd["metadata"].items() if k not in ("labels", "annotations")}
    return {**crd, "metadata": metadata}


def test_chart_copies_are_identical_to_crds_dir():
    copies = {p.name: p.read_bytes() for p in (CHART_DIR / "files" / "crds").glob("*.yaml")}
    originals = {p.name: p.read_bytes() for p in (ROOT / "crds").glob("*.yaml")}
    assert copies == originals, "run the CRD regeneration command from the README's Test section"


def test_rendered_crds_equal_crds_dir(render):
    rendered = {crd["metadata"]["name"]: crd for crd in render().all("CustomResourceDefinition")}
    committed = committed_crds()
    assert rendered.keys() == committed.keys()
    for name, crd in rendered.items():
        assert without_chart_metadata(crd) == committed[name], name


def test_crds_are_kept_on_uninstall_by_default(render):
    for crd in render().all("CustomResourceDefinition"):
        assert crd["metadata"]["annotations"] == {KEEP: "keep"}
        assert crd["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"


def test_crds_keep_false_and_annotations(render):
    sync_option = {"argocd.argoproj.io/sync-options": "ServerSideApply=true"}
    for crd in render({"crds": {"keep": False, "annotations": sync_option}}).all("CustomResourceDefinition"):
        assert crd["metadata"]["annotations"] == sync_option
    for crd in render({"crds": {"annotations": sync_option}}).all("CustomResourceDefinition"):
        assert crd["metadata"]["annotations"] == {KEEP: "keep", **sync_option}
    for crd in render({"crds": {"keep": False}}).all("CustomResourceDefinition"):
        assert "annotations" not in crd["metadata"]


def test_crds_disabled(render):
    assert render({"crds": {"enabled": False}}).all("CustomResourceDefinition") == []


def test_chart_has_no_crds_dir():
    # Helm never upgrades files in a chart's crds/ directory; the CRDs are templates so upgrades
    # update them, and moving them back would make Helm delete them (and every resource).
    assert not (CHART_DIR / "crds").exists()
