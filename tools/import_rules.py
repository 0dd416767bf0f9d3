"""The platform's import rules, checked on the import graph (`make lint`; `python tools/import_rules.py`).

1. services-independent: no service imports another service, directly or through any other module.
2. domain-pure: a service's domain (`<svc>.domain` and its submodules) reaches, directly or not,
   - domain-no-frameworks: none of SQLAlchemy, FastAPI, Starlette, pydantic-settings, aiokafka, httpx,
     nor pydantic (no domain uses pydantic today, so it is forbidden too);
   - domain-no-runtime-framework: no `prasmes_runtime` framework module: the bus (`prasmes_runtime.bus`
     and its modules) and every runtime module from which FastAPI, Starlette, SQLAlchemy or the bus can
     be reached. That set is computed from the graph each run, so `prasmes_runtime.errors` and
     `prasmes_runtime.clock` are allowed exactly as long as they stay pure;
   - domain-no-own-infrastructure: none of its own service's `db`, `api`, `service`, `consumers`, `app`,
     `adapters`.
3. libs-no-services: no library package (`libs/*/src/<package>/`, found by globbing, so new ones are
   covered) imports a service. A library that starts services by name ("catalog.app:app_factory" given to
   uvicorn) does not import them and passes.
4. contracts-no-runtime: `prasmes_contracts` imports nothing of `prasmes_runtime`.

The services are the registry's (`prasmes_runtime.registry`, reading `services.toml`); no list of services is
kept here. Every registered service must have its package at `<folder>/src/<package>/`.

Built on grimp, the import-graph library import-linter runs on, rather than on import-linter: import-linter reads
its contracts from a configuration file (`lint_imports(config_filename=...)`), which would mean either a hand-kept
list of services or writing that file from the registry before each run, and building contracts in code means its
internal contract classes; rule 2's computed set of runtime framework modules is no contract type it has. grimp's
graph queries (`find_shortest_chains`, `chain_exists`) express each rule in a few lines built from the registry
and the folders, and give the chain that breaks it. The graph holds every import statement, including those
inside functions and under `if TYPE_CHECKING:` (a type-only import still couples the code), and, added here,
the import of each module's parent packages: importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py`.
It does not see dynamic imports (`importlib.import_module("x")`) or imports made inside third-party packages.

A violation prints as `importer -> imported (via chain)  [rule]`, each hop of the chain with the line of its
import (`module:line`; `module:^` for a parent package's `__init__`). Exit code 0: no violation; 1: violations;
2: the tree is not what the rules expect (a registered service without its package, two packages of one name).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import itertools
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import grimp
from prasmes_runtime import registry

REPO_ROOT = Path(__file__).resolve().parents[1]
REGISTRY_FILE = Path("libs/runtime/src/prasmes_runtime/services.toml")
"""Where the registry lives, relative to a tree's root."""
LIB_GLOB = "libs/*/src/*/__init__.py"
SERVICE_GLOB = "services/*/src/*/__init__.py"

CONTRACTS = "prasmes_contracts"
RUNTIME = "prasmes_runtime"
BUS = f"{RUNTIME}.bus"

DOMAIN = "domain"
DOMAIN_FORBIDDEN_EXTERNAL = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "pydantic_settings",
    "aiokafka",
    "httpx",
    "pydantic",
)
"""Third-party packages no domain may reach. pydantic: no domain uses it, so it is kept out."""
FRAMEWORK_MARKERS = ("fastapi", "starlette", "sqlalchemy")
"""A runtime module that reaches one of these (or the bus) is a framework module."""
OWN_INFRASTRUCTURE = ("db", "api", "service", "consumers", "app", "adapters")
"""A service's modules (or packages) its domain may not import."""

PARENT = "<parent package __init__>"
"""The line contents of the import this checker adds from a module to its parent package."""


class Rule(StrEnum):
    SERVICES_INDEPENDENT = "services-independent"
    DOMAIN_NO_FRAMEWORKS = "domain-no-frameworks"
    DOMAIN_NO_RUNTIME_FRAMEWORK = "domain-no-runtime-framework"
    DOMAIN_NO_OWN_INFRASTRUCTURE = "domain-no-own-infrastructure"
    LIBS_NO_SERVICES = "libs-no-services"
    CONTRACTS_NO_RUNTIME = "contracts-no-runtime"


