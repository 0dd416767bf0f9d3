"""The launcher gives each service a client secret of its own, made once and kept private in var_dir, and the
gateway only their hashes: what a service sends as SERVICE_CLIENT_SECRET is what the gateway's SERVICE_CLIENTS knows."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from gateway.settings import GatewaySettings
from prasmes_devtools.devstack import SERVICES, Stack


def test_each_service_gets_its_own_secret_and_the_gateway_their_hashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICE_CLIENT_SECRET", "from-the-shell")  # never passed on to every service
    stack = Stack(var_dir=tmp_path)
    services = [s.name for s in SERVICES if s.backend]
    given = {name: stack.env_for(name, "api")["SERVICE_CLIENT_SECRET"] for name in services}
    assert len(set(given.values())) == len(services) and "from-the-shell" not in given.values()
    assert all(len(secret) >= 40 for secret in given.values())

    gateway = stack.env_for("gateway", "edge")
    assert "SERVICE_CLIENT_SECRET" not in gateway
    clients = json.loads(gateway["SERVICE_CLIENTS"])
    assert clients == {name: hashlib.sha256(secret.encode()).hexdigest() for name, secret in given.items()}
    assert GatewaySettings(service_clients=clients).service_clients == clients  # the gateway takes them as they are

    for name in services:
        path = tmp_path / "secrets" / f"{name}.secret"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    again = Stack(var_dir=tmp_path)  # a second start keeps them
    assert {name: again.env_for(name)["SERVICE_CLIENT_SECRET"] for name in services} == given
