"""The catalog end to end: the gateway and the catalog service as processes, driven over HTTP.

An institution registers with a signed statement, an agency officer approves it, its administrator adds a
location and a programme; the cooperation agreement (calls' event, put on the bus here because the calls
service is not built yet) publishes it; a group is scheduled; an enrolment (accounts' event) takes a
place; anyone without a token finds the programme and the group's free places in the public catalogue.
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prasmes_contracts import CloudEvent, Event, to_kafka, topic_for
from prasmes_contracts.accounts import EnrolmentConfirmed
from prasmes_contracts.calls import CooperationAgreementSigned
from prasmes_devtools.demo_catalog import seed_demo
from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_testing import samples
from prasmes_testing.support import eventually

pytestmark = pytest.mark.e2e
API = "/api/catalog"
ADMIN_EMAIL = "e2e.admin@example.lv"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        var_dir=tmp_path_factory.mktemp("catalog-stack"),
        base_port=free_base_port(),
        extra_env={"DEV_MODE": "true", "RATE_LIMIT_PER_MINUTE": "100000", "RATE_LIMIT_BURST": "10000"},
    )
    try:  # a stack that failed to start stops too
        stack.start(("gateway", "catalog"))
        yield stack
    finally:
        stack.stop()


async def _publish(stack: Stack, event: Event) -> None:
    envelope = CloudEvent(source="/e2e", type=event.event_type(), data=event.model_dump(mode="json"))
    producer = EmbeddedBus(stack.var_dir / "events.db").producer()
    await producer.send_many([(topic_for(type(event)).name, to_kafka(envelope, event.partition_key()))])
    await producer.stop()


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, str]:
    assert response.status_code == status, response.text
    body: dict[str, str] = response.json()
    return body


async def test_from_registration_to_free_places_in_the_public_catalogue(stack: Stack) -> None:
    admin = {"Authorization": f"Bearer {stack.token_issuer().issue('e2e-admin', ['provider_admin'])}"}
    today = datetime.now(UTC).date()
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as client:
        ilze_token = (await client.post("/auth/dev-login", json={"username": "ilze"})).json()["access_token"]
        officer = {"Authorization": f"Bearer {ilze_token}"}
        statement = await _ok(
            await client.post(
                f"{API}/documents",
                params={"purpose": "statement", "filename": "apliecinajums.pdf"},
                content=samples.pades_pdf(),
                headers={**admin, "Content-Type": "application/pdf"},
            ),
            201,
        )
        payload = samples.registration_payload(statement["id"], "3360800005")
        payload["admin"] = {"name": "Kārlis Bērziņš", "email": ADMIN_EMAIL}
        institution = await _ok(await client.post(f"{API}/providers", json=payload, headers=admin), 201)
        institution_id = institution["id"]
        pending = await _ok(await client.get(f"{API}/providers", params={"status": "pending"}, headers=officer))
        assert institution_id in {p["id"] for p in pending}  # type: ignore[index]
        await _ok(await client.post(f"{API}/providers/{institution_id}/approve", headers=officer))

        location = await _ok(
            await client.post(
                f"{API}/providers/{institution_id}/locations",
                json={"address": "Lāčplēša iela 1, Rīga, LV-1010"},
                headers=admin,
            ),
            201,
        )
        curriculum = await _ok(
            await client.post(
                f"{API}/documents",
                params={"purpose": "curriculum", "filename": "plans.pdf"},
                content=samples.plain_pdf(),
                headers=admin,
            ),
            201,
        )
        programme_form = samples.programme_payload(
            [location["id"]],
            curriculum["id"],
            title={"lv": "Programmēšanas pamati", "en": "Programming basics"},
            licence_number="P-5005",
            licence_date="2022-01-17",
            theory_hours=70,
            practice_hours=90,
        )
        programme = await _ok(
            await client.post(f"{API}/providers/{institution_id}/programmes", json=programme_form, headers=admin), 201
        )
        assert programme["cost"]["per_participant"] == "320.00"  # type: ignore[index]
        programme_id = programme["id"]

        await _publish(
            stack,
            CooperationAgreementSigned(
                offer_id=uuid.uuid4(),
                call_id=uuid.uuid4(),
                institution_id=uuid.UUID(institution_id),
                programme_ids=[uuid.UUID(programme_id)],
                at=datetime.now(UTC),
                valid_until=today + timedelta(days=200),
            ),
        )

        async def published() -> bool:
            return (await client.get(f"{API}/public/programmes/{programme_id}")).status_code == 200

        await eventually(published, timeout=30)
        group = await _ok(
            await client.post(
                f"{API}/providers/{institution_id}/programmes/{programme_id}/groups",
                json={
                    "location_id": location["id"],
                    "start_date": (today + timedelta(days=14)).isoformat(),
                    "end_date": (today + timedelta(days=90)).isoformat(),
                    "schedule": "Pirmdienās un trešdienās 18:00-21:00",
                    "capacity": 15,
                    "language": "lv",
                    "entry_level": 2,
                },
                headers=admin,
            ),
            201,
        )
        await _publish(
            stack,
            EnrolmentConfirmed(
                enrolment_id=uuid.uuid4(),
                application_id=uuid.uuid4(),
                learner_id="anna",
                project_code="IMK",
                programme_id=uuid.UUID(programme_id),
                group_id=uuid.UUID(group["id"]),
                institution_id=uuid.UUID(institution_id),
                at=datetime.now(UTC),
            ),
        )

        async def one_place_taken() -> bool:
            page = (
                await client.get(
                    f"{API}/public/programmes",
                    params={"q": "programmesanas pamati", "city": "Riga", "free_places": True},
                )
            ).json()
            return bool(page["total"] == 1 and page["items"][0]["groups"][0]["free_places"] == 14)

        await eventually(one_place_taken, timeout=30)
        page = (await client.get(f"{API}/public/programmes", params={"q": "programmesanas pamati"})).json()
        item = page["items"][0]
        assert item["institution"]["name"] == "Vidzemes Digitālo prasmju centrs"
        assert (item["cost_per_participant"], item["entry_level"], item["rating"]["raters"]) == ("320.00", 3, 0)
        assert [(g["id"], g["city"], g["free_places"]) for g in item["groups"]] == [(group["id"], "Rīga", 14)]
        learners = await _ok(await client.get(f"{API}/providers/{institution_id}/groups/{group['id']}", headers=admin))
        assert [row["learner_id"] for row in learners["learners"]] == ["anna"]  # type: ignore[index]

    for log in (stack.var_dir / "logs").glob("*.log"):
        assert ADMIN_EMAIL not in log.read_text(errors="replace"), log.name
    assert ADMIN_EMAIL.encode() not in (stack.var_dir / "events.db").read_bytes()


async def test_uploads_are_capped_by_the_service_and_by_the_gateway(stack: Stack) -> None:
    headers = {"Authorization": f"Bearer {stack.token_issuer().issue('uploader', ['provider_admin'])}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        url = f"{API}/documents?purpose=statement&filename=a.pdf"
        over_service = await client.post(url, content=b"%PDF-1.7\n" + b"0" * (9 * 1024 * 1024), headers=headers)
        assert over_service.status_code == 422
        assert over_service.json()["errors"][0]["rule"] == "max_size"
        over_gateway = await client.post(url, content=b"0" * (11 * 1024 * 1024), headers=headers)
        assert over_gateway.status_code == 413
        renamed_text = await client.post(
            f"{API}/documents?purpose=statement&filename=apliecinajums.edoc", content=b"tikai teksts", headers=headers
        )
        assert renamed_text.json()["errors"][0] == {
            "field": "file",
            "rule": "file_type",
            "message": "the content is neither a PDF nor an ASiC-E container (.edoc/.asice)",
        }


def test_the_demo_seed_is_idempotent(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=20) as client:
        first = seed_demo(client)
        again = seed_demo(client)
        assert first == again
        token = client.post("/auth/dev-login", json={"username": "liga"}).json()["access_token"]
        mine = client.get(f"{API}/providers/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert mine["institution"]["status"] == "approved"
    assert mine["institution"]["id"] == first["institution_id"]
