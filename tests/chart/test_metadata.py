"""Chart.yaml's Artifact Hub annotations and versions agree with the chart, the CRDs and the image."""

import re

import jsonschema
import yaml
from conftest import CHART_DIR, ROOT


def chart_yaml() -> dict:
    return yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())


def annotation(name: str):
    return yaml.safe_load(chart_yaml()["annotations"][f"artifacthub.io/{name}"])


def crds() -> dict[str, dict]:
    loaded = (yaml.safe_load(p.read_text()) for p in (ROOT / "crds").glob("*.yaml"))
    return {crd["spec"]["names"]["kind"]: crd for crd in loaded}


def test_versions_agree():
    chart = chart_yaml()
    cargo_version = re.search(r'^version = "(.+)"$', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    assert chart["appVersion"] == cargo_version
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"ARG VERSION={cargo_version}" in dockerfile
    assert chart["kubeVersion"] == ">=1.33.0-0"
    assert chart["home"] and chart["sources"]


def test_images_annotation_is_the_default_image():
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    [image] = annotation("images")
    assert image["image"] == f"{values['image']['repository']}:{chart_yaml()['appVersion']}"


def test_crds_annotation_lists_every_crd():
    listed = {entry["kind"]: entry for entry in annotation("crds")}
    assert listed.keys() == crds().keys()
    for kind, crd in crds().items():
        assert listed[kind]["name"] == crd["metadata"]["name"]
        assert listed[kind]["version"] in [v["name"] for v in crd["spec"]["versions"]]


def test_crd_examples_are_valid_resources():
    examples = annotation("crdsExamples")
    assert examples
    for example in examples:
        crd = crds()[example["kind"]]
        [version] = [v for v in crd["spec"]["versions"] if f"{crd['spec']['group']}/{v['name']}" == example["apiVersion"]]
        schema = version["schema"]["openAPIV3Schema"]
        jsonschema.validate({k: v for k, v in example.items() if k not in ("apiVersion", "kind", "metadata")}, schema)


def test_operator_annotations():
    annotations = chart_yaml()["annotations"]
    assert annotations["artifacthub.io/operator"] == "true"
    assert annotations["artifacthub.io/operatorCapabilities"] in (
        "Basic Install", "Seamless Upgrades", "Full Lifecycle", "Deep Insights", "Auto Pilot")
    assert annotations["artifacthub.io/license"] == "Apache-2.0"
    assert {link["name"] for link in annotation("links")} >= {"support"}
