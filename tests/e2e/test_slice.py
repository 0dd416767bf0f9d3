"""The first slice end to end: the services as processes behind the gateway, driven over HTTP.

A learner opens a learning account; `AccountOpened` goes through the outbox and the bus; the
notifications service stores a welcome notice, which the learner reads with their token. Runs on
the embedded defaults and on Kafka + PostgreSQL.
"""

import json
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prasmes_devtools.devstack import BACKENDS, Stack, free_base_port
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.servers import create_database
from prasmes_testing.support import eventually, personal_code

from tests.e2e.leak_check import assert_no_personal_code

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["embedded", "kafka"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp(f"stack-{request.param}")
    stack = Stack(
        var_dir=var_dir,
        base_port=free_base_port(),
        bus=request.param,
        extra_env={
            "TRACES_EXPORTER": "file",
            "TRACES_FILE": str(var_dir / "traces.jsonl"),
            "DEV_MODE": "true",
            "RATE_LIMIT_PER_MINUTE": "100000",
            "RATE_LIMIT_BURST": "10000",
        },
    )
    if request.param == "kafka":
        stack.kafka_bootstrap = request.getfixturevalue("kafka_bootstrap")
        server = request.getfixturevalue("postgres_server_url")
        suffix = time.monotonic_ns()
        stack.database_urls = {name: create_database(server, f"e2e_{name}_{suffix}") for name in BACKENDS}
    try:  # a stack that failed to start stops too: its processes would join the next stack's consumer groups
        stack.start()
        yield stack
    finally:
        stack.stop()


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post("/auth/dev-login", json={"username": username})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _open(client: httpx.AsyncClient, headers: dict[str, str], code: str) -> dict[str, str]:
    response = await client.post("/api/accounts/accounts", json={"personal_code": code}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def _welcome(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    found: list[dict[str, object]] = []

    async def arrived() -> bool:
        found[:] = (await client.get("/api/notifications/notifications", headers=headers)).json()["items"]
        return bool(found)

    await eventually(arrived, timeout=30)
    return found[0]


async def test_a_learner_opens_an_account_and_reads_the_welcome_notice(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as client:
        anna = await _login(client, "anna")
        account = await _open(client, anna, personal_code(1))
        notice = await _welcome(client, anna)
        assert notice["kind"] == "welcome"
        mine = await client.get("/api/accounts/accounts/me", headers=anna)
        assert mine.json()["id"] == account["id"]
        again = await client.post("/api/accounts/accounts", json={"personal_code": personal_code(1)}, headers=anna)
        assert again.status_code == 409
        assert again.json()["current"]["account_id"] == account["id"]
        invalid = await client.post("/api/accounts/accounts", json={"personal_code": "111112-11111"}, headers=anna)
        assert invalid.status_code == 422
        assert invalid.json()["errors"][0] | {"message": ""} == {
            "field": "personal_code",
            "rule": "check_digit",
            "message": "",
        }


async def test_learner_a_never_gets_learner_bs_data(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as client:
        janis = await _login(client, "janis")
        account = await _open(client, janis, personal_code(2))
        notice = await _welcome(client, janis)
        anna = await _login(client, "anna")
        assert (await client.get(f"/api/accounts/accounts/{account['id']}", headers=anna)).status_code == 404
        assert (await client.get(f"/api/notifications/notifications/{notice['id']}", headers=anna)).status_code == 404
        annas = (await client.get("/api/notifications/notifications", headers=anna)).json()["items"]
        assert notice["id"] not in {n["id"] for n in annas}


def _tokens(stack: Stack) -> dict[str, str]:
    issuer = stack.token_issuer()
    stranger = TokenIssuer(Ed25519PrivateKey.generate(), issuer="prasmes-identity", audience="prasmes")
    other_audience = TokenIssuer(Ed25519PrivateKey.generate(), issuer="prasmes-identity", audience="elsewhere")
    other_audience._key = issuer._key  # same key and kid, wrong audience
    other_audience.kid = issuer.kid
    other_issuer = TokenIssuer(Ed25519PrivateKey.generate(), issuer="someone-else", audience="prasmes")
    other_issuer._key = issuer._key  # same key and kid: a valid signature, from the wrong issuer
    other_issuer.kid = issuer.kid
    claims = {
        "sub": "anna",
        "roles": ["learner"],
        "aud": "prasmes",
        "iss": "prasmes-identity",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
    }
    return {
        "expired": issuer.issue("anna", ["learner"], ttl_seconds=-60),
        "wrongly signed": stranger.issue("anna", ["learner"]),
        "wrong audience": other_audience.issue("anna", ["learner"]),
        "wrong issuer": other_issuer.issue("anna", ["learner"]),
        "alg none": jwt.encode(claims, key="", algorithm="none", headers={"kid": issuer.kid}),
        "garbage": "not-a-token",
    }


async def test_bad_tokens_are_refused_with_401(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as client:
        good = stack.token_issuer().issue("anna", ["learner"])
        ok = await client.get("/api/notifications/notifications", headers={"Authorization": f"Bearer {good}"})
        assert ok.status_code == 200
        for problem, token in _tokens(stack).items():
            for path in ("/api/accounts/accounts/me", "/api/notifications/notifications"):
                response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 401, f"{problem} on {path}: {response.status_code}"
        assert (await client.get("/api/accounts/accounts/me")).status_code == 401
        forged = await client.get("/api/accounts/accounts/me", headers={"X-User-Id": "anna", "X-Roles": "learner"})
        assert forged.status_code == 401


async def test_each_service_refuses_bad_tokens_itself(stack: Stack) -> None:
    """Called directly, not through the gateway: every service verifies the token on its own."""
    paths = {"accounts": "/accounts/me", "notifications": "/notifications"}
    good = {"Authorization": f"Bearer {stack.token_issuer().issue('anna', ['learner'])}"}
    async with httpx.AsyncClient(timeout=10) as client:
        for name, path in paths.items():
            assert (await client.get(stack.url(name) + path, headers=good)).status_code in (200, 404), name
            for problem, token in _tokens(stack).items():
                response = await client.get(stack.url(name) + path, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 401, f"{problem} on {name}{path}: {response.status_code}"


async def test_the_personal_code_stays_in_accounts(stack: Stack) -> None:
    code = personal_code(3)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as client:
        headers = {"Authorization": f"Bearer {stack.token_issuer().issue('pk-check', ['learner'])}"}
        await _open(client, headers, code)
        await _welcome(client, headers)
    # Read while the services still run: on SQLite the newest rows are in the write-ahead log, not the file.
    report = await assert_no_personal_code(stack, code, extra_files=[stack.var_dir / "traces.jsonl"])
    assert report.values["notifications"] > 0, "the scan read the notifications database (the welcome notice)"
    assert report.records["accounts.accounts"] > 0, "the scan read the AccountOpened events"
    assert report.files[str(stack.var_dir / "logs" / "accounts.log")] > 0


async def test_a_trace_started_at_the_gateway_reaches_the_notifications_consumer(stack: Stack) -> None:
    traces = stack.var_dir / "traces.jsonl"
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as client:
        headers = {"Authorization": f"Bearer {stack.token_issuer().issue('tracer', ['learner'])}"}
        response = await client.post(
            "/api/accounts/accounts", json={"personal_code": personal_code(4)}, headers=headers
        )
        assert response.status_code == 201
        await _welcome(client, headers)
    spans = [json.loads(line) for line in traces.read_text().splitlines()]
    request_ids = {
        s["trace_id"]
        for s in spans
        if s["service"] == "gateway" and s["kind"] == "SERVER" and s["parent_span_id"] is None and "POST" in s["name"]
    }
    consumed = [
        s
        for s in spans
        if s["service"] == "notifications"
        and s["kind"] == "CONSUMER"
        and s["name"] == "process lv.prasmes.accounts.AccountOpened.v1"
    ]
    accounts_spans = {s["trace_id"] for s in spans if s["service"] == "accounts" and s["kind"] == "SERVER"}
    linked = [s for s in consumed if s["trace_id"] in request_ids]
    assert linked, "no notifications consumer span belongs to a trace started at the gateway"
    assert all(s["trace_id"] in accounts_spans for s in linked)
    assert all(s["parent_span_id"] for s in linked)


def test_readiness_reports_database_and_bus(stack: Stack) -> None:
    for name in BACKENDS:  # the api process serves HTTP only; the worker runs (and reports) the background tasks
        body = httpx.get(f"{stack.url(name)}/readyz", timeout=10).json()
        assert body == {"status": "ready", "checks": {"database": "ok", "bus": "ok"}}, name
        body = httpx.get(f"{stack.worker_url(name)}/readyz", timeout=10).json()
        assert body == {"status": "ready", "checks": {"database": "ok", "bus": "ok", "background": "ok"}}, name
    metrics = httpx.get(f"{stack.worker_url('accounts')}/metrics", timeout=10).text
    assert "prasmes_outbox_pending" in metrics
    assert "prasmes_consumer_lag" in httpx.get(f"{stack.worker_url('notifications')}/metrics", timeout=10).text


def test_stack_logs_are_json_lines(stack: Stack) -> None:
    lines = [
        line for line in (stack.var_dir / "logs" / "accounts.log").read_text().splitlines() if line.startswith("{")
    ]
    records = [json.loads(line) for line in lines]
    requests = [r for r in records if r.get("event") == "http.request"]
    assert requests and all(r["request_id"] and r["service"] == "accounts" for r in requests)
    assert any("trace_id" in r for r in requests)