DESCRIPTIONS: Mapping[Rule, str] = {
    Rule.SERVICES_INDEPENDENT: "no service imports another service",
    Rule.DOMAIN_NO_FRAMEWORKS: "a domain imports no " + ", ".join(DOMAIN_FORBIDDEN_EXTERNAL),
    Rule.DOMAIN_NO_RUNTIME_FRAMEWORK: "a domain imports neither the bus nor a runtime module that pulls in "
    "FastAPI, SQLAlchemy or the bus",
    Rule.DOMAIN_NO_OWN_INFRASTRUCTURE: "a domain imports none of its service's " + ", ".join(OWN_INFRASTRUCTURE),
    Rule.LIBS_NO_SERVICES: "no library imports a service",
    Rule.CONTRACTS_NO_RUNTIME: f"{CONTRACTS} imports nothing of {RUNTIME}",
}


class TreeError(Exception):
    """The tree does not have the shape the rules are built from."""


@dataclass(frozen=True)
class Hop:
    module: str
    line: int | None
    """The line of `module` that imports the next module of the chain; None on the chain's last module."""
    parent: bool = False
    """The next module is this one's parent package: importing this runs the parent's `__init__`."""

    def __str__(self) -> str:
        if self.parent:
            return f"{self.module}:^"
        return self.module if self.line is None else f"{self.module}:{self.line}"


@dataclass(frozen=True)
class Violation:
    rule: Rule
    importer: str
    imported: str
    chain: tuple[Hop, ...]

    def __str__(self) -> str:
        via = " -> ".join(str(hop) for hop in self.chain)
        return f"{self.importer} -> {self.imported} (via {via})  [{self.rule}: {DESCRIPTIONS[self.rule]}]"


@dataclass(frozen=True)
class Report:
    """What was checked, and what breaks the rules."""

    violations: list[Violation]
    services: tuple[str, ...]
    """The registry's service packages, every one of them in the graph."""
    libs: tuple[str, ...]
    domains: Mapping[str, tuple[str, ...]]
    """For each service that has a domain, its domain modules."""
    runtime_framework: tuple[str, ...]
    """The runtime modules no domain may reach."""
    warnings: list[str] = field(default_factory=list)


def check(root: Path = REPO_ROOT, registry_file: Path | None = None) -> Report:
    """Check the tree at `root`: the registry at `registry_file` (default `root/REGISTRY_FILE`), its
    services under their folders, the libraries under `libs/*/src/`."""
    entries = registry.load(registry_file or root / REGISTRY_FILE)
    services = {entry.package: root / entry.folder / "src" / entry.package for entry in entries}
    missing = [f"{name} ({path})" for name, path in services.items() if not (path / "__init__.py").is_file()]
    if missing:
        raise TreeError("registered services without their package: " + ", ".join(missing))
    libs = {path.parent.name: path.parent for path in sorted(root.glob(LIB_GLOB))}
    packages = _merge(libs, services)
    warnings = [
        f"{path.parent} is no registered service: the import rules do not cover it"
        for path in sorted(root.glob(SERVICE_GLOB))
        if path.parent.name not in services
    ]

    with _resolvable(packages):
        graph = grimp.build_graph(*packages, include_external_packages=True, cache_dir=None)
    _add_parent_imports(graph)

    violations: list[Violation] = []
    for importer in services:
        for imported in services:
            if importer != imported:
                violations += _chains(graph, Rule.SERVICES_INDEPENDENT, importer, imported)
    for lib in libs:
        for service in services:
            violations += _chains(graph, Rule.LIBS_NO_SERVICES, lib, service)
    if CONTRACTS in libs and RUNTIME in libs:
        violations += _chains(graph, Rule.CONTRACTS_NO_RUNTIME, CONTRACTS, RUNTIME)

    framework = _runtime_framework(graph) if RUNTIME in libs else set()
    domains: dict[str, tuple[str, ...]] = {}
    for service in services:
        domain = f"{service}.{DOMAIN}"
        if domain not in graph.modules:
            continue
        domains[service] = tuple(sorted({domain} | graph.find_descendants(domain)))
        violations += _domain_violations(graph, service, domains[service], framework)

    return Report(
        violations=sorted(set(violations), key=str),
        services=tuple(services),
        libs=tuple(libs),
        domains=domains,
        runtime_framework=tuple(sorted(framework)),
        warnings=warnings,
    )


def find_violations(root: Path = REPO_ROOT, registry_file: Path | None = None) -> list[Violation]:
    return check(root, registry_file).violations


def _merge(libs: Mapping[str, Path], services: Mapping[str, Path]) -> dict[str, Path]:
    clashes = sorted(set(libs) & set(services))
    if clashes:
        raise TreeError("a library and a service share a package name: " + ", ".join(clashes))
    return {**libs, **services}


