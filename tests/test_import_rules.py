"""The import rules (`tools/import_rules.py`, run by `make lint`): the real tree keeps them, and a fake tree
with one forbidden import of each kind is caught, each under its rule."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from prasmes_runtime import registry

ROOT = Path(__file__).resolve().parents[1]


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_rules", ROOT / "tools" / "import_rules.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


rules = _load_checker()
Rule = rules.Rule


# --- the real tree -------------------------------------------------------------------------------------


def test_the_real_tree_keeps_every_rule():
    report = rules.check(ROOT)
    assert report.violations == [], "import rules broken:\n" + "\n".join(map(str, report.violations))


def test_the_real_check_examines_every_registry_service_and_its_domain():
    report = rules.check(ROOT)

    assert ROOT / rules.REGISTRY_FILE == registry.REGISTRY_FILE
    assert report.services == tuple(s.package for s in registry.SERVICES)
    assert len(report.services) >= 6

    # Which services have a domain, found on disk here, independently of the checker.
    expected_domains: dict[str, set[str]] = {}
    for service in registry.SERVICES:
        package = ROOT / service.folder / "src" / service.package
        if (package / "domain.py").is_file():
            expected_domains[service.package] = {f"{service.package}.domain"}
        elif (package / "domain" / "__init__.py").is_file():
            expected_domains[service.package] = {
                ".".join((service.package, "domain", *p.relative_to(package / "domain").with_suffix("").parts))
                for p in (package / "domain").rglob("*.py")
                if p.name != "__init__.py"
            } | {f"{service.package}.domain"}
    assert expected_domains, "no service has a domain: the domain rules would check nothing"
    assert {name: set(modules) for name, modules in report.domains.items()} == expected_domains

    assert set(report.libs) == {p.parent.name for p in ROOT.glob("libs/*/src/*/__init__.py")}
    assert {"prasmes_contracts", "prasmes_runtime"} <= set(report.libs)

    # The runtime's framework modules, computed: errors and clock stay pure, the HTTP, database and bus ones do not.
    framework = set(report.runtime_framework)
    assert {"prasmes_runtime.bus", "prasmes_runtime.db", "prasmes_runtime.http", "prasmes_runtime.service"} <= framework
    assert not framework & {"prasmes_runtime.errors", "prasmes_runtime.clock", "prasmes_runtime.registry"}


# --- a fake tree -----------------------------------------------------------------------------------------

REGISTRY = """\
[[services]]
name = "alpha"

