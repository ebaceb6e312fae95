"""Renders the chart with the Helm engine (helm-python-sdk) and reads the manifests back."""

from __future__ import annotations

from pathlib import Path

import helm_python as helm
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "charts" / "appconfig-operator"
RELEASE = "rel"
NAMESPACE = "ops"
FULLNAME = "rel-appconfig-operator"


class Manifests:
    """The objects one render produced, and its NOTES.txt."""

    def __init__(self, rendered: dict[str, str]):
        self.notes = ""
        self.objects: list[dict] = []
        for path, text in sorted(rendered.items()):
            if path.endswith("NOTES.txt"):
                self.notes = text
                continue
            self.objects.extend(doc for doc in yaml.safe_load_all(text) if doc)

    def all(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict:
        found = [o for o in self.all(kind) if name is None or o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
        return found[0]

    def kinds(self) -> list[str]:
        return sorted(o["kind"] for o in self.objects)

    @property
    def container(self) -> dict:
        return self.one("Deployment")["spec"]["template"]["spec"]["containers"][0]

    @property
    def pod(self) -> dict:
        return self.one("Deployment")["spec"]["template"]["spec"]

    @property
    def args(self) -> list[str]:
        return self.container["args"]

    @property
    def env(self) -> dict:
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in self.container.get("env", [])}


@pytest.fixture(scope="session")
def chart():
    with helm.Chart.load(CHART_DIR) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def render(chart):
    def render(values: dict | None = None) -> Manifests:
        return Manifests(chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True))

    return render


@pytest.fixture(scope="session")
def rbac_rules() -> dict:
    return yaml.safe_load((CHART_DIR / "files" / "rbac-rules.yaml").read_text())