@contextmanager
def _resolvable(packages: Mapping[str, Path]) -> Iterator[None]:
    """Let grimp find each package at the given folder: grimp locates a package with `importlib.util.find_spec`,
    which answers from `sys.modules` when a module of that name is already imported (as the test run imports
    the real `prasmes_runtime` while checking a fake one). For the duration, the folders come first on
    `sys.path` and modules of these names are out of `sys.modules`; both are restored after."""
    saved_path = list(sys.path)
    hidden = {name: module for name, module in sys.modules.items() if name.partition(".")[0] in packages}
    for name in hidden:
        del sys.modules[name]
    sys.path[:0] = list(dict.fromkeys(str(folder.parent) for folder in packages.values()))
    importlib.invalidate_caches()
    try:
        for name, folder in packages.items():
            spec = importlib.util.find_spec(name)
            found = {Path(p).resolve() for p in (spec.submodule_search_locations or ())} if spec else set()
            if folder.resolve() not in found:
                raise TreeError(f"package {name} resolves to {sorted(map(str, found))}, not to {folder}")
        yield
    finally:
        sys.path[:] = saved_path
        for name in [name for name in sys.modules if name.partition(".")[0] in packages]:
            del sys.modules[name]
        sys.modules.update(hidden)
        importlib.invalidate_caches()


def _add_parent_imports(graph: grimp.ImportGraph) -> None:
    for module in list(graph.modules):
        if "." in module and not graph.is_module_squashed(module):
            graph.add_import(importer=module, imported=module.rpartition(".")[0], line_number=0, line_contents=PARENT)


def _hops(graph: grimp.ImportGraph, chain: Sequence[str]) -> tuple[Hop, ...]:
    hops: list[Hop] = []
    for importer, imported in itertools.pairwise(chain):
        details = graph.get_import_details(importer=importer, imported=imported)
        real = [d["line_number"] for d in details if d["line_contents"] != PARENT]
        hops.append(Hop(importer, min(real)) if real else Hop(importer, None, parent=True))
    hops.append(Hop(chain[-1], None))
    return tuple(hops)


def _violation(graph: grimp.ImportGraph, rule: Rule, chain: Sequence[str]) -> Violation:
    return Violation(rule, chain[0], chain[-1], _hops(graph, chain))


def _chains(graph: grimp.ImportGraph, rule: Rule, importer: str, imported: str) -> list[Violation]:
    """Every shortest chain from `importer` or a module in it to `imported` or a module in it."""
    if importer not in graph.modules or imported not in graph.modules:
        return []
    chains = graph.find_shortest_chains(importer, imported, as_packages=True)
    return [_violation(graph, rule, chain) for chain in chains]


def _runtime_framework(graph: grimp.ImportGraph) -> set[str]:
    """The bus's modules, and every runtime module from which FastAPI, Starlette, SQLAlchemy or the bus is reached."""
    bus = {BUS} | graph.find_descendants(BUS) if BUS in graph.modules else set()
    markers = bus | {m for m in FRAMEWORK_MARKERS if m in graph.modules}
    runtime = {RUNTIME} | graph.find_descendants(RUNTIME)
    return bus | {m for m in runtime - bus if any(graph.chain_exists(m, marker) for marker in markers)}


def _domain_violations(
    graph: grimp.ImportGraph, service: str, domain: Iterable[str], framework: set[str]
) -> list[Violation]:
    modules = sorted(domain)
    root = f"{service}.{DOMAIN}"
    found: list[Violation] = []
    for external in DOMAIN_FORBIDDEN_EXTERNAL:
        found += _chains(graph, Rule.DOMAIN_NO_FRAMEWORKS, root, external)
    # One violation per runtime framework module a domain enters, not one per module reached beyond it.
    for module in modules:
        for target in sorted(framework):
            chain = graph.find_shortest_chain(module, target)
            if chain and not framework.intersection(chain[:-1]) and not set(modules).intersection(chain[1:]):
                found.append(_violation(graph, Rule.DOMAIN_NO_RUNTIME_FRAMEWORK, chain))
    for name in OWN_INFRASTRUCTURE:
        found += _chains(graph, Rule.DOMAIN_NO_OWN_INFRASTRUCTURE, root, f"{service}.{name}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the tree to check (default: this repository)")
    args = parser.parse_args(argv)
    try:
        report = check(args.root)
    except TreeError as exc:
        print(f"import rules: {exc}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"import rules: warning: {warning}", file=sys.stderr)
    for violation in report.violations:
        print(violation)
    summary = (
        f"{len(report.services)} services, {sum(map(len, report.domains.values()))} domain modules "
        f"in {len(report.domains)} domains, {len(report.libs)} libraries"
    )
    if report.violations:
        print(f"import rules: {len(report.violations)} violation(s) ({summary})", file=sys.stderr)
        return 1
    print(f"import rules: no violations ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