[[services]]
name = "beta"
"""

CLEAN: dict[str, str] = {
    "libs/runtime/src/prasmes_runtime/__init__.py": "",
    "libs/runtime/src/prasmes_runtime/services.toml": REGISTRY,
    "libs/runtime/src/prasmes_runtime/errors.py": "class DomainError(Exception):\n    pass\n",
    "libs/runtime/src/prasmes_runtime/clock.py": "from datetime import UTC, datetime\n",
    "libs/runtime/src/prasmes_runtime/db.py": "import sqlalchemy\n",
    "libs/runtime/src/prasmes_runtime/http.py": "import fastapi\n\nfrom prasmes_runtime.errors import DomainError\n",
    "libs/runtime/src/prasmes_runtime/bus/__init__.py": "from prasmes_runtime.bus.port import Bus\n",
    "libs/runtime/src/prasmes_runtime/bus/port.py": "from prasmes_contracts import Event\n\n\nclass Bus:\n    pass\n",
    "libs/contracts/src/prasmes_contracts/__init__.py": (
        "from dataclasses import dataclass\n\n\n@dataclass\nclass Event:\n    type: str\n"
    ),
    # A dev-tools library that starts the services by name: it does not import them.
    "libs/devtools/src/prasmes_devtools/__init__.py": (
        "import subprocess\n\nAPPS = ['alpha.app:app_factory', 'beta.app:app_factory']\n\n\n"
        "def run(app: str) -> None:\n    subprocess.run(['uvicorn', '--factory', app])\n"
    ),
    "services/alpha/src/alpha/__init__.py": "",
    "services/alpha/src/alpha/domain/__init__.py": "",
    "services/alpha/src/alpha/domain/model.py": (
        "from prasmes_runtime.clock import UTC\nfrom prasmes_runtime.errors import DomainError\n\n"
        "from alpha.domain import rules\n"
    ),
    "services/alpha/src/alpha/domain/rules.py": "from decimal import Decimal\n\nfrom alpha import helpers\n",
    "services/alpha/src/alpha/helpers.py": "import re\n",
    "services/alpha/src/alpha/db.py": "import sqlalchemy\n\nfrom alpha.domain import model\n",
    "services/alpha/src/alpha/api.py": "import fastapi\nfrom prasmes_runtime import http\n\nfrom alpha import db\n",
    "services/alpha/src/alpha/app.py": "from prasmes_runtime.bus import Bus\n\nfrom alpha import api\n",
    "services/beta/src/beta/__init__.py": "",
    "services/beta/src/beta/domain.py": "from prasmes_runtime.errors import DomainError\n",
    "services/beta/src/beta/db.py": "from prasmes_runtime import db\n\nfrom beta import domain\n",
    "services/beta/src/beta/app.py": "from prasmes_contracts import Event\n\nfrom beta import db\n",
}


def build(root: Path, extra: dict[str, str] | None = None) -> Path:
    """The clean fake tree, with `extra` lines appended to (or new files added at) the given paths."""
    files = dict(CLEAN)
    for path, text in (extra or {}).items():
        files[path] = files.get(path, "") + text
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def _modules(violation) -> tuple[str, ...]:
    return tuple(hop.module for hop in violation.chain)


def test_a_clean_fake_tree_reports_none(tmp_path):
    report = rules.check(build(tmp_path))

    assert report.violations == []
    assert report.services == ("alpha", "beta")
    assert report.libs == ("prasmes_contracts", "prasmes_devtools", "prasmes_runtime")
    assert report.domains == {
        "alpha": ("alpha.domain", "alpha.domain.model", "alpha.domain.rules"),
        "beta": ("beta.domain",),
    }
    assert set(report.runtime_framework) == {
        "prasmes_runtime.bus",
        "prasmes_runtime.bus.port",
        "prasmes_runtime.db",
        "prasmes_runtime.http",
    }
    assert rules.main(["--root", str(tmp_path)]) == 0


# Each case: what is added to the clean tree; the chain that must be reported, under its rule; every rule reported
# (an import can break more than one: a domain importing its db also reaches SQLAlchemy).
CASES = {
    "service imports another service": (
        {"services/alpha/src/alpha/consumers.py": "from beta.app import Event\n"},
        Rule.SERVICES_INDEPENDENT,
        ("alpha.consumers", "beta.app"),
        {Rule.SERVICES_INDEPENDENT},
    ),
    "service imports another through a library": (
        {
            "libs/devtools/src/prasmes_devtools/seed.py": "def seed() -> None:\n    from beta import app\n",
            "services/alpha/src/alpha/consumers.py": "from prasmes_devtools import seed\n",
        },
        Rule.SERVICES_INDEPENDENT,
        ("alpha.consumers", "prasmes_devtools.seed", "beta.app"),
        {Rule.SERVICES_INDEPENDENT, Rule.LIBS_NO_SERVICES},
    ),
    "domain imports sqlalchemy": (
        {"services/alpha/src/alpha/domain/model.py": "import sqlalchemy\n"},
        Rule.DOMAIN_NO_FRAMEWORKS,
        ("alpha.domain.model", "sqlalchemy"),
        {Rule.DOMAIN_NO_FRAMEWORKS},
    ),
    "domain imports sqlalchemy through an intermediate module": (
        {"services/alpha/src/alpha/helpers.py": "from sqlalchemy import orm\n"},
        Rule.DOMAIN_NO_FRAMEWORKS,
        ("alpha.domain.rules", "alpha.helpers", "sqlalchemy"),
        {Rule.DOMAIN_NO_FRAMEWORKS},
    ),
    "domain imports its own db": (
        {"services/alpha/src/alpha/domain/rules.py": "from alpha import db\n"},
        Rule.DOMAIN_NO_OWN_INFRASTRUCTURE,
        ("alpha.domain.rules", "alpha.db"),
        {Rule.DOMAIN_NO_OWN_INFRASTRUCTURE, Rule.DOMAIN_NO_FRAMEWORKS},
    ),
    "domain imports its own adapters package": (
        {
            "services/beta/src/beta/adapters/__init__.py": "",
            "services/beta/src/beta/adapters/mail.py": "import smtplib\n",
            "services/beta/src/beta/domain.py": "from beta.adapters import mail\n",
        },
        Rule.DOMAIN_NO_OWN_INFRASTRUCTURE,
        ("beta.domain", "beta.adapters.mail"),
        {Rule.DOMAIN_NO_OWN_INFRASTRUCTURE},
    ),
    "domain imports pydantic": (
        {"services/beta/src/beta/domain.py": "from pydantic import BaseModel\n"},
        Rule.DOMAIN_NO_FRAMEWORKS,
        ("beta.domain", "pydantic"),
        {Rule.DOMAIN_NO_FRAMEWORKS},
    ),
    "domain imports the bus": (
        {"services/beta/src/beta/domain.py": "from prasmes_runtime.bus import Bus\n"},
        Rule.DOMAIN_NO_RUNTIME_FRAMEWORK,
        ("beta.domain", "prasmes_runtime.bus"),
        {Rule.DOMAIN_NO_RUNTIME_FRAMEWORK},
    ),
    "domain imports a runtime framework module": (
        {"services/beta/src/beta/domain.py": "from prasmes_runtime import db\n"},
        Rule.DOMAIN_NO_RUNTIME_FRAMEWORK,
        ("beta.domain", "prasmes_runtime.db"),
        {Rule.DOMAIN_NO_RUNTIME_FRAMEWORK, Rule.DOMAIN_NO_FRAMEWORKS},
    ),
    "a pure runtime module a domain uses starts importing fastapi": (
        {"libs/runtime/src/prasmes_runtime/errors.py": "from fastapi import HTTPException\n"},
        Rule.DOMAIN_NO_FRAMEWORKS,
        ("beta.domain", "prasmes_runtime.errors", "fastapi"),
        {Rule.DOMAIN_NO_FRAMEWORKS, Rule.DOMAIN_NO_RUNTIME_FRAMEWORK},
    ),
    "the runtime's __init__, run by every import of a runtime module, imports sqlalchemy": (
        {"libs/runtime/src/prasmes_runtime/__init__.py": "import sqlalchemy\n"},
        Rule.DOMAIN_NO_FRAMEWORKS,
        ("beta.domain", "prasmes_runtime.errors", "prasmes_runtime", "sqlalchemy"),
        {Rule.DOMAIN_NO_FRAMEWORKS, Rule.DOMAIN_NO_RUNTIME_FRAMEWORK},
    ),
    "library imports a service, lazily in a function": (
        {"libs/devtools/src/prasmes_devtools/__init__.py": "\n\ndef seed() -> None:\n    from alpha.app import api\n"},
        Rule.LIBS_NO_SERVICES,
        ("prasmes_devtools", "alpha.app"),
        {Rule.LIBS_NO_SERVICES},
    ),
    "a library found by globbing imports a service": (
        {"libs/testing/src/prasmes_testing/__init__.py": "import beta.db\n"},
        Rule.LIBS_NO_SERVICES,
        ("prasmes_testing", "beta.db"),
        {Rule.LIBS_NO_SERVICES},
    ),
    "contracts import the runtime": (
        {"libs/contracts/src/prasmes_contracts/__init__.py": "from prasmes_runtime.errors import DomainError\n"},
        Rule.CONTRACTS_NO_RUNTIME,
        ("prasmes_contracts", "prasmes_runtime.errors"),
        {Rule.CONTRACTS_NO_RUNTIME},
    ),
    "a service added to the registry is covered": (
        {
            "libs/runtime/src/prasmes_runtime/services.toml": '\n[[services]]\nname = "gamma"\n',
            "services/gamma/src/gamma/__init__.py": "",
            "services/gamma/src/gamma/api.py": "from alpha import helpers\n",
        },
        Rule.SERVICES_INDEPENDENT,
        ("gamma.api", "alpha.helpers"),
        {Rule.SERVICES_INDEPENDENT},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_forbidden_import_is_reported_under_its_rule(tmp_path, case):
    extra, rule, chain, every_rule = CASES[case]
    report = rules.check(build(tmp_path, extra))

    reported = {(v.rule, _modules(v)) for v in report.violations}
    assert (rule, chain) in reported, "\n".join(map(str, report.violations))
    assert {v.rule for v in report.violations} == every_rule, "\n".join(map(str, report.violations))
    for violation in report.violations:
        assert (violation.importer, violation.imported) == (violation.chain[0].module, violation.chain[-1].module)


def test_every_kind_at_once_is_reported(tmp_path):
    extra: dict[str, str] = {}
    for case_extra, *_ in CASES.values():
        for path, text in case_extra.items():
            extra[path] = extra.get(path, "") + text
    report = rules.check(build(tmp_path, extra))

    reported = {(v.rule, _modules(v)) for v in report.violations}
    # Appending every case to one tree can make a chain shorter (beta.domain imports the bus directly and through
    # the runtime's __init__); each case's rule is reported, and each case's direct import is.
    assert {rule for _, rule, _, _ in CASES.values()} <= {rule for rule, _ in reported}
    for _, rule, chain, _ in CASES.values():
        if len(chain) == 2:
            assert (rule, chain) in reported, (rule, chain)


def test_main_prints_each_violation_with_its_chain_and_rule_and_fails(tmp_path, capsys):
    build(tmp_path, {"services/alpha/src/alpha/helpers.py": "\nfrom sqlalchemy import orm\n"})

    assert rules.main(["--root", str(tmp_path)]) == 1

    out = capsys.readouterr().out
    assert (
        "alpha.domain.rules -> sqlalchemy (via alpha.domain.rules:3 -> alpha.helpers:3 -> sqlalchemy)  "
        "[domain-no-frameworks: " in out
    )


def test_a_registered_service_without_its_package_is_an_error(tmp_path):
    build(tmp_path, {"libs/runtime/src/prasmes_runtime/services.toml": '\n[[services]]\nname = "missing"\n'})

    with pytest.raises(rules.TreeError, match="missing"):
        rules.check(tmp_path)
    assert rules.main(["--root", str(tmp_path)]) == 2


def test_checking_a_fake_tree_leaves_the_real_packages_imported(tmp_path):
    import prasmes_runtime

    before = (sys.modules["prasmes_runtime"], list(sys.path))
    rules.check(build(tmp_path))
    assert (sys.modules["prasmes_runtime"], sys.path) == before
    assert Path(prasmes_runtime.__file__).is_relative_to(ROOT)
