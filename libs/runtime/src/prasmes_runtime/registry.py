"""The service registry: every service of the platform, read from `services.toml` beside this module.

The runtime never imports a service: it knows each by name, and the conventions below name the rest.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

REGISTRY_FILE = Path(__file__).with_name("services.toml")


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port_offset: int
    edge: bool = False
    """The gateway: in front of the others, not itself routed to."""
    front: bool = False
    """A web front end (services/web): a backend for the front end that calls the gateway like any client. It owns
    no database and runs no worker, and the gateway does not route to it."""
    package: str = ""
    """The Python package under `src/`; default: the name (see services.toml for when it differs)."""

    def __post_init__(self) -> None:
        if not self.package:
            object.__setattr__(self, "package", self.name)

    @property
    def backend(self) -> bool:
        """Behind the gateway: owns a database, is routed to as /api/<name>/, runs an api and a worker process."""
        return not (self.edge or self.front)

    @property
    def distribution(self) -> str:
        return f"prasmes-{self.name}"

    @property
    def folder(self) -> str:
        """Relative to the repository root."""
        return f"services/{self.name}"

    @property
    def factory(self) -> str:
        """The ASGI app factory uvicorn starts (`--factory`)."""
        return f"{self.package}.app:app_factory"

    @property
    def definition(self) -> str:
        """`module:attribute` of the service's `ServiceDefinition` (a backend's only)."""
        return f"{self.package}.app:DEFINITION"


def load(path: Path = REGISTRY_FILE) -> tuple[ServiceEntry, ...]:
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["services"]
    return tuple(
        ServiceEntry(
            str(e["name"]), i, bool(e.get("edge", False)), bool(e.get("front", False)), str(e.get("package", ""))
        )
        for i, e in enumerate(entries)
    )


SERVICES: tuple[ServiceEntry, ...] = load()
BACKENDS: tuple[str, ...] = tuple(s.name for s in SERVICES if s.backend)
"""The services behind the gateway: each owns a database and is routed to as /api/<name>/."""


def entry(name: str) -> ServiceEntry:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(f"no service {name!r} in {REGISTRY_FILE.name}")


def default_urls(base_port: int = 8000, host: str = "127.0.0.1") -> dict[str, str]:
    """Where each backend listens on one machine (the launcher's layout)."""
    return {s.name: f"http://{host}:{base_port + s.port_offset}" for s in SERVICES if s.backend}
