"""What the deployment checks share: the paths, the generator (tools/k8s_manifests.py) loaded as a module, lookups."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prasmes_runtime import registry
from prasmes_runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
TOOLS = ROOT / ".tools"
KUSTOMIZE = TOOLS / "bin/kustomize"
CHECKOV = TOOLS / "checkov/bin/checkov"
OVERLAYS = ("dev", "production")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_manifests", ROOT / "tools/k8s_manifests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def objects_of(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def tool(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run `make deploy-tools`")
    return path


STANDARD_VARIABLES = frozenset({"OTEL_EXPORTER_OTLP_ENDPOINT"})
"""Read by a library itself: the OTLP exporter's own variable (Settings.traces_exporter names it)."""


def setting_names() -> set[str]:
    """Every environment variable a process of the platform reads: the fields of the shared Settings and of every
    service's subclass (`<package>.settings`), upper-case, and the libraries' standard ones."""
    classes: set[type[Settings]] = {Settings}
    for entry in registry.SERVICES:
        module = importlib.import_module(f"{entry.package}.settings")
        classes |= {c for c in vars(module).values() if isinstance(c, type) and issubclass(c, Settings)}
    return {field.upper() for c in classes for field in c.model_fields} | STANDARD_VARIABLES
