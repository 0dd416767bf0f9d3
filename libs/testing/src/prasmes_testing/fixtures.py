"""The pytest fixtures every test may use (the repository's conftest.py loads this plugin): real servers,
fresh databases, both bus backends, the identity provider's tokens.

Kafka and PostgreSQL come from the environment (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL), from
testcontainers where a Docker engine answers, or are started here. A test that needs one and
cannot get it fails; nothing skips itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from prasmes_runtime.auth import TokenIssuer, TokenVerifier, load_or_create_key
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.bus.kafka import KafkaBus

from prasmes_testing.migrated import MigratedTemplates, installed
from prasmes_testing.servers import create_database, kafka_server, postgres_server

if TYPE_CHECKING:
    from prasmes_testing.smtp import MailServer


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with kafka_server() as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    """Each service's migrations run once; an empty database upgraded to the heads becomes a copy (`migrated`)."""
    with installed(tmp_path_factory.mktemp("migrated")) as templates:
        yield templates


@pytest.fixture(autouse=True)
def _real_migrations_when_marked(request: pytest.FixtureRequest, migrated_templates: MigratedTemplates) -> None:
    """A test marked `real_migrations` (one about the migrations themselves) runs them, not a copy of their result."""
    migrated_templates.enabled = request.node.get_closest_marker("real_migrations") is None


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """A fresh, empty database for one test."""
    return create_database(postgres_server_url, f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Both databases the platform runs on."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def embedded_bus(tmp_path: Path) -> EmbeddedBus:
    return EmbeddedBus(tmp_path / "events.db")


@pytest.fixture
def kafka_bus(kafka_bootstrap: str) -> KafkaBus:
    return KafkaBus(kafka_bootstrap, partitions=3)


@pytest.fixture(params=["embedded", "kafka"])
def bus(request: pytest.FixtureRequest) -> EmbeddedBus | KafkaBus:
    """The same behaviour suite runs against both backends."""
    chosen: EmbeddedBus | KafkaBus = request.getfixturevalue(f"{request.param}_bus")
    return chosen


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server (plain, no AUTH) on 127.0.0.1 for one test; TLS and AUTH ones: `MailServer(...)`."""
    from prasmes_testing.smtp import MailServer  # aiosmtpd only for the tests that send mail

    with MailServer() as server:
        yield server


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic and group names shared on one broker."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def token_issuer(tmp_path_factory: pytest.TempPathFactory) -> TokenIssuer:
    key = load_or_create_key(tmp_path_factory.mktemp("identity") / "signing-key.pem")
    return TokenIssuer(key, issuer="prasmes-identity", audience="prasmes")


@pytest.fixture
def token_verifier(token_issuer: TokenIssuer) -> TokenVerifier:
    return TokenVerifier(issuer="prasmes-identity", audience="prasmes", jwks=token_issuer.jwks())


@pytest.fixture
def bearer(token_issuer: TokenIssuer) -> Callable[..., dict[str, str]]:
    """Authorization headers for a subject with roles (default: a learner)."""

    def headers(subject: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_issuer.issue(subject, roles or ('learner',))}"}

    return headers
