"""The deployment checks' fixtures: the manifests rendered by the pinned kustomize. The tools come from
`make deploy-tools` (a prerequisite of `make test`); a missing one fails the tests that need it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import K8S, KUSTOMIZE, OVERLAYS, ROOT, tool


@pytest.fixture(scope="session")
def kustomize() -> Path:
    pinned = re.search(r"^KUSTOMIZE_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert pinned, "the Makefile pins no KUSTOMIZE_VERSION"
    version = subprocess.run([tool(KUSTOMIZE), "version"], capture_output=True, text=True, check=True).stdout.strip()
    if version != pinned.group(1):
        pytest.fail(f"{KUSTOMIZE} is {version}, the Makefile pins {pinned.group(1)}: delete it, `make deploy-tools`")
    return KUSTOMIZE


def render(kustomize: Path, folder: Path) -> str:
    built = subprocess.run([kustomize, "build", folder], capture_output=True, text=True)
    assert built.returncode == 0, f"kustomize build {folder.relative_to(ROOT)}:\n{built.stderr}"
    return built.stdout


@pytest.fixture(scope="session")
def rendered_text(kustomize: Path) -> dict[str, str]:
    """The YAML of the base and of each overlay, by name."""
    folders = {"base": K8S / "base"} | {name: K8S / "overlays" / name for name in OVERLAYS}
    return {name: render(kustomize, folder) for name, folder in folders.items()}


@pytest.fixture(scope="session")
def rendered(rendered_text: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    return {name: [o for o in yaml.safe_load_all(text) if o] for name, text in rendered_text.items()}


@pytest.fixture(scope="session")
def rendered_dir(rendered_text: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The overlays rendered, one file each: what is deployed, and what the policy checker scans."""
    folder = tmp_path_factory.mktemp("rendered")
    for name in OVERLAYS:
        (folder / f"{name}.yaml").write_text(rendered_text[name], encoding="utf-8")
    return folder
